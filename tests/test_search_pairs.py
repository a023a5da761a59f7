"""Phrases and word pairs: SQLite indexes common words paired with the next word.

Every test runs on SQLite and on PostgreSQL (DATABASE_URL): what a phrase matches must be
the same on both, whatever each does to find it quickly.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, Callable

import pytest
from django.core.management import call_command
from django.db import connection
from hypothesis import HealthCheck, assume, given, settings as hypothesis_settings, strategies as st

from chapbook.lib.searchquery import parse
from chapbook.search import pairs as word_pairs
from chapbook.search.backend import get_backend
from chapbook.works.models import Work
from chapbook.works.services import ChapterInput, update_chapter
from tests import test_search_backend
from tests.conftest import default_tags
from tests.test_search_backend import chapters, found, q

pytestmark = pytest.mark.django_db

# The search backend tests' fixtures: post(...) posts and indexes a work; indexed(...)
# runs a service and the indexing it queues.
post = test_search_backend.post
indexed = test_search_backend.indexed

# Each pair of "for a long moment" is here, but never the four words in a row.
PAIRS_APART = "She waited for a long time. A long moment passed, and then another."


def test_a_long_phrase_needs_its_words_in_a_row_not_just_its_pairs(post: Callable[..., Work]) -> None:
    post(title="In a row", chapters=chapters("He looked at her for a long moment."))
    post(title="Pairs apart", chapters=chapters(PAIRS_APART))
    assert found(q("for a long moment")) == {"In a row"}
    assert found(q("a long")) == {"In a row", "Pairs apart"}


def test_a_phrase_does_not_match_across_two_fields(post: Callable[..., Work]) -> None:
    post(title="The silver", summary="<p>Harbour lights.</p>", chapters=chapters("Nothing here."))
    post(title="Both", chapters=chapters("The silver harbour lights."))
    assert found(q("silver harbour")) == {"Both"}
    assert found(q("the silver")) == {"The silver", "Both"}


def test_a_phrase_in_a_title_or_summary_is_found_by_its_pairs(post: Callable[..., Work]) -> None:
    post(title="Tea at the Silver Harbour", chapters=chapters("Nothing here."))
    post(title="Other", summary="<p>Under the old lighthouse stairs.</p>", chapters=chapters("Nothing."))
    assert found(q("at the silver harbour")) == {"Tea at the Silver Harbour"}
    assert found(q("the old lighthouse stairs")) == {"Other"}


def test_phrases_fold_stems_accents_and_quotes_through_their_pairs(post: Callable[..., Work]) -> None:
    post(title="Cafe", chapters=chapters("It reminded her of the Café Lune; “Don’t go,” she said."))
    assert found(q("remind her of the cafe lune")) == {"Cafe"}
    assert found(q("reminds her")) == {"Cafe"}
    assert found(q("don't go she said")) == {"Cafe"}
    assert found(q("her of cafe")) == set()


def test_a_phrase_runs_into_a_hyphenated_word(post: Callable[..., Work]) -> None:
    post(title="Fact", chapters=chapters("It was a well-known fact, said the lighthouse-keeper."))
    assert found(q("a well-known fact")) == {"Fact"}
    assert found(q("a well known fact")) == {"Fact"}
    assert found(q("said the lighthouse keeper")) == {"Fact"}
    assert found(q("well-known")) == {"Fact"}


def test_an_edited_chapter_loses_its_old_pairs(post: Callable[..., Work], author: Any, indexed: Callable[..., Any]) -> None:
    work = post(title="Edited", chapters=chapters("The silver harbour at dawn."))
    chapter = work.chapters.get(position=1)
    indexed(
        update_chapter,
        chapter,
        by=author,
        data=ChapterInput(text="<p>The golden harbour at dusk.</p>"),
    )
    assert found(q("silver harbour at dawn")) == set()
    assert found(q("golden harbour at dusk")) == {"Edited"}
    assert found(q("harbour at")) == {"Edited"}


def test_a_phrase_excluded_with_a_minus_leaves_out_its_works(post: Callable[..., Work]) -> None:
    post(title="Moment", chapters=chapters("The tea; for a long moment, silence."))
    post(title="Time", chapters=chapters("The tea, for a long time."))
    assert found(q("tea", exclude=("for a long moment",))) == {"Time"}
    assert found(q("tea", exclude=("long time",))) == {"Moment"}


def test_the_words_side_by_side_rank_above_the_same_words_apart(post: Callable[..., Work], settings: Any) -> None:
    post(title="Apart", chapters=chapters("The harbour; later, much later, the silver."))
    post(title="Together", chapters=chapters("The silver harbour."))
    settings.SEARCH_RANK_CAP = 0  # on SQLite the bonus holds for any number of matches
    hits = get_backend().match(parse("silver harbour"))
    best = int(hits.ids[hits.scores.argmax()])
    assert Work.objects.get(pk=best).title == "Together"


def test_reindex_rebuilds_the_pairs(post: Callable[..., Work]) -> None:
    post(title="Kept", chapters=chapters("A lighthouse keeper owed her a song."))
    call_command("reindex", "--search-only", stdout=None)
    assert found(q("keeper owed her a song")) == {"Kept"}
    assert found(q("owed a song")) == set()


# --- Pairs on their own -------------------------------------------------------------

J = word_pairs.JOIN


def fake_stem(runs: Any) -> list[tuple[str, ...]]:
    """Runs lower-cased and split at apostrophes, "ing" dropped: a tokenizer to test against."""
    return [tuple(w.removesuffix("ing") for w in run.lower().replace("’", " ").split()) for run in runs]


def test_tokens_are_the_stemmer_s_for_each_run() -> None:
    pairs = word_pairs.Pairs(fake_stem)
    assert pairs.tokens("Walking, the DOG’s lead!") == ["walk", "the", "dog", "s", "lead"]


def test_grams_pair_each_common_word_with_the_next_in_its_own_field() -> None:
    pairs = word_pairs.Pairs(fake_stem)
    streams, common = pairs.grams([["for a long moment"], ["the end of the"], [""]])
    assert streams == [f"for{J}a{J} a{J}long{J} long moment", f"the{J}end{J} end of{J}the{J} the{J}", ""]
    assert common.split() == ["for", "a", "the", "of", "the"]


def test_grams_join_a_field_s_parts_by_a_boundary_no_pair_crosses() -> None:
    pairs = word_pairs.Pairs(fake_stem)
    B = word_pairs.BOUNDARY
    streams, common = pairs.grams([["waited for a", "long moment"], []])
    assert streams == [f"waited for{J}a{J} a{J} {B} long moment", ""]
    assert common.split() == ["for", "a"]


def test_a_phrase_is_made_as_the_index_makes_its_text() -> None:
    pairs = word_pairs.Pairs(fake_stem)
    assert pairs.phrase("for a long moment") == ([f"for{J}a{J}", f"a{J}long{J}", "long", "moment"], False)
    # A common word last pairs with whatever follows the phrase: a prefix.
    assert pairs.phrase("moment of") == (["moment", f"of{J}"], True)
    assert pairs.phrase("the") == ([f"the{J}"], True)
    assert pairs.phrase("-, ;") is None


def test_a_phrase_ending_in_two_common_words_needs_no_prefix() -> None:
    # "of+the" already says that "the" follows "of": no read of every pair of "the".
    pairs = word_pairs.Pairs(fake_stem)
    assert pairs.phrase("end of the") == (["end", f"of{J}the{J}"], False)
    assert pairs.phrase("of the") == ([f"of{J}the{J}"], False)


@hypothesis_settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab é’\u00a0\u2003\t\n.,-!@#~`\x1c\x1f\x85\u2028\u3000\u200bÀ" + word_pairs.JOIN)))
def test_runs_are_the_text_between_whitespace_and_ascii_punctuation(text: str) -> None:
    pairs = word_pairs.Pairs(fake_stem)
    assert pairs._runs([text]) == [word_pairs.RUN.findall(text.replace(word_pairs.JOIN, " "))]


def test_a_typed_join_character_is_a_space() -> None:
    pairs = word_pairs.Pairs(fake_stem)
    assert pairs.tokens(f"for{J}a") == ["for", "a"]


def test_pairs_stem_each_run_once_and_forget_past_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def counting(runs: Any) -> list[tuple[str, ...]]:
        calls.append(list(runs))
        return fake_stem(runs)

    pairs = word_pairs.Pairs(counting)
    pairs.tokens("one two three")
    pairs.tokens("three two one")
    assert calls == [["one", "three", "two"]]
    monkeypatch.setattr(word_pairs.Pairs, "MAX_RUNS", 4)
    assert pairs.tokens("four five") == ["four", "five"]
    assert len(pairs._known) == 2  # started again rather than growing past the bound


# --- Any run of a work's words finds it -----------------------------------------------

# Letters (accented ones too), digits and punctuation, curly quotes and dashes included,
# and the punctuation PostgreSQL's parser would keep inside a token ("0.0", "a.b", "x@y",
# "a/b", "10:30"). Not every script: FTS5 keeps some marks, Greek breathings say, that
# the query's folding drops.
WORD = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZéèêëàâäçñøåæœßüöïîôûÉÀÇ0123456789,;!?'’‘“”–—…-().:/@_+"),
    min_size=1,
    max_size=8,
)


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(WORD, min_size=2, max_size=12), data=st.data())
def test_any_run_of_a_work_s_words_finds_it(post: Callable[..., Work], words: list[str], data: Any) -> None:
    text = " ".join(words)
    assume(any(ch.isalpha() for ch in text))  # a chapter of punctuation alone is refused
    work = post(title="Prop", chapters=[f"<p>{text.replace('<', ' ').replace('&', ' ')}</p>"])
    start = data.draw(st.integers(0, len(words) - 2))
    end = data.draw(st.integers(start + 2, len(words)))
    # Inside the query's quotes, a quote (straight or curly) would end the phrase.
    phrase = re.sub('[<&"“”]', " ", " ".join(words[start:end]))
    query = parse(f'"{phrase}"')
    if query.is_empty:
        return
    hits = get_backend().match(query)
    assert work.pk in hits.ids.tolist(), (text, phrase)



# --- The upgrade --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_migration_rebuilds_the_index(post: Callable[..., Work]) -> None:
    from django.apps import apps as global_apps

    migration = importlib.import_module("chapbook.search.migrations.0002_word_pairs")
    post(title="Old", chapters=chapters("For a long moment she waited by the well-known door."))
    with connection.schema_editor() as editor:
        migration.backward(global_apps, editor)
    if connection.vendor == "sqlite":
        assert found(q("waited")) == set()  # the earlier tables, empty until rebuilt
    with connection.schema_editor() as editor:
        migration.forward(global_apps, editor)
    assert found(q("for a long moment")) == {"Old"}
    assert found(q("by the well-known door")) == {"Old"}
    assert found(q("waited")) == {"Old"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="rebuilds PostgreSQL's index; SQLite's tokenizer always split there")
@pytest.mark.django_db(transaction=True)
def test_the_punctuation_migration_rebuilds_an_index_that_kept_joined_words_whole(
    post: Callable[..., Work], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.apps import apps as global_apps

    from chapbook.search import postgres

    migration = importlib.import_module("chapbook.search.migrations.0004_punctuation")
    monkeypatch.setattr(postgres, "_separated", lambda text: text)  # as the index was written before
    post(title="Old", chapters=chapters("They met in the U.S. at last."), tags=default_tags(relationships=["Kirk/Spock"]))
    assert found(parse('tag:"Kirk/Spock"')) == set()
    monkeypatch.undo()
    with connection.schema_editor() as editor:
        migration.forward(global_apps, editor)
    assert found(parse('tag:"Kirk/Spock"')) == {"Old"}
    assert found(parse('"in the U.S. at last"')) == {"Old"}


@pytest.mark.django_db(transaction=True)
def test_the_parts_migration_rebuilds_an_index_whose_phrases_ran_across_chapters_and_tags(
    post: Callable[..., Work], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.apps import apps as global_apps

    from chapbook.search import documents

    migration = importlib.import_module("chapbook.search.migrations.0005_parts")
    # As the index was written before: each field one run of words.
    monkeypatch.setattr(documents.Document, "parts", lambda doc: tuple([field] for field in doc.fields()))
    if connection.vendor == "postgresql":
        from chapbook.search import postgres

        monkeypatch.setattr(postgres, "PARTED", f"to_tsvector('{postgres.CONFIG}', %s)")
        monkeypatch.setattr(postgres, "_parted", lambda text: text)
    post(title="Old", chapters=chapters("He waited for a", "Long moment."), tags=default_tags(characters=["Odile Vance", "Jonah Mercer"]))
    assert found(parse('tag:"vance jonah"')) == {"Old"}
    monkeypatch.undo()
    with connection.schema_editor() as editor:
        migration.forward(global_apps, editor)
    assert found(parse('tag:"vance jonah"')) == set()
    assert found(parse('tag:"jonah mercer"')) == {"Old"}
    if connection.vendor == "sqlite":  # PostgreSQL's pieces never ran across chapters
        assert found(parse('"for a long moment"')) == set()
    assert found(parse('"long moment"')) == {"Old"}
