"""The search backends: what matches, in what order, the snippets, and keeping the index fresh.

Queries are built by hand (`q(...)`), so these tests pin the backend alone; the parser
has its own tests. Every test runs on SQLite and on PostgreSQL (DATABASE_URL).
"""

from __future__ import annotations

import io
import random
from typing import Any, Callable

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection

from chapbook.collections.services import add_work, create_collection, reveal, update_collection
from chapbook.lib.searchquery import Clause, Query, Term, parse
from chapbook.listings.query import Filters, matching_ids
from chapbook.people.models import Pseud, User
from chapbook.people.services import update_pseud
from chapbook.search import documents, snippets
from chapbook.search.backend import get_backend
from chapbook.search.services import search_works
from chapbook.search.tasks import index_works
from chapbook.tags.models import Tag, TagType
from chapbook.tags.services import add_parents, make_canonical, make_synonym
from chapbook.works.models import Creatorship, Work
from chapbook.works.services import (
    ChapterInput,
    add_chapter,
    answer_co_creator_invitation,
    delete_chapter,
    delete_work,
    update_chapter,
    update_work,
)
from tests.conftest import default_tags, make_user

pytestmark = pytest.mark.django_db


def term(text: str, field: str | None = None) -> Term:
    return Term(words=tuple(text.split()), field=field)


def q(*clauses: str | Term | tuple[str | Term, ...], exclude: tuple[str | Term | tuple[str | Term, ...], ...] = ()) -> Query:
    """q("dragon", ("lamp", "lantern"), term("x", "title"), exclude=("angst",))."""

    def clause(value: Any, negated: bool = False) -> Clause:
        values = value if isinstance(value, tuple) else (value,)
        return Clause(any_of=tuple(v if isinstance(v, Term) else term(v) for v in values), negated=negated)

    return Query(clauses=tuple(clause(c) for c in clauses) + tuple(clause(c, negated=True) for c in exclude))


def titles(query: Query) -> list[str]:
    """Titles of the matching works, best first (newest first on a tie)."""
    hits = get_backend().match(query)
    by_id = dict(Work.objects.filter(pk__in=hits.ids.tolist()).values_list("pk", "title"))
    order = sorted(zip(hits.scores.tolist(), hits.ids.tolist()), key=lambda pair: (-pair[0], -pair[1]))
    return [by_id[pk] for _, pk in order]


def found(query: Query) -> set[str]:
    return set(titles(query))


@pytest.fixture
def post(author: User, make_work: Callable[..., Work], django_capture_on_commit_callbacks: Any) -> Callable[..., Work]:
    """post(title=..., chapters=[...], ...): posts a work and runs the indexing it queues."""

    def post_work(**fields: Any) -> Work:
        with django_capture_on_commit_callbacks(execute=True):
            return make_work(fields.pop("by", author), **fields)

    return post_work


@pytest.fixture
def indexed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """indexed(function, *args, **kwargs): calls a service and runs the indexing it queues."""

    def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return call


def chapters(*texts: str) -> list[str]:
    return [f"<p>{text}</p>" for text in texts]


# --- What matches ---------------------------------------------------------------------


def test_every_word_must_match(post: Callable[..., Work]) -> None:
    post(title="Both", chapters=chapters("The dragon slept in the harbour."))
    post(title="Dragon only", chapters=chapters("The dragon slept in the hills."))
    assert found(q("dragon", "harbour")) == {"Both"}
    assert found(q("dragon")) == {"Both", "Dragon only"}


def test_words_may_match_in_different_fields_and_chapters(post: Callable[..., Work]) -> None:
    post(title="Lantern", chapters=chapters("First there was fog.", "Then the harbour."), summary="<p>A keeper.</p>")
    assert found(q("lantern", "fog", "harbour", "keeper")) == {"Lantern"}


def test_a_phrase_matches_only_its_words_in_order(post: Callable[..., Work]) -> None:
    post(title="In order", chapters=chapters("She walked along the silver harbour at dawn."))
    post(title="Apart", chapters=chapters("The harbour was silver at dawn."))
    assert found(q("silver harbour")) == {"In order"}
    assert found(q("silver", "harbour")) == {"In order", "Apart"}


def test_a_phrase_ending_in_common_words_matches_only_where_they_follow(post: Callable[..., Work]) -> None:
    post(title="Of the end", chapters=chapters("It was the end of the road."))
    post(title="End of a", chapters=chapters("It was the end of a road, and the end."))
    post(title="Last words", chapters=chapters("Nothing came of it in the end of"))
    assert found(q("end of the")) == {"Of the end"}
    assert found(q("end of")) == {"Of the end", "End of a", "Last words"}
    assert found(q("of the")) == {"Of the end"}
    assert found(q("the end of")) == {"Of the end", "End of a", "Last words"}
    assert found(q("end", exclude=("of the",))) == {"End of a", "Last words"}


