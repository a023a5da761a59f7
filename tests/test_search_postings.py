"""PostgreSQL's phrase index: where each word stands, lined up for a phrase.

The lists themselves (`postings.build`, `works_holding`) are tested on their own, on
either database; how the index is kept fresh (unposted works, blocks written again, the
migration, the rebuild) on PostgreSQL, where it is used.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings as hypothesis_settings, strategies as st
from django.core.management import call_command
from django.db import connection

from chapbook.search import pairs as word_pairs, postings
from chapbook.search.backend import get_backend
from chapbook.works.models import Chapter, Work
from tests import test_search_backend
from tests.test_search_backend import chapters, found, q
from tests.test_search_pairs import PAIRS_APART, fake_stem

post = test_search_backend.post
only_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's phrase index")


class Lists:
    """A cursor over a block's rows, as `works_holding` reads them from the table."""

    def __init__(self, *blocks: tuple[int, list[tuple[str, bytes]]]) -> None:
        self.rows = [(token, block, data) for block, rows in blocks for token, data in rows]

    def execute(self, sql: str, params: list[Any], binary: bool = False) -> None:
        names = set(params[0])
        self.found = [(token, block, 0, data) for token, block, data in self.rows if token in names][::-1]

    def fetchall(self) -> list[tuple[str, int, int, bytes]]:
        return self.found


def holding(lists: Lists, phrase: str, within: list[int] | None = None) -> list[int]:
    made = word_pairs.Pairs(fake_stem).phrase(phrase)
    assert made is not None and not made[1]
    return postings.works_holding(lists, "search_posting", made[0], None if within is None else np.array(within)).tolist()


def test_a_phrase_is_found_only_where_its_words_stand_in_a_row() -> None:
    rows, too_long = postings.build(
        word_pairs.Pairs(fake_stem),
        0,
        {1: ["He looked at her for a long moment."], 2: [PAIRS_APART], 3: ["She waited for a", "long moment."]},
    )
    assert too_long == []
    lists = Lists((0, rows))
    assert holding(lists, "for a long moment") == [1]
    assert holding(lists, "a long moment") == [1, 2]
    assert holding(lists, "long moment") == [1, 2, 3]
    # Two common words last: the pair "of+the" says all; no such pair here.
    assert holding(lists, "for a long time") == [2]
    assert holding(lists, "waited for the") == []
    assert holding(lists, "moment passed and then another") == [2]
    assert holding(lists, "lighthouse keeper") == []


def test_no_phrase_runs_from_one_chapter_into_the_next() -> None:
    rows, _ = postings.build(word_pairs.Pairs(fake_stem), 0, {5: ["the end of", "chapter two"], 6: ["end of chapter two"]})
    lists = Lists((0, rows))
    assert holding(lists, "end of chapter two") == [6]
    assert holding(lists, "chapter two") == [5, 6]


def test_each_block_keeps_its_own_works_and_a_phrase_finds_them_in_every_block() -> None:
    pairs = word_pairs.Pairs(fake_stem)
    first, second = 7, (3 << postings.BLOCK_BITS) + 1
    lists = Lists(
        (0, postings.build(pairs, 0, {first: ["a song for the keeper"]})[0]),
        (3, postings.build(pairs, 3, {second: ["the keeper owed her a song for the keeper"]})[0]),
    )
    assert postings.block_of(second) == 3
    assert holding(lists, "song for the keeper") == [first, second]
    assert holding(lists, "owed her a song") == [second]
    # Of the filters' works only, in whichever block.
    assert holding(lists, "song for the keeper", within=[second, second + 1]) == [second]
    assert holding(lists, "song for the keeper", within=[first]) == [first]
    assert holding(lists, "song for the keeper", within=[]) == []
    data = next(data for token, block, data in lists.rows if token == "keeper" and block == 3)
    keys = np.frombuffer(data, dtype="<u4")
    # A key is the work's place in its block and the word's in the work: "keeper" second
    # and ninth in the second work.
    assert (keys >> postings.POSITION_BITS).tolist() == [1, 1]
    assert (keys & ((1 << postings.POSITION_BITS) - 1)).tolist() == [1, 8]


