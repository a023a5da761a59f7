"""No phrase runs across two chapters, tags or creators; PostgreSQL's pieces overlap.

SQLite indexed a work's chapters as one run of words, and both backends its tags and its
creators: `"for a long moment"` found a work whose first chapter ends "for a" and whose
second begins "Long moment", and `tag:"Vance Jonah"` one tagged "Odile Vance" and "Jonah
Mercer". The parts are now kept apart (`Document.parts`). PostgreSQL cut a chapter into
pieces with no overlap, so a phrase across a cut between two pieces was never found; the
pieces now share their edges (`postgres.OVERLAP`). Both need the index rebuilt: as
`chapbook reindex --search-only` does, on one thread inside `migrate`. A new archive has
no works and skips it.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def forward(apps: Any, schema_editor: Any) -> None:
    if apps.get_model("works", "Work").objects.exists():
        from chapbook.search.backend import get_backend

        get_backend().reindex_all()


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0004_punctuation"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
