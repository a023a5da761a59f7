"""PostgreSQL: the chapter pieces get their GIN index back, and cheaper reads.

A phrase whose words are all in few pieces (a remembered line) is now looked for in
those pieces alone, which the index finds, rather than in every piece of every work that
has its words (`chapbook.search.postgres._phrase_works`). Pieces written from now on
keep their vectors in the table's pages (`toast_tuple_target`), and the planner gets the
common words' frequencies in `words`. Pieces are now cut at 1,000 words rather than
2,000; the pieces already indexed stay as they are, and work as before, until
`chapbook reindex --search-only`. SQLite's index is unchanged.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

# As `chapbook.search.postgres.create_statements` makes them, written out here so that
# this migration stays what it was.
TUNING = (
    "ALTER TABLE search_chunk SET (toast_tuple_target = 8160)",
    "ALTER TABLE search_work ALTER COLUMN words SET STATISTICS 100",
    "ANALYZE search_work",
)


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        # A GIN build keeps its entries in memory and writes them out when it is full.
        schema_editor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        schema_editor.execute("CREATE INDEX IF NOT EXISTS search_chunk_body_idx ON search_chunk USING gin (body)")
        for statement in TUNING:
            schema_editor.execute(statement)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_chunk_body_idx")
        schema_editor.execute("ALTER TABLE search_chunk RESET (toast_tuple_target)")
        schema_editor.execute("ALTER TABLE search_work ALTER COLUMN words SET STATISTICS 10")


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_word_pairs"),
    ]

    operations = [migrations.RunPython(forward, backward)]