def reference(pairs: word_pairs.Pairs, block: int, chapters: dict[int, list[str]]) -> dict[str, list[int]]:
    """The keys of each token, made word by word from `Pairs.paired`."""
    keys: dict[str, list[int]] = {}
    for work_id in sorted(chapters):
        position = 0
        for tokens in pairs.paired(chapters[work_id]):
            for token in tokens:
                keys.setdefault(token, []).append(work_id << postings.POSITION_BITS | position)
                position += 1
            position += 1  # the gap between two chapters
    return keys


def as_keys(block: int, rows: list[tuple[str, bytes]]) -> dict[str, list[int]]:
    return {token: (np.frombuffer(data, dtype="<u4").astype(np.int64) + (block << postings.KEY_BITS)).tolist() for token, data in rows}


TEXT = st.lists(st.sampled_from(["for", "a", "long", "moment", "the", "don’t", "’", "…", "Walking", "her,", "said."]), max_size=12)


@hypothesis_settings(max_examples=200, deadline=None)
# A work may have no chapters; "don’t" makes two tokens of a run, "…" none.
@given(works=st.lists(st.lists(TEXT.map(" ".join), min_size=0, max_size=3), min_size=1, max_size=4), block=st.integers(0, 3))
def test_the_block_s_lists_are_the_paired_tokens_place_by_place(works: list[list[str]], block: int) -> None:
    pairs = word_pairs.Pairs(fake_stem)
    first = block << postings.BLOCK_BITS
    chapters = {first + 3 * i + 1: texts for i, texts in enumerate(works)}
    rows, too_long = postings.build(pairs, block, chapters)
    assert too_long == []
    assert as_keys(block, rows) == reference(pairs, block, chapters)


def contains(stream: list[str], tokens: list[str]) -> bool:
    return any(stream[at : at + len(tokens)] == tokens for at in range(len(stream) - len(tokens) + 1))


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    works=st.lists(st.lists(TEXT.map(" ".join), min_size=0, max_size=3), min_size=1, max_size=6),
    phrase=TEXT.filter(bool).map(" ".join),
    blocks=st.lists(st.integers(0, 2), min_size=6, max_size=6),
    within=st.none() | st.sets(st.integers(0, 5)),
)
def test_a_phrase_is_found_in_the_lists_where_it_is_in_the_paired_text(
    works: list[list[str]], phrase: str, blocks: list[int], within: set[int] | None
) -> None:
    pairs = word_pairs.Pairs(fake_stem)
    made = pairs.phrase(phrase)
    assume(made is not None and not made[1])
    assert made is not None
    # Works spread over blocks, some at a block's first id (their keys wrap below an offset).
    ids = [(blocks[i] << postings.BLOCK_BITS) + (i % 2) * 7 for i in range(len(works))]
    assume(len(set(ids)) == len(ids))
    chapters = dict(zip(ids, works))
    by_block: dict[int, dict[int, list[str]]] = {}
    for work_id, texts in chapters.items():
        by_block.setdefault(postings.block_of(work_id), {})[work_id] = texts
    lists = Lists(*((block, postings.build(pairs, block, texts)[0]) for block, texts in by_block.items()))
    allowed = None if within is None else sorted(ids[i] for i in within if i < len(ids))
    expected = sorted(
        work_id
        for work_id, texts in chapters.items()
        if any(contains(stream, made[0]) for stream in pairs.paired(texts)) and (allowed is None or work_id in allowed)
    )
    found = postings.works_holding(lists, "search_posting", made[0], None if allowed is None else np.array(allowed, dtype=np.int64))
    assert found.tolist() == expected


def test_a_vocabulary_too_big_for_one_sort_is_numbered_densely_first(monkeypatch: pytest.MonkeyPatch) -> None:
    pairs = word_pairs.Pairs(fake_stem)
    chapters = {1: ["for a long moment", "the end"], 2: ["a long moment of the"]}
    expected = reference(pairs, 0, chapters)
    monkeypatch.setattr(postings, "KEY_BITS", 60)  # four bits left for the tokens' numbers: too few
    assert as_keys(0, postings.build(pairs, 0, chapters)[0]) == expected


def test_the_values_in_both_lists_are_found_by_merging_or_by_searching() -> None:
    keys = np.arange(0, 100, 3)
    assert postings._both(np.array([3, 4, 99]), keys).tolist() == [3, 99]  # searched: keys far longer
    assert postings._both(np.arange(0, 100, 2), keys).tolist() == list(range(0, 100, 6))  # merged


