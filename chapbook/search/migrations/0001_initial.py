"""The search index's tables: FTS5 on SQLite, tsvectors with GIN indexes on PostgreSQL.

They are not models: only the backend (`chapbook.search.sqlite`, `.postgres`) reads or
writes them, and the ORM has no field for an FTS5 table. Each database gets only its
own backend's tables. `chapbook reindex --search-only` fills them.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TOKENIZE = "porter unicode61 remove_diacritics 2"

SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, summary, notes, tags, creators, body,"
    f" content='', tokenize='{TOKENIZE}')",
    f"CREATE VIRTUAL TABLE search_meta USING fts5(title, summary, notes, tags, creators, content='', tokenize='{TOKENIZE}')",
    "CREATE TABLE search_indexed (work_id INTEGER PRIMARY KEY, fields BLOB NOT NULL)",
]
SQLITE_REVERSE = ["DROP TABLE IF EXISTS search_fts", "DROP TABLE IF EXISTS search_meta", "DROP TABLE IF EXISTS search_indexed"]

POSTGRESQL = [
    # unaccent is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # Snowball's English stemmer with no stop-word list, as FTS5 has none.
    "CREATE TEXT SEARCH DICTIONARY chapbook_english_stem (TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION chapbook_english (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION chapbook_english ALTER MAPPING FOR hword, hword_part, word"
    " WITH unaccent, chapbook_english_stem",
    "ALTER TEXT SEARCH CONFIGURATION chapbook_english ALTER MAPPING FOR asciihword, asciiword, hword_asciipart"
    " WITH chapbook_english_stem",
    "CREATE TABLE search_work (work_id bigint PRIMARY KEY, title tsvector NOT NULL, summary tsvector NOT NULL,"
    " notes tsvector NOT NULL, tags tsvector NOT NULL, creators tsvector NOT NULL, words tsvector NOT NULL)",
    "CREATE TABLE search_chunk (work_id bigint NOT NULL, chapter integer NOT NULL, part integer NOT NULL,"
    " body tsvector NOT NULL, PRIMARY KEY (work_id, chapter, part))",
    *(
        f"CREATE INDEX search_work_{column}_idx ON search_work USING gin ({column})"
        for column in ("title", "summary", "notes", "tags", "creators", "words")
    ),
    "CREATE INDEX search_chunk_body_idx ON search_chunk USING gin (body)",
]
POSTGRESQL_REVERSE = [
    "DROP TABLE IF EXISTS search_work",
    "DROP TABLE IF EXISTS search_chunk",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS chapbook_english",
    "DROP TEXT SEARCH DICTIONARY IF EXISTS chapbook_english_stem",
]


def _run(schema_editor: Any, statements: dict[str, list[str]]) -> None:
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def create(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"sqlite": SQLITE, "postgresql": POSTGRESQL})


def drop(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE})


class Migration(migrations.Migration):
    dependencies = [
        ("works", "0002_work_work_revised_idx"),
    ]

    operations = [migrations.RunPython(create, drop)]
