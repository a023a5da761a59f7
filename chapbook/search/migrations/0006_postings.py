"""PostgreSQL: the phrase index, where each word of the chapters stands.

A phrase found in most works was confirmed by reading a piece of each of them; the
phrase index (`chapbook.search.postings`) keeps the places of the words, so a phrase is
a few lists lined up. The pieces' GIN index, which found the pieces holding a rare
phrase's words, is dropped: the phrase index answers that too. Two tables: the lists (`search_posting`), and the works whose lists
are out of date until their block is written again (`search_unposted`). The tables are
written out here as `chapbook.search.postgres.create_statements` makes them, so that this
migration stays what it was; their lists are written from the chapters, on one thread
inside `migrate`, when there are works. SQLite's index is unchanged.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

CREATE = (
    'CREATE TABLE search_posting (token text COLLATE "C" NOT NULL, block integer NOT NULL,'
    " part integer NOT NULL, positions bytea NOT NULL, PRIMARY KEY (token, block, part))",
    "ALTER TABLE search_posting ALTER COLUMN positions SET STORAGE PLAIN",
    "CREATE INDEX search_posting_block_idx ON search_posting (block)",
    "CREATE TABLE search_unposted (work_id bigint PRIMARY KEY)",
)


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in CREATE:
        schema_editor.execute(statement)
    # What the pieces' GIN index found (the pieces holding a rare phrase's words), the
    # phrase index answers.
    schema_editor.execute("DROP INDEX IF EXISTS search_chunk_body_idx")
    if apps.get_model("works", "Work").objects.exists():
        from chapbook.search.postgres import PostgresBackend

        PostgresBackend().write_postings()
        schema_editor.execute("ANALYZE search_posting")


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS search_posting")
        schema_editor.execute("DROP TABLE IF EXISTS search_unposted")
        schema_editor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        schema_editor.execute("CREATE INDEX IF NOT EXISTS search_chunk_body_idx ON search_chunk USING gin (body)")


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0005_parts"),
    ]

    operations = [migrations.RunPython(forward, backward)]