def test_a_work_too_long_for_the_keys_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postings, "MAX_WORDS", 4)
    rows, too_long = postings.build(word_pairs.Pairs(fake_stem), 0, {1: ["short tale"], 2: ["a much longer tale than that"]})
    assert too_long == [2]
    assert holding(Lists((0, rows)), "short tale") == [1]
    assert holding(Lists((0, rows)), "longer tale") == []
    # The same where a run makes two tokens ("don’t"; the test's tokenizer keeps "…").
    monkeypatch.setattr(postings, "MAX_WORDS", 5)
    rows, too_long = postings.build(word_pairs.Pairs(fake_stem), 0, {1: ["don’t … tale"], 2: ["a tale … don’t tell"], 3: ["tale"]})
    assert too_long == [2]
    assert holding(Lists((0, rows)), "tale") == [1, 3]


# --- Keeping it fresh (PostgreSQL) ----------------------------------------------------


def unposted() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT work_id FROM search_unposted ORDER BY work_id")
        return [row[0] for row in cursor.fetchall()]


def lists_of(work: Work) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_posting WHERE block = %s", [postings.block_of(work.pk)])
        return int(cursor.fetchone()[0])


@only_postgresql
@pytest.mark.django_db
def test_an_edited_work_is_read_from_its_pieces_until_its_block_is_written_again(post: Callable[..., Work]) -> None:
    work = post(title="Edited", chapters=chapters("He looked at her for a long moment."))
    post(title="Other", chapters=chapters("She waited for a long moment too."))
    assert unposted() == []
    assert found(q("for a long moment")) == {"Edited", "Other"}
    # The text changes and is indexed, but the block's task has not run: the lists still
    # say "for a long moment" is in the work.
    Chapter.objects.filter(work=work).update(html="<p>He looked away after a short while.</p>")
    get_backend().index_works([work.pk])
    assert unposted() == [work.pk]
    assert found(q("for a long moment")) == {"Other"}
    assert found(q("after a short while")) == {"Edited"}
    assert found(q("long", exclude=("for a long moment",))) == set()
    get_backend().write_postings([postings.block_of(work.pk)])  # type: ignore[attr-defined]
    assert unposted() == []
    assert found(q("for a long moment")) == {"Other"}
    assert found(q("after a short while")) == {"Edited"}


@only_postgresql
@pytest.mark.django_db
def test_indexing_asks_for_its_block_to_be_written_a_minute_later(
    post: Callable[..., Work], django_capture_on_commit_callbacks: Any
) -> None:
    from django.test import override_settings
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from chapbook.search import postgres

    work = post(title="Queued", chapters=chapters("He looked at her for a long moment."))
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}):
        with django_capture_on_commit_callbacks(execute=True):
            get_backend().index_works([work.pk])
    job = DBTaskResult.objects.get(task_path="chapbook.search.tasks.write_postings")
    assert job.args_kwargs["args"] == [[postings.block_of(work.pk)]]
    delay = (job.run_after - timezone.now()).total_seconds()
    assert postgres.WRITE_DELAY.total_seconds() - 10 < delay <= postgres.WRITE_DELAY.total_seconds()
    assert unposted() == [work.pk]


@only_postgresql
@pytest.mark.django_db
def test_a_long_list_is_kept_in_rows_of_a_page_and_read_whole(post: Callable[..., Work], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postings, "PART_BYTES", 8)  # two keys a row
    post(title="Many", chapters=chapters("A long moment. " * 5 + "Then for a long moment, nothing."))
    post(title="Once", chapters=chapters("For a long moment."))
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(part), max(octet_length(positions)) FROM search_posting WHERE token = 'moment'")
        assert cursor.fetchone() == (3, 8)  # seven places in all
    assert found(q("for a long moment")) == {"Many", "Once"}
    assert found(q("long moment then")) == {"Many"}


@only_postgresql
@pytest.mark.django_db
def test_a_removed_work_is_not_found_by_the_lists_it_left(post: Callable[..., Work]) -> None:
    work = post(title="Gone", chapters=chapters("He looked at her for a long moment."))
    get_backend().remove_works([work.pk])
    assert found(q("for a long moment")) == set()
    get_backend().write_postings([postings.block_of(work.pk)])  # type: ignore[attr-defined]
    assert lists_of(work) == 0 and unposted() == []


