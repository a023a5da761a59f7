"""PostgreSQL: words joined by ASCII punctuation are indexed one by one.

PostgreSQL's parser kept "Kirk/Spock", "U.S.", "3.14" or "x@y.com" whole, as one lexeme,
where the query (and SQLite) reads two words or more: a relationship tag's works were not
found by `tag:"Kirk/Spock"`, nor by `Spock` through that tag. The index is now written
with that punctuation made spaces (`chapbook.search.postgres._separated`), which needs it
rebuilt: as `chapbook reindex --search-only` does, on one thread inside `migrate`. A new
archive has no works and skips it; SQLite's index is unchanged.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql" and apps.get_model("works", "Work").objects.exists():
        from chapbook.search.backend import get_backend

        get_backend().reindex_all()


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0003_piece_index"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