def test_a_pair_of_words_is_not_taken_for_another_that_stems_alike(post: Callable[..., Work]) -> None:
    # Stemmed as one word, "her+thing" and "her+the" would both be "her+th".
    post(title="Things", chapters=chapters("She gave her things away."))
    post(title="The book", chapters=chapters("She gave her the book."))
    assert found(q("gave her the")) == {"The book"}
    assert found(q("gave her things")) == {"Things"}


def test_a_phrase_never_spans_two_chapters(post: Callable[..., Work]) -> None:
    post(title="Across", chapters=chapters("He waited for a", "Long moment of silence."))
    post(title="Within", chapters=chapters("He waited for a long moment.", "Silence."))
    assert found(q("for a long moment")) == {"Within"}
    assert found(q("long moment")) == {"Across", "Within"}
    assert found(q("for a")) == {"Across", "Within"}


@pytest.mark.parametrize("at", [990, 997, 1000])
def test_a_phrase_is_found_wherever_it_falls_in_one_long_paragraph(post: Callable[..., Work], at: int) -> None:
    # On PostgreSQL the chapter is cut into pieces of 1,000 words: the phrase sits on a cut.
    # (Ten filler words: a vector keeps only 256 positions of each word.)
    filler = "tide came over grey stones while gulls cried overhead again".split()
    words = [filler[i % len(filler)] for i in range(2500)]
    words[at : at + 6] = "the lighthouse keeper owed her a".split()
    post(title="Long", chapters=[f"<p>{' '.join(words)}</p>", "<p>Song.</p>"])
    assert found(q("lighthouse keeper owed her")) == {"Long"}
    assert found(q(" ".join(words[at - 1 : at + 7]))) == {"Long"}


def test_a_phrase_never_spans_two_tags(post: Callable[..., Work]) -> None:
    post(title="Tagged", tags=default_tags(characters=["Odile Vance", "Jonah Mercer"], freeforms=["Waiting for", "The End"]))
    assert found(q(term("Odile Vance", "tag"))) == {"Tagged"}
    assert found(q(term("Vance Jonah", "tag"))) == set()
    assert found(q("vance jonah")) == set()
    assert found(q(term("waiting for", "tag"))) == {"Tagged"}
    assert found(q(term("for the end", "tag"))) == set()


def test_an_excluded_word_leaves_out_works_with_it(post: Callable[..., Work]) -> None:
    post(title="Happy", chapters=chapters("The dragon laughed."))
    post(title="Sad", chapters=chapters("The dragon wept; much angst."))
    assert found(q("dragon", exclude=("angst",))) == {"Happy"}
    assert found(q("dragon", exclude=("angst", "laughed"))) == set()
    assert found(q("dragon", exclude=(("angst", "laughed"),))) == set()


def test_an_excluded_phrase_leaves_out_only_that_phrase(post: Callable[..., Work]) -> None:
    post(title="Cold tea", chapters=chapters("The tea was cold."))
    post(title="Cold hands", chapters=chapters("Cold hands, warm tea."))
    assert found(q("tea", exclude=("was cold",))) == {"Cold hands"}


def test_or_finds_either(post: Callable[..., Work]) -> None:
    post(title="Lamp", chapters=chapters("A lamp in the window."))
    post(title="Lantern", chapters=chapters("A lantern in the window."))
    post(title="Candle", chapters=chapters("A candle in the window."))
    assert found(q(("lamp", "lantern"))) == {"Lamp", "Lantern"}
    assert found(q(("lamp", "lantern"), "window")) == {"Lamp", "Lantern"}


def test_or_mixes_phrases_words_and_fields(post: Callable[..., Work]) -> None:
    post(title="Phrase", chapters=chapters("Down by the silver harbour."))
    post(title="Word", chapters=chapters("A lamp, a harbour, silver."))
    post(title="Lamp Title", chapters=chapters("Nothing at all."))
    assert found(q(("silver harbour", term("lamp", "title")))) == {"Phrase", "Lamp Title"}
    assert found(q("harbour", exclude=(term("word", "title"),))) == {"Phrase"}
    assert found(q("harbour", exclude=("silver harbour",))) == {"Word"}