@only_postgresql
@pytest.mark.django_db
def test_a_block_with_nothing_unposted_is_not_written_again(post: Callable[..., Work]) -> None:
    work = post(title="Kept", chapters=chapters("He looked at her for a long moment."))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_posting")
    get_backend().write_postings([postings.block_of(work.pk)])  # type: ignore[attr-defined]
    assert lists_of(work) == 0
    get_backend().write_postings()  # type: ignore[attr-defined]
    assert lists_of(work) > 0


@only_postgresql
@pytest.mark.django_db
def test_a_work_too_long_for_the_lists_stays_unposted_and_is_found(post: Callable[..., Work], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postings, "MAX_WORDS", 5)
    post(title="Short", chapters=chapters("For a long moment."))
    long = post(title="Long", chapters=chapters("He looked at her for a long moment, and she at him."))
    assert unposted() == [long.pk]
    assert found(q("for a long moment")) == {"Short", "Long"}
    assert found(q("she at him")) == {"Long"}


@only_postgresql
@pytest.mark.django_db
def test_the_rebuild_writes_the_lists(post: Callable[..., Work], django_capture_on_commit_callbacks: Any) -> None:
    work = post(title="Rebuilt", chapters=chapters("The lighthouse keeper owed her a song."))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_posting")
        cursor.execute("INSERT INTO search_unposted VALUES (%s)", [work.pk])
    # The rebuild indexes again what changed in its last minute, this work too, and its
    # block is written again after.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reindex", "--search-only", stdout=None)
    assert lists_of(work) > 0 and unposted() == []
    assert found(q("keeper owed her a song")) == {"Rebuilt"}


@only_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_outside_a_transaction_writes_the_lists_in_processes_of_their_own(
    post: Callable[..., Work], monkeypatch: pytest.MonkeyPatch
) -> None:
    with connection.cursor() as cursor:  # what earlier tests that commit left in the index
        for table in ("search_work", "search_chunk", "search_posting", "search_unposted"):
            cursor.execute(f"DELETE FROM {table}")
    first = post(title="First", chapters=chapters("He looked at her for a long moment."))
    second = post(title="Second", chapters=chapters("She waited for a long moment too."))
    written: list[tuple[str, list[int], int]] = []
    real = postings.write_in_processes

    def spy(suffix: str, blocks: Any, workers: int) -> None:
        written.append((suffix, list(blocks), workers))
        real(suffix, blocks, workers)

    monkeypatch.setattr(postings, "write_in_processes", spy)
    get_backend().reindex_all()
    assert written == [("_new", sorted({postings.block_of(first.pk), postings.block_of(second.pk)}), 2)]
    assert found(q("for a long moment")) == {"First", "Second"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_posting WHERE token = 'moment'")
        assert cursor.fetchone()[0] > 0


@only_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_the_tables_and_writes_the_lists_of_the_works_there_are(post: Callable[..., Work]) -> None:
    from django.apps import apps as global_apps

    migration = importlib.import_module("chapbook.search.migrations.0006_postings")
    with connection.cursor() as cursor:  # what earlier tests that commit left in the index
        for table in ("search_work", "search_chunk", "search_posting", "search_unposted"):
            cursor.execute(f"DELETE FROM {table}")
    work = post(title="Before", chapters=chapters("He looked at her for a long moment."))
    with connection.schema_editor() as editor:
        migration.backward(global_apps, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('search_posting'), to_regclass('search_unposted')")
        assert cursor.fetchone() == (None, None)
    with connection.schema_editor() as editor:
        migration.forward(global_apps, editor)
    assert lists_of(work) > 0 and unposted() == []
    assert found(q("for a long moment")) == {"Before"}


@pytest.mark.django_db
def test_the_write_task_writes_on_postgresql_and_has_nothing_to_do_on_sqlite(post: Callable[..., Work]) -> None:
    from chapbook.search.tasks import write_postings

    work = post(title="Task", chapters=chapters("The lighthouse keeper owed her a song."))
    blocks = [postings.block_of(work.pk)]
    if connection.vendor == "postgresql":
        get_backend().index_works([work.pk])  # unposted; the task's enqueueing is not run here
        assert unposted() == [work.pk]
        assert write_postings.call(blocks) == 1
        assert unposted() == []
    else:
        assert write_postings.call(blocks) == 0
    assert found(q("keeper owed her a song")) == {"Task"}
