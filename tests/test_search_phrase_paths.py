"""A phrase matches the same works whichever way PostgreSQL looks for it.

PostgreSQL finds a phrase in its phrase index (`postings`), or confirms it in the chapter
pieces, either through the pieces' GIN index (when few pieces have all its words) or
work by work (when many do); the limit between the two is `SEARCH_PG_PIECE_LIMIT`. The
phrase index says nothing of a work indexed since its block was written (unposted):
that work's pieces are read. Each test here runs every way, filters or not, and asserts
the same answers. On SQLite the settings mean nothing, and the same answers hold.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from django.db import connection

from chapbook.search.backend import SearchTooSlow, get_backend
from chapbook.works.models import Work
from tests import test_search_backend
from tests.test_search_backend import chapters, found, q, term

pytestmark = pytest.mark.django_db

post = test_search_backend.post

ALWAYS_WORK_BY_WORK = 0
ALWAYS_THE_INDEX = 1_000_000


@pytest.fixture(
    params=[("phrase-index", 0), ("unposted", 0), ("work-by-work", ALWAYS_WORK_BY_WORK), ("piece-index", ALWAYS_THE_INDEX)],
    ids=lambda param: param[0],
)
def piece_limit(request: Any, settings: Any) -> int:
    way, limit = request.param
    settings.SEARCH_PG_PHRASE_INDEX = way in ("phrase-index", "unposted")
    if way == "unposted" and connection.vendor == "postgresql":
        # Every work indexed since its block was written, and the block's lists gone:
        # only the pieces can say.
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_unposted SELECT work_id FROM search_work ON CONFLICT DO NOTHING")
            cursor.execute("DELETE FROM search_posting")
    settings.SEARCH_PG_PIECE_LIMIT = limit
    # However few works the filters leave, the pieces are counted (and below the limit, the index used).
    settings.SEARCH_PG_FEW_WORKS = 0
    return int(limit)


@pytest.fixture
def archive(post: Callable[..., Work]) -> dict[str, Work]:
    return {
        "in a row": post(title="In a row", chapters=chapters("Quiet.", "He looked at her for a long moment.")),
        "apart": post(title="Apart", chapters=chapters("She waited for a long time. A long moment passed.")),
        "title": post(title="For a Long Moment", chapters=chapters("Nothing here.")),
        "summary": post(title="Summary", summary="<p>It lasted for a long moment.</p>", chapters=chapters("No.")),
        "other": post(title="Other", chapters=chapters("The lighthouse keeper owed her a song.")),
    }


def test_a_phrase_finds_its_works_in_the_text_title_and_summary(archive: dict[str, Work], piece_limit: int) -> None:
    assert found(q("for a long moment")) == {"In a row", "For a Long Moment", "Summary"}
    assert found(q("the lighthouse keeper owed her a song")) == {"Other"}
    assert found(q("keeper owed her a moment")) == set()
    # A common word last, after a rarer one: the phrase index gives the works holding the
    # rest ("keeper owed"), and their pieces are read.
    assert found(q("keeper owed her")) == {"Other"}
    assert found(q("a long moment passed")) == {"Apart"}
    assert found(q("long time a")) == {"Apart"}
    assert found(q("long time her")) == set()


def test_an_excluded_phrase_leaves_out_the_works_that_hold_it(archive: dict[str, Work], piece_limit: int) -> None:
    assert found(q("long", exclude=("for a long moment",))) == {"Apart"}


def test_a_phrase_or_a_word_finds_either(archive: dict[str, Work], piece_limit: int) -> None:
    assert found(q(("keeper owed her", "summary"))) == {"Other", "Summary"}
    assert found(q(("keeper owed her", term("long moment", "title")))) == {"Other", "For a Long Moment"}


def test_a_phrase_within_filtered_works_finds_only_those(archive: dict[str, Work], piece_limit: int) -> None:
    within = np.array(sorted([archive["in a row"].pk, archive["apart"].pk, archive["other"].pk]), dtype=np.int64)
    hits = get_backend().match(q("for a long moment"), within=within)
    # `within` is a hint a backend may ignore (SQLite does); the caller intersects.
    assert set(hits.ids.tolist()) & set(within.tolist()) == {archive["in a row"].pk}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's pieces and their GIN index")
def test_the_piece_index_is_used_only_while_few_pieces_have_the_words(archive: dict[str, Work], settings: Any) -> None:
    from chapbook.search import postgres

    query = q("for a long moment")
    backend = postgres.PostgresBackend()
    in_a_row = {"for a long moment": postgres.Found([archive["in a row"].pk], [])}
    settings.SEARCH_PG_PHRASE_INDEX = False
    with connection.cursor() as cursor:
        settings.SEARCH_PG_PIECE_LIMIT = 100
        assert postgres._phrase_works(cursor, backend, query, None) == in_a_row
        # "In a row" and "Apart" have all four words in a piece: two pieces, over a limit of one.
        settings.SEARCH_PG_PIECE_LIMIT = 1
        assert postgres._phrase_works(cursor, backend, query, None) == {}
        # A filter leaving few works: work by work, no count.
        settings.SEARCH_PG_PIECE_LIMIT = 100
        within = np.array(sorted([archive["in a row"].pk, archive["apart"].pk]), dtype=np.int64)
        assert postgres._phrase_works(cursor, backend, query, within) == {}
        settings.SEARCH_PG_FEW_WORKS = 1
        assert postgres._phrase_works(cursor, backend, query, within) == in_a_row
        # The phrase index answers, the pieces unread; but for filters leaving fewer
        # works than its lists have rows (three here), the works are read.
        settings.SEARCH_PG_PHRASE_INDEX = True
        settings.SEARCH_PG_FEW_WORKS = 8000
        assert postgres._phrase_works(cursor, backend, query, within) == {}
        more = np.array(sorted(w.pk for w in archive.values()), dtype=np.int64)
        assert postgres._phrase_works(cursor, backend, query, more) == in_a_row
        # Of the filters' works only: "In a row" is left out of them.
        fewer = np.array([archive["apart"].pk, archive["title"].pk, archive["other"].pk], dtype=np.int64)
        assert postgres._phrase_works(cursor, backend, query, fewer) == {"for a long moment": postgres.Found([], [])}
        settings.SEARCH_PG_FEW_WORKS = 0
        assert postgres._phrase_works(cursor, backend, query, within) == in_a_row


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plans")
def test_reading_the_pieces_of_named_works_goes_through_the_primary_key(archive: dict[str, Work]) -> None:
    """A common word beside `work_id = ANY(...)` must not send the planner to the GIN
    index, which would recheck every piece of the archive holding it."""
    from chapbook.search import postgres

    ids = [work.pk for work in archive.values()]
    with postgres._index_scans() as cursor:
        cursor.execute(
            f"EXPLAIN SELECT work_id FROM {postgres._pieces_of('search_chunk', 'ANY(%s)')}"
            f" WHERE body @@ plainto_tsquery('{postgres.CONFIG}', 'long')",
            [ids],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "search_chunk_pkey" in plan
    assert "search_chunk_body_idx" not in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's pieces and their GIN index")
def test_a_count_of_pieces_cut_short_means_many_and_leaves_the_transaction_usable(
    archive: dict[str, Work], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chapbook.search import postgres

    settings.SEARCH_PG_PROBE_MS = 10
    with postgres._index_scans() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        before = cursor.fetchone()[0]
        assert postgres._few_pieces(cursor, "search_chunk", "lighthouse keeper", 100)
        # A count slower than its time: as if the index had to merge enormous lists.
        monkeypatch.setattr(postgres, "WORDS", f"(SELECT plainto_tsquery('{postgres.CONFIG}', %s) FROM pg_sleep(0.1))")
        assert not postgres._few_pieces(cursor, "search_chunk", "lighthouse keeper", 100)
        cursor.execute("SELECT current_setting('statement_timeout'), 1")
        assert cursor.fetchone() == (before, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's pieces and their GIN index")
def test_a_phrase_of_common_words_only_is_confirmed_work_by_work(archive: dict[str, Work]) -> None:
    from chapbook.search import postgres

    with connection.cursor() as cursor:
        assert not postgres._few_pieces(cursor, "search_chunk", "for a", 1_000_000)
        assert postgres._few_pieces(cursor, "search_chunk", "for a long", 1_000_000)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the migration changes PostgreSQL's tables only")
def test_the_piece_index_migration_adds_the_index_and_settings_without_a_rebuild(archive: dict[str, Work]) -> None:
    import importlib

    from django.apps import apps as global_apps

    migration = importlib.import_module("chapbook.search.migrations.0003_piece_index")

    def state() -> tuple[bool, str, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT FROM pg_indexes WHERE indexname = 'search_chunk_body_idx'),"
                " coalesce(array_to_string((SELECT reloptions FROM pg_class WHERE relname = 'search_chunk'), ','), ''),"
                " (SELECT attstattarget FROM pg_attribute WHERE attrelid = 'search_work'::regclass AND attname = 'words')"
            )
            return cursor.fetchone()

    with connection.schema_editor() as editor:
        migration.backward(global_apps, editor)
    assert state() == (False, "", 10)
    assert found(q("for a long moment")) == {"In a row", "For a Long Moment", "Summary"}
    with connection.schema_editor() as editor:
        migration.forward(global_apps, editor)
    assert state() == (True, "toast_tuple_target=8160", 100)
    assert found(q("the lighthouse keeper owed her a song")) == {"Other"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statement timeout")
def test_a_search_over_its_time_is_too_slow_and_leaves_the_connection_as_it_was(
    archive: dict[str, Work], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chapbook.search import postgres

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        before = cursor.fetchone()[0]
    settings.SEARCH_TIMEOUT_MS = 50
    # Every search statement slower than its time, as a phrase read in every work would be.
    monkeypatch.setattr(postgres, "WORDS", f"(SELECT plainto_tsquery('{postgres.CONFIG}', %s) FROM pg_sleep(0.2))")
    monkeypatch.setattr(postgres, "PHRASE", f"(SELECT phraseto_tsquery('{postgres.CONFIG}', %s) FROM pg_sleep(0.2))")
    with pytest.raises(SearchTooSlow):
        get_backend().match(q("for a long moment"))

    monkeypatch.undo()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        assert cursor.fetchone()[0] == before
    assert found(q("for a long moment")) == {"In a row", "For a Long Moment", "Summary"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's progress handler")
def test_a_search_past_its_time_is_interrupted_and_the_connection_works_after(
    archive: dict[str, Work], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chapbook.search import sqlite

    settings.SEARCH_TIMEOUT_MS = 0
    monkeypatch.setattr(sqlite, "CLOCK_STEPS", 1)  # the clock read at the first step
    with pytest.raises(SearchTooSlow):
        get_backend().match(q("for a long moment"))
    # The limit was the search's alone: the connection's next statements run to the end.
    assert Work.objects.filter(title="In a row").count() == 1
    settings.SEARCH_TIMEOUT_MS = 10_000
    assert found(q("for a long moment")) == {"In a row", "For a Long Moment", "Summary"}


def test_every_run_of_a_phrase_s_length_is_whole_in_one_piece() -> None:
    from chapbook.lib.searchquery import MAX_PHRASE_WORDS
    from chapbook.search import postgres

    for length in (0, 1, 999, 1000, 1001, 1968, 1969, 5000):
        words = [f"w{i}" for i in range(length)]
        pieces = [piece.split() for piece in postgres._pieces(" ".join(words))]
        assert all(len(piece) <= postgres.CHUNK_WORDS for piece in pieces)
        assert [w for piece in pieces for w in piece][-1:] == words[-1:]
        for start in range(max(0, length - MAX_PHRASE_WORDS) + 1):
            run = words[start : start + MAX_PHRASE_WORDS]
            assert any(" ".join(run) in " ".join(piece) for piece in pieces), (length, start)