@pytest.mark.parametrize(
    ("field", "expected"),
    [("title", {"Gulls"}), ("summary", {"Summary"}), ("notes", {"Notes"}), ("tag", {"Tagged"}), ("creator", {"By them"})],
)
def test_a_field_prefix_matches_only_that_field(post: Callable[..., Work], field: str, expected: set[str]) -> None:
    post(title="Gulls", chapters=chapters("Nothing here."))
    post(title="Summary", summary="<p>Gulls everywhere.</p>")
    post(title="Notes", notes="<p>Written about gulls.</p>")
    post(title="Tagged", tags=default_tags(freeforms=["Gulls"]))
    post(title="By them", by=make_user("gulls"))
    post(title="In the text", chapters=chapters("The gulls argued."))
    assert found(q(term("gulls", field))) == expected
    assert len(found(q("gulls"))) == 6


def test_chapter_notes_are_notes(post: Callable[..., Work], author: User, indexed: Callable[..., Any]) -> None:
    work = post(title="Noted", chapters=chapters("Plain text."))
    indexed(add_chapter, work, by=author, chapter=ChapterInput(text="<p>More.</p>", notes="<p>Thanks to my beta.</p>"))
    assert found(q(term("beta", "notes"))) == {"Noted"}


def test_matching_folds_case_and_accents(post: Callable[..., Work]) -> None:
    post(title="Café", chapters=chapters("Une CRÈME brûlée au café, naïve."))
    assert found(q("cafe")) == {"Café"}
    assert found(q("creme brulee")) == {"Café"}
    assert found(q("NAIVE")) == {"Café"}


def test_straight_and_curly_apostrophes_are_the_same(post: Callable[..., Work]) -> None:
    post(title="Curly", chapters=chapters("I don’t know."))
    post(title="Straight", chapters=chapters("I don't know."))
    post(title="Apart", chapters=chapters("A don of the college, T for tea."))
    # The parser reads "don't" as the phrase of "don" and "t", as the index splits it.
    assert found(q("don t")) == {"Curly", "Straight"}
    assert found(q(Term(words=("don't",)))) == {"Curly", "Straight"}
    assert found(q(Term(words=("don’t",)))) == {"Curly", "Straight"}


def test_english_words_are_stemmed(post: Callable[..., Work]) -> None:
    post(title="Reminder", chapters=chapters("She reminded him of the harbours."))
    assert found(q("remind")) == {"Reminder"}
    assert found(q("reminding", "harbour")) == {"Reminder"}


