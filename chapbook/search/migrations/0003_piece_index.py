"""PostgreSQL: the chapter pieces get their GIN index back.

A phrase whose words are all in few pieces (a remembered line) is now looked for in
those pieces alone, which the index finds, rather than in every piece of every work that
has its words (`chapbook.search.postgres._phrase_works`). SQLite's index is unchanged.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        # A GIN build keeps its entries in memory and writes them out when it is full.
        schema_editor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        schema_editor.execute("CREATE INDEX IF NOT EXISTS search_chunk_body_idx ON search_chunk USING gin (body)")


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_chunk_body_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_word_pairs"),
    ]

    operations = [migrations.RunPython(forward, backward)]
