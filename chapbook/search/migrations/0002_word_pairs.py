"""Word pairs in SQLite's search index (`chapbook.search.pairs`), and PostgreSQL fixes.

SQLite: the tables index each field with its common words paired, and `search_fts`
gains a `common` column. An FTS5 table cannot take a new column, and a contentless one
cannot be copied, so it is made again and the index rebuilt.

PostgreSQL: words of letters and digits ("0À", "r2d2") fold accents as every other word
did (the query always had), and a hyphenated word is indexed as its parts only, as on
SQLite: the parser also gave the whole word ("well-known") a position of its own, ahead
of its parts, so a phrase running into it ("a well-known fact", which the query reads as
four words) never matched. Both need the index rebuilt. The chapter pieces lose their
GIN index: every query of them names its works, and the primary key serves.

The rebuild runs the search backend as it is now, not as it was at this migration: it
is the same code `chapbook reindex --search-only` runs. A new archive has no works and
skips it.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TOKENIZE = "porter unicode61 remove_diacritics 2"

SQLITE_FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, summary, notes, tags, creators, body, common,"
    f" content='', tokenize='{TOKENIZE}')"
)
SQLITE_FTS_BEFORE = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, summary, notes, tags, creators, body,"
    f" content='', tokenize='{TOKENIZE}')"
)


def _rebuild(apps: Any) -> None:
    if apps.get_model("works", "Work").objects.exists():
        from chapbook.search.backend import get_backend

        get_backend().reindex_all()


POSTGRESQL_NUMBERED = "numword, hword_numpart"
POSTGRESQL_COMPOUNDS = "hword, asciihword, numhword"


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS search_fts")
        schema_editor.execute(SQLITE_FTS)
    else:
        schema_editor.execute(
            f"ALTER TEXT SEARCH CONFIGURATION chapbook_english ALTER MAPPING FOR {POSTGRESQL_NUMBERED} WITH unaccent, simple"
        )
        schema_editor.execute(f"ALTER TEXT SEARCH CONFIGURATION chapbook_english DROP MAPPING FOR {POSTGRESQL_COMPOUNDS}")
        # Every query of the chapter pieces names its works: the primary key serves.
        schema_editor.execute("DROP INDEX IF EXISTS search_chunk_body_idx")
    _rebuild(apps)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TEXT SEARCH CONFIGURATION chapbook_english ALTER MAPPING FOR {POSTGRESQL_NUMBERED} WITH simple"
        )
        schema_editor.execute("CREATE INDEX IF NOT EXISTS search_chunk_body_idx ON search_chunk USING gin (body)")
        for statement in (
            "ADD MAPPING FOR hword WITH unaccent, chapbook_english_stem",
            "ADD MAPPING FOR asciihword WITH chapbook_english_stem",
            "ADD MAPPING FOR numhword WITH simple",
        ):
            schema_editor.execute(f"ALTER TEXT SEARCH CONFIGURATION chapbook_english {statement}")
    if schema_editor.connection.vendor == "sqlite":
        # The earlier code's index, empty until `chapbook reindex --search-only`.
        schema_editor.execute("DROP TABLE IF EXISTS search_fts")
        schema_editor.execute(SQLITE_FTS_BEFORE)
        schema_editor.execute("DROP TABLE IF EXISTS search_meta")
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE search_meta USING fts5(title, summary, notes, tags, creators, content='', tokenize='{TOKENIZE}')"
        )
        schema_editor.execute("DELETE FROM search_indexed")


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