def test_tags_are_found_by_their_canonical_and_meta_tags(
    post: Callable[..., Work], staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    post(title="Synonym", tags=default_tags(freeforms=["Soft Dragons"]))
    post(title="Sub-tag", tags=default_tags(freeforms=["Tiny Dragons"]))
    soft, tiny = Tag.objects.get(name="Soft Dragons"), Tag.objects.get(name="Tiny Dragons")
    canonical = Tag.objects.create(name="Dragon Fluff", type=TagType.FREEFORM, canonical=True)
    meta = Tag.objects.create(name="Creatures", type=TagType.FREEFORM, canonical=True)
    with django_capture_on_commit_callbacks(execute=True):
        make_synonym([soft], of=canonical, by=staff)
        make_canonical([tiny], by=staff)
        add_parents([tiny, canonical], parents=[meta], by=staff)
    assert found(q(term("dragon fluff", "tag"))) == {"Synonym"}
    assert found(q(term("creatures", "tag"))) == {"Synonym", "Sub-tag"}
    assert found(q(term("soft dragons", "tag"))) == {"Synonym"}


def test_unpunctuated_and_syntax_characters_are_only_words(post: Callable[..., Work]) -> None:
    post(title="Stars", chapters=chapters("NEAR the stars * and (brackets): ^caret."))
    for text in ['"', '*', "^", "NEAR", ":", "(", ")", "AND", "OR", "NOT", '" OR "', "{title}", "x:y"]:
        get_backend().match(q(Term(words=(text,))))  # never a syntax error
    assert found(q(Term(words=("NEAR",)))) == {"Stars"}
    assert found(q(Term(words=("*",)))) == set()
    assert found(q("stars", Term(words=("*",)))) == {"Stars"}  # the punctuation is dropped
    assert found(q(Term(words=('"stars"',)))) == {"Stars"}
    assert found(q("stars", exclude=(Term(words=("(",)),))) == {"Stars"}


def test_any_parsed_query_is_answered_without_a_database_error(post: Callable[..., Work]) -> None:
    work = post(title="Café", chapters=chapters("The dragon slept by the silver harbour; NEAR * ^ (x) title:y don't"))
    pieces = [*'abc "\'’-*^():{}%_\\é', " ", "dragon", "silver", "harbour", "NEAR", "OR", "AND", "NOT", "title:", "tag:", "-", "\x00"]
    rng = random.Random(7)
    backend = get_backend()
    for _ in range(300):
        query = parse("".join(rng.choice(pieces) for _ in range(rng.randint(1, 30))))
        if not query.is_empty:
            backend.snippets(query, backend.match(query).ids.tolist())
    assert backend.match(parse("dragon " * 2000)).ids.tolist() == [work.pk]
    assert backend.match(parse('"silver harbour')).ids.tolist() == [work.pk]


def test_a_very_long_query_is_answered(post: Callable[..., Work]) -> None:
    post(title="Long", chapters=chapters("word " * 50))
    many = tuple(f"word{i}" for i in range(32))
    assert found(q(*many)) == set()
    assert found(q(("word", *many))) == {"Long"}
    assert found(q(Term(words=("word",) * 32))) == {"Long"}


# --- What is in the index ---------------------------------------------------------------


def test_drafts_and_hidden_works_are_never_indexed(post: Callable[..., Work], author: User, indexed: Callable[..., Any]) -> None:
    draft = post(title="Draft secret", draft=True)
    hidden = post(title="Hidden secret")
    Work.objects.filter(pk=hidden.pk).update(hidden=True)
    index_works.call([hidden.pk])
    post(title="Posted secret", restricted=True)
    assert found(q("secret")) == {"Posted secret"}  # restricted works are left to the filter index
    indexed(update_work, draft, by=author, draft=False)
    assert found(q("secret")) == {"Posted secret", "Draft secret"}


def test_an_edit_is_indexed(post: Callable[..., Work], author: User, indexed: Callable[..., Any]) -> None:
    work = post(title="Before", chapters=chapters("The old words."))
    indexed(update_work, work, by=author, title="After", summary="<p>A fresh summary.</p>")
    assert found(q("before")) == set()
    assert found(q("after", "fresh", "old")) == {"After"}


def test_chapters_added_edited_and_deleted_are_indexed(post: Callable[..., Work], author: User, indexed: Callable[..., Any]) -> None:
    work = post(title="Growing", chapters=chapters("The first chapter."))
    indexed(add_chapter, work, by=author, chapter=ChapterInput(text="<p>A zeppelin arrives.</p>"))
    assert found(q("zeppelin")) == {"Growing"}
    second = work.chapters.get(position=2)
    indexed(update_chapter, second, by=author, data=ChapterInput(text="<p>A balloon arrives.</p>"))
    assert found(q("zeppelin")) == set()
    assert found(q("balloon")) == {"Growing"}
    indexed(delete_chapter, work.chapters.get(position=2), by=author)
    assert found(q("balloon")) == set()
    assert found(q("first")) == {"Growing"}


def test_a_deleted_work_leaves_the_index(post: Callable[..., Work], author: User, indexed: Callable[..., Any]) -> None:
    work = post(title="Doomed")
    indexed(delete_work, work, by=author)
    assert found(q("doomed")) == set()


def test_creators_renamed_and_added_are_indexed(
    post: Callable[..., Work], author: User, co_author: User, indexed: Callable[..., Any]
) -> None:
    pseud = Pseud.objects.create(user=author, name="Moth")
    work = post(title="Bylines", pseuds=[pseud], co_creators=[co_author.default_pseud])
    assert found(q(term("moth", "creator"))) == {"Bylines"}
    assert found(q(term("alice", "creator"))) == {"Bylines"}  # the pseud's user
    assert found(q(term("carol", "creator"))) == set()  # not until she accepts
    indexed(update_pseud, pseud, by=author, name="Lacewing")
    assert found(q(term("lacewing", "creator"))) == {"Bylines"}
    invitation = Creatorship.objects.get(work=work, pseud=co_author.default_pseud)
    indexed(answer_co_creator_invitation, invitation, by=co_author, accept=True)
    assert found(q(term("carol", "creator"))) == {"Bylines"}


def test_a_work_indexed_with_its_creators_loses_them_and_then_itself_as_its_collection_hides_them(
    post: Callable[..., Work], author: User, staff: User, indexed: Callable[..., Any]
) -> None:
    """The index follows a collection that starts hiding a work already in it, and its reveal."""
    post(title="Moth Hours", chapters=chapters("The moths came to the lamp."))
    exchange = create_collection(by=staff, name="moth_exchange", title="Moth Exchange")
    indexed(add_work, exchange, by=author, work=Work.objects.get(title="Moth Hours"))
    assert found(q(term("alice", "creator"))) == {"Moth Hours"}

    indexed(update_collection, exchange, by=staff, anonymous=True)
    assert found(q(term("alice", "creator"))) == set()
    assert found(q("alice")) == set()  # nor as a plain word
    assert found(q("moths")) == {"Moth Hours"}

    indexed(update_collection, exchange, by=staff, unrevealed=True)
    assert found(q("moths")) == set()
    assert found(q(term("moth hours", "title"))) == set()

    indexed(reveal, exchange, by=staff, works=True, creators=False)
    assert found(q("moths")) == {"Moth Hours"}
    assert found(q(term("alice", "creator"))) == set()
    indexed(reveal, exchange, by=staff, works=False, creators=True)
    assert found(q(term("alice", "creator"))) == {"Moth Hours"}


def test_wrangling_reindexes_the_works_of_the_tags(post: Callable[..., Work], staff: User, indexed: Callable[..., Any]) -> None:
    post(title="Wrangled", tags=default_tags(characters=["Kylo"]))
    post(title="Untouched", tags=default_tags(characters=["Rey"]))
    kylo = Tag.objects.get(name="Kylo")
    ben = Tag.objects.create(name="Ben Solo", type=TagType.CHARACTER, canonical=True)
    assert found(q(term("ben solo", "tag"))) == set()
    indexed(make_synonym, [kylo], of=ben, by=staff)
    assert found(q(term("ben solo", "tag"))) == {"Wrangled"}


def test_reindex_rebuilds_the_search_index(post: Callable[..., Work]) -> None:
    post(title="Kept", chapters=chapters("Lighthouse keeper."))
    post(title="Forgotten", chapters=chapters("Lighthouse."))
    stale = Work.objects.get(title="Forgotten")
    Work.objects.filter(pk=stale.pk).update(hidden=True)  # as the admin does, without a hook
    post(title="Sealed", chapters=chapters("Lighthouse."))
    Work.objects.filter(title="Sealed").update(unrevealed=True)
    out = io.StringIO()
    call_command("reindex", "--search-only", stdout=out)
    assert "Search index: 1 works" in out.getvalue()
    assert "] 1/1 works," in out.getvalue()  # the bar's whole is the works indexed, and it fills
    assert "words/s" in out.getvalue()
    assert found(q("lighthouse")) == {"Kept"}
    assert found(q("keeper")) == {"Kept"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite frees a dropped table page by page")
def test_a_rebuild_puts_the_old_tables_aside_and_a_task_frees_them_a_few_rows_at_a_time(
    post: Callable[..., Work], django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.test import override_settings
    from django_tasks_db.models import DBTaskResult

    from chapbook.search import sqlite as sqlite_search, tasks

    for n in range(5):
        post(title=f"Work {n}", chapters=chapters("Lighthouse keeper."))
    every = {f"Work {n}" for n in range(5)}

    def tables() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'search_%'")
            return {row[0] for row in cursor.fetchall()}

    def rebuild() -> None:
        with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}):
            with django_capture_on_commit_callbacks(execute=True):
                get_backend().reindex_all()

    rebuild()
    assert DBTaskResult.objects.filter(task_path="chapbook.search.tasks.free_retired").count() == 1
    assert {"search_indexed_retired", "search_fts_retired_data"} <= tables()
    assert found(q("keeper")) == every  # the new tables answer
    monkeypatch.setattr(sqlite_search, "RETIRED_ROWS", 2)
    assert tasks.free_retired.call() >= 5  # the five works' source rows, two at a time, and the segments
    assert not {name for name in tables() if "retired" in name}
    assert found(q("keeper")) == every
    assert tasks.free_retired.call() == 0  # nothing left aside
    # A rebuild before the task ran drops the tables still aside, in its swap.
    rebuild()
    rebuild()
    assert found(q("lighthouse keeper")) == every
    assert tasks.free_retired.call() >= 5
    assert not {name for name in tables() if "retired" in name}


def test_reindex_can_rebuild_only_the_filters(post: Callable[..., Work]) -> None:
    out = io.StringIO()
    call_command("reindex", "--filters-only", stdout=out)
    assert "Search index" not in out.getvalue()


def test_documents_hold_every_field(post: Callable[..., Work], author: User) -> None:
    work = post(
        title="Whole",
        summary="<p>The <em>sum</em>mary &amp; more.</p>",
        notes="<p>Begin.</p>",
        end_notes="<p>End.</p>",
        chapters=chapters("One.", "Two <b>bold</b>."),
        tags=default_tags(freeforms=["Fluff"]),
    )
    (doc,) = documents.load_documents([work.pk])
    assert doc.summary == "The summary & more."
    assert doc.notes.split("\n") == ["Begin.", "End."]
    assert [text for _, text in doc.chapters] == ["One.", "Two bold."]
    assert "Fluff" in doc.tags.split("\n") and "Original Work" in doc.tags.split("\n")
    assert doc.creators == "alice"


def test_plain_text_keeps_words_whole_across_inline_markup() -> None:
    text = documents.plain_text('<p>A <b>S</b>ilver <a title="a > b" href="x">link</a></p><p>Next</p>')
    assert text.split() == ["A", "Silver", "link", "Next"]
    assert documents.plain_text("<p>caf&eacute; &lt;tag&gt;</p>") == "café <tag>"


# --- Ranking ------------------------------------------------------------------------------


def test_a_title_match_ranks_above_a_passing_word_deep_in_a_long_work(post: Callable[..., Work]) -> None:
    filler = "The tide came in and went out again over the grey stones. " * 40
    long_chapters = chapters(*([filler] * 39 + [filler + " A lighthouse, briefly."]))
    post(title="Forty chapters", chapters=long_chapters)
    post(title="The Lighthouse", chapters=chapters(filler))
    post(title="Tagged", chapters=chapters(filler), tags=default_tags(freeforms=["Lighthouse"]))
    ranked = titles(q("lighthouse"))
    assert ranked[-1] == "Forty chapters"
    assert ranked[0] == "The Lighthouse"


def test_a_long_work_titled_with_the_word_ranks_above_a_short_passing_mention(post: Callable[..., Work]) -> None:
    filler = "The tide came in and went out again over the grey stones. " * 200
    post(title="Lighthouse", chapters=chapters(*([filler] * 20)))
    post(title="Short", chapters=chapters("A lighthouse."))
    assert titles(q("lighthouse")) == ["Lighthouse", "Short"]


def test_the_words_together_rank_above_the_words_scattered(post: Callable[..., Work]) -> None:
    post(title="Together", chapters=chapters("They met at the silver harbour. " + "Gulls cried. " * 20))
    post(title="Scattered", chapters=chapters("The harbour was grey. " + "Gulls cried. " * 20 + "A silver coin."))
    assert titles(q("silver", "harbour")) == ["Together", "Scattered"]


def test_ranking_holds_above_the_cap(post: Callable[..., Work], settings: Any) -> None:
    settings.SEARCH_RANK_CAP = settings.SEARCH_PG_RANK_CAP = 1
    post(title="Body", chapters=chapters("A lighthouse."))
    post(title="Lighthouse", chapters=chapters("Nothing."))
    post(title="Other body", chapters=chapters("Another lighthouse."))
    assert titles(q("lighthouse"))[0] == "Lighthouse"
    assert found(q("lighthouse")) == {"Body", "Lighthouse", "Other body"}


def test_hits_are_ascending_and_unique(post: Callable[..., Work]) -> None:
    for i in range(5):
        post(title=f"Work {i}", chapters=chapters("Harbour " * (i + 1), "Harbour again."))
    hits = get_backend().match(q(("harbour", "again")))
    assert hits.ids.tolist() == sorted(set(hits.ids.tolist()))
    assert len(hits.ids) == len(hits.scores) == 5
    assert (hits.scores > 0).all()


# --- Filters first --------------------------------------------------------------------------


def paragraphs(*texts: str) -> str:
    return "".join(f"<p>{text}</p>" for text in texts)


@pytest.fixture
def phrase_archive(post: Callable[..., Work]) -> dict[str, Work]:
    """Works in two fandoms with "for a long moment" whole, scattered, or in a later piece.

    The long works' chapter is cut into several pieces on PostgreSQL: the phrase is only
    in the last one, and the words alone are in the first.
    """
    filler = "The tide came in and went out again over the grey stones. " * 30
    long_text = paragraphs("A moment, for a while, was long.", *[filler] * 14, "She waited for a long moment.")
    sea, hill = default_tags(fandoms=["Sea Stories"]), default_tags(fandoms=["Hill Stories"])
    return {
        "Sea whole": post(title="Sea whole", chapters=chapters("She waited for a long moment."), tags=sea),
        "Sea scattered": post(title="Sea scattered", chapters=chapters("A moment, for a while, was long."), tags=sea),
        "Sea long": post(title="Sea long", chapters=[long_text], tags=sea),
        "Sea titled": post(title="For a long moment", chapters=chapters("Nothing here."), tags=sea),
        "Hill whole": post(title="Hill whole", chapters=chapters("He stood for a long moment."), tags=hill),
        "Hill long": post(title="Hill long", chapters=[long_text], tags=hill),
    }


def test_a_phrase_in_a_later_piece_of_a_long_chapter_is_found(phrase_archive: dict[str, Work]) -> None:
    assert found(parse('"for a long moment"')) == {"Sea whole", "Sea long", "For a long moment", "Hill whole", "Hill long"}


def test_match_within_leaves_out_the_other_works(phrase_archive: dict[str, Work]) -> None:
    backend = get_backend()
    query = parse('"for a long moment"')
    sea = sorted(work.pk for title, work in phrase_archive.items() if title.startswith("Sea"))
    hits = backend.match(query, within=np.array(sea, dtype=np.int64))
    everywhere = backend.match(query)
    expected = sorted(set(everywhere.ids.tolist()) & set(sea))
    if backend.uses_within:
        assert hits.ids.tolist() == expected
    else:  # the caller's filters leave the others out
        assert sorted(set(hits.ids.tolist()) & set(sea)) == expected
    assert backend.match(query, within=np.zeros(0, dtype=np.int64)).ids.tolist() in ([], everywhere.ids.tolist())


@pytest.mark.parametrize("text", ['"for a long moment"', "moment", '"for a long moment" -tide', "long moment OR breath"])
def test_a_filtered_search_finds_the_unfiltered_search_s_works_that_pass_the_filters(
    phrase_archive: dict[str, Work], text: str
) -> None:
    fandom = Tag.objects.get(name="Sea Stories")
    filters = Filters(include=(fandom.pk,), sort="best")
    allowed = set(matching_ids(filters, user=None).tolist())
    assert allowed == {work.pk for title, work in phrase_archive.items() if title.startswith("Sea")}
    everything = search_works(text, Filters(sort="best"), user=None, page_size=100)
    filtered = search_works(text, filters, user=None, page_size=100, facets=True)
    assert set(filtered.ids) == set(everything.ids) & allowed
    assert filtered.count == len(filtered.ids)


def test_a_filtered_phrase_ranks_the_title_first(phrase_archive: dict[str, Work]) -> None:
    fandom = Tag.objects.get(name="Sea Stories")
    result = search_works('"for a long moment"', Filters(include=(fandom.pk,), sort="best"), user=None)
    assert result.ids[0] == phrase_archive["Sea titled"].pk
    assert set(result.ids) == {phrase_archive[t].pk for t in ("Sea whole", "Sea long", "Sea titled")}


# --- Snippets -------------------------------------------------------------------------------


def snippet(query: Query, work: Work) -> Any:
    return get_backend().snippets(query, [work.pk]).get(work.pk)


def test_a_snippet_marks_the_words_in_the_chapter_that_matched(post: Callable[..., Work]) -> None:
    work = post(title="Three", chapters=chapters("Nothing yet.", "Still nothing.", "She reminded him of the harbour."))
    found_snippet = snippet(q("remind", "harbour"), work)
    assert found_snippet.chapter == 3
    assert "<mark>reminded</mark>" in found_snippet.html
    assert "<mark>harbour</mark>" in found_snippet.html


def test_a_snippet_marks_a_phrase_and_folded_words(post: Callable[..., Work]) -> None:
    work = post(title="Folded", chapters=chapters("At the CAFÉ she said: “I don’t know.”"))
    found_snippet = snippet(q("cafe", "don t know"), work)
    assert "<mark>CAFÉ</mark>" in found_snippet.html
    assert "<mark>don’t know</mark>" in found_snippet.html


def test_a_snippet_is_escaped(post: Callable[..., Work]) -> None:
    work = post(title="Markup", chapters=["<p>Use &lt;script&gt;alert(1)&lt;/script&gt; with the harbour &amp; tide.</p>"])
    html = snippet(q("harbour"), work).html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&amp; tide" in html
    assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_a_snippet_from_the_summary_when_the_text_does_not_match(post: Callable[..., Work]) -> None:
    work = post(title="Summarised", summary="<p>A tale of lighthouses.</p>", chapters=chapters("Nothing here."))
    found_snippet = snippet(q("lighthouse"), work)
    assert found_snippet.chapter is None
    assert "<mark>lighthouses</mark>" in found_snippet.html


def test_a_field_term_is_marked_only_in_its_field(post: Callable[..., Work]) -> None:
    work = post(title="Harbour Lights", chapters=chapters("The harbour at night."))
    found_snippet = snippet(q(term("harbour", "title")), work)
    assert found_snippet.chapter is None
    assert found_snippet.html == "<mark>Harbour</mark> Lights"


def test_a_long_chapter_gives_a_short_snippet(post: Callable[..., Work]) -> None:
    text = "Waves. " * 500 + "The lighthouse keeper slept. " + "Waves. " * 500
    work = post(title="Long", chapters=chapters(text))
    html = snippet(q("lighthouse"), work).html
    assert len(html) < 400
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>lighthouse</mark> keeper" in html


def test_a_snippet_in_a_chapter_with_an_ellipsis_and_accents(post: Callable[..., Work]) -> None:
    text = "She waited… and waited. " * 50 + "At the Café the lighthouse keeper sang… Then “Don’t” she said."
    work = post(title="Ellipsis", chapters=chapters("Nothing here.", text))
    found_snippet = snippet(q("cafe", "lighthouse"), work)
    assert found_snippet.chapter == 2
    assert "<mark>Café</mark> the <mark>lighthouse</mark> keeper sang…" in found_snippet.html


@pytest.mark.parametrize(
    "text, folded",
    [
        ("Wait… what?", "wait… what?"),
        ("“Don’t” — CAFÉ…", " don t    cafe "),  # accents: punctuation becomes spaces
        ("naïve‥ ÉCOLE", "naive  ecole"),
        ("plain ASCII Text", "plain ascii text"),
    ],
)
def test_snippet_folding_keeps_one_character_for_each(text: str, folded: str) -> None:
    """Offsets in folded text are offsets in the text: the fast way to find candidates."""
    assert snippets.fold(text) == folded
    assert len(snippets.fold(text)) == len(text)


def test_a_word_is_found_only_where_a_word_starts() -> None:
    starts = snippets._starts("harb")
    assert [m.start() for m in starts.finditer("harbour unharboured harb_x _harb (harbinger")] == [0, 20, 28, 34]


def test_snippets_for_a_page(post: Callable[..., Work]) -> None:
    works = [post(title=f"Work {i}", chapters=chapters(f"Harbour number {i}.")) for i in range(10)]
    result = get_backend().snippets(q("harbour"), [w.pk for w in works])
    assert set(result) == {w.pk for w in works}
    assert all(s.chapter == 1 for s in result.values())


def test_the_backend_fits_the_database() -> None:
    name = type(get_backend()).__name__
    assert name == ("PostgresBackend" if connection.vendor == "postgresql" else "SQLiteBackend")


def test_a_snippet_comes_from_the_chapter_holding_the_most_terms(post: Callable[..., Work]) -> None:
    work = post(
        title="Most",
        chapters=chapters("The harbour.", "Nothing.", "She reminded him of the harbour.", "The harbour reminded her."),
    )
    found_snippet = snippet(q("remind", "harbour"), work)
    assert found_snippet.chapter == 3
    assert "<mark>reminded</mark>" in found_snippet.html


def test_a_work_whose_text_does_not_match_gets_a_snippet_from_its_fields_beside_one_that_does(
    post: Callable[..., Work],
) -> None:
    in_text = post(title="Text", chapters=chapters("A lighthouse at dusk."))
    in_summary = post(title="Summary", summary="<p>Lighthouse stories.</p>", chapters=chapters("Nothing here."))
    result = get_backend().snippets(q("lighthouse"), [in_text.pk, in_summary.pk])
    assert result[in_text.pk].chapter == 1
    assert result[in_summary.pk].chapter is None
    assert "<mark>Lighthouse</mark>" in result[in_summary.pk].html


def test_a_phrase_of_common_words_is_marked_after_hundreds_of_words_starting_like_them(post: Callable[..., Work]) -> None:
    """Only the places where a phrase could start count towards the candidates' limit."""
    text = "Anna ate apples again and again. " * 80 + "Then she took a deep breath."
    work = post(title="Apples", chapters=chapters(text))
    found_snippet = snippet(q(term("took a deep breath")), work)
    assert "<mark>took a deep breath</mark>" in found_snippet.html


def test_words_joined_by_punctuation_are_found_as_typed_and_one_by_one(post: Callable[..., Work]) -> None:
    post(
        title="Joined",
        chapters=chapters("The U.S. Marshals paid 3.14 each; write to x@y.com before 10:30."),
        tags=default_tags(relationships=["Kirk/Spock"]),
    )
    post(title="Apart", chapters=chapters("Kirk met Spock in the U S; pi is 3 14."))
    for text in ('tag:"Kirk/Spock"', "tag:Spock", '"Marshals paid 3.14"', '"x@y.com"', "10:30"):
        assert found(parse(text)) == {"Joined"}, text
    assert found(parse('"U.S. Marshals"')) == {"Joined"}
    assert found(parse("Kirk/Spock")) == {"Joined", "Apart"}
