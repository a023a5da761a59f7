"""The filter index answers exactly what a brute-force walk over the works answers.

A small archive with wrangling in it (synonyms, meta tags, fandoms under a franchise,
fandom membership) is filtered by random `Filters`; counts, the page's order and every
facet must equal a plain-Python evaluation of the same rules, both when the whole index
is built in the process and when a snapshot is read with later changes on top.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chapbook.listings import index
from chapbook.listings.query import FACET_SIZE, FACET_TYPES, SORTS, Filters, find_works, tags_by_name
from chapbook.tags.models import Tag, TagType
from chapbook.works.models import Work
from chapbook.works.services import delete_work, update_work
from tests.conftest import build_work, default_tags

FANDOMS = ["Star Wars", "Star Wars: The Force Awakens", "Star Trek", "Marvel", "Iron Man (Movies)", "Original Work"]
CHARACTERS = ["Rey", "Kylo Ren", "Ben Solo", "Tony Stark", "Spock", "Ben"]
RELATIONSHIPS = ["Kylo Ren/Rey", "Ben Solo/Rey", "Ben/Rey", "Kirk/Spock", "Tony & Pepper"]
FREEFORMS = ["Fluff", "Angst", "fluff and angst", "Hurt/Comfort", "AU"]
RATINGS = ["General Audiences", "Teen And Up Audiences", "Explicit"]
WARNINGS = ["No Archive Warnings Apply", "Major Character Death", "Graphic Depictions Of Violence"]
CATEGORIES = ["F/M", "Gen", "M/M"]


def wrangle() -> None:
    """Canonical tags, synonyms, meta tags, a franchise and fandom membership."""

    def tag(name: str) -> Tag:
        return Tag.objects.get(name=name)

    for name in ["Star Wars", "Star Wars: The Force Awakens", "Marvel", "Iron Man (Movies)", "Ben Solo", "Kylo Ren"]:
        Tag.objects.filter(name=name).update(canonical=True)
    # A film under its franchise: a filter on the franchise finds the film's works.
    tag("Star Wars: The Force Awakens").parents.add(tag("Star Wars"))
    tag("Iron Man (Movies)").parents.add(tag("Marvel"))
    # Kylo Ren is a sub-tag of Ben Solo; "Ben/Rey" is a synonym of "Ben Solo/Rey".
    tag("Kylo Ren").parents.add(tag("Ben Solo"))
    Tag.objects.filter(name="Ben Solo/Rey").update(canonical=True)
    Tag.objects.filter(name="Ben/Rey").update(synonym_of=tag("Ben Solo/Rey"))
    Tag.objects.filter(name="fluff and angst").update(synonym_of=tag("Fluff"))
    Tag.objects.filter(name="Fluff").update(canonical=True)
    # Fandom membership is not a filter: Rey belongs to Star Wars, but a work tagged
    # only "Rey" is not a Star Wars work.
    tag("Rey").parents.add(tag("Star Wars"))
    Tag.objects.update(wrangled_at=timezone.now())


def random_work(author: Any, rng: random.Random, number: int) -> Work:
    fandoms = rng.sample(FANDOMS, rng.choice([1, 1, 1, 2, 2, 3]))
    tags = default_tags(
        fandoms=fandoms,
        ratings=[rng.choice(RATINGS)],
        warnings=rng.sample(WARNINGS, rng.choice([1, 1, 2])),
        categories=rng.sample(CATEGORIES, rng.choice([0, 1, 2])),
        characters=rng.sample(CHARACTERS, rng.randint(0, 3)),
        relationships=rng.sample(RELATIONSHIPS, rng.randint(0, 2)),
        freeforms=rng.sample(FREEFORMS, rng.randint(0, 3)),
    )
    words = " ".join(["word"] * rng.choice([5, 50, 500, 1500]))
    chapters = rng.choice([1, 1, 2])
    work = build_work(
        author,
        title=rng.choice(["A", "b", "The ", "Zed ", "ápple "]) + f"title {number:02d}",
        chapters=[f"<p>{words}</p>"] * chapters,
        tags=tags,
        draft=rng.random() < 0.1,
        restricted=rng.random() < 0.2,
        language=rng.choice(["en", "en", "fr"]),
        expected_chapters=rng.choice([None, chapters, chapters + 1]),
    )
    when = timezone.now() - dt.timedelta(days=rng.randint(0, 4000))
    Work.objects.filter(pk=work.pk).update(
        updated_at=when,
        published_at=when - dt.timedelta(days=rng.randint(0, 30)),
        kudos_count=rng.choice([0, 0, 3, 7, 100]),
        hits_count=rng.randint(0, 50),
        comments_count=rng.randint(0, 5),
        bookmarks_count=rng.choice([0, 1, 1, 9]),
    )
    return work


def make_archive(author: Any, co_author: Any, count: int = 28) -> None:
    rng = random.Random(20261123)
    for number in range(count):
        random_work(author if number % 3 else co_author, rng, number)
    # More filter tags than a row of the index's tag matrix holds: the rest spill over.
    build_work(
        co_author,
        title="Many tags",
        tags=default_tags(fandoms=["Star Trek"], freeforms=["Fluff", "AU", *(f"Extra {i:02d}" for i in range(30))]),
        draft=False,
    )
    wrangle()


# --- The brute force ---------------------------------------------------------------


def filter_tags_of(tag: Tag) -> set[int]:
    while tag.synonym_of_id is not None:
        tag = tag.synonym_of  # type: ignore[assignment]
    found = {tag.pk}
    for parent in tag.parents.filter(type=tag.type):
        found |= filter_tags_of(parent)
    return found


def roots_of(tag: Tag) -> set[int]:
    while tag.synonym_of_id is not None:
        tag = tag.synonym_of  # type: ignore[assignment]
    parents = list(tag.parents.filter(type=tag.type))
    if not parents:
        return {tag.pk}
    return set().union(*(roots_of(parent) for parent in parents))


def brute_force(filters: Filters, *, guest: bool, page: int, page_size: int) -> tuple[int, list[int], dict[str, list[tuple[str, int]]]]:
    works = Work.objects.filter(draft=False, hidden=False).prefetch_related("tags", "creatorships__pseud")
    resolved = {tag.pk: filter_tags_of(tag) for tag in Tag.objects.all()}

    def wanted(tag_id: int) -> int:
        tag = Tag.objects.get(pk=tag_id)
        while tag.synonym_of_id is not None:
            tag = tag.synonym_of  # type: ignore[assignment]
        return tag.pk

    include = [wanted(t) for t in filters.include]
    exclude = [wanted(t) for t in filters.exclude]
    any_of = [{wanted(t) for t in group} for group in filters.any_of]
    matched = []
    for work in works:
        own = list(work.tags.all())
        tags: set[int] = set().union(*(resolved[t.pk] for t in own)) if own else set()
        fandom_roots = [frozenset(roots_of(t)) for t in own if t.type == TagType.FANDOM]
        crossover = any(not (a & b) for i, a in enumerate(fandom_roots) for b in fandom_roots[i + 1 :])
        pseuds = {c.pseud_id for c in work.creatorships.all() if c.accepted}
        if guest and work.restricted:
            continue
        if any(t not in tags for t in include) or any(t in tags for t in exclude):
            continue
        if any(not (group & tags) for group in any_of):
            continue
        if filters.pseuds and not pseuds & set(filters.pseuds):
            continue
        if filters.complete and not work.complete:
            continue
        if filters.crossover == "only" and not crossover or filters.crossover == "exclude" and crossover:
            continue
        if filters.language and work.language != filters.language:
            continue
        if filters.words_min is not None and work.word_count < filters.words_min:
            continue
        if filters.words_max is not None and work.word_count > filters.words_max:
            continue
        if filters.updated_since is not None and work.updated_at.date() < filters.updated_since:  # type: ignore[union-attr]
            continue
        matched.append((work, tags))

    def key(item: tuple[Work, set[int]]) -> Any:
        work = item[0]
        if filters.sort == "title":
            return (" ".join(work.title.casefold().split()).encode(), work.pk)
        if filters.sort == "creator":
            first = work.creators[0].name if work.creators else ""
            return (" ".join(first.casefold().split()).encode(), work.pk)
        field = {"updated": "updated_at", "posted": "published_at", "words": "word_count"}.get(
            filters.sort, f"{filters.sort}_count"
        )
        value = getattr(work, field)
        return (value.replace(microsecond=0) if hasattr(value, "microsecond") else value, work.pk)

    ordered = sorted(matched, key=key, reverse=filters.descending)
    start = (page - 1) * page_size
    ids = [work.pk for work, _ in ordered[start : start + page_size]]
    counts: Counter[int] = Counter(t for _, tags in matched for t in tags)
    tags_by_id = {tag.pk: tag for tag in Tag.objects.filter(pk__in=counts)}
    facets: dict[str, list[tuple[str, int]]] = {}
    for tag_type in FACET_TYPES:
        entries = [(tags_by_id[t].name, n) for t, n in counts.items() if tags_by_id[t].type == tag_type]
        entries.sort(key=lambda entry: (-entry[1], entry[0].lower()))
        facets[tag_type] = entries[:FACET_SIZE]
    return len(matched), ids, facets


def tag_ids(draw: Any, names: list[str], most: int) -> tuple[int, ...]:
    picked = draw(st.lists(st.sampled_from(names), max_size=most, unique=True))
    found, _ = tags_by_name(picked)
    return tuple(found[name.lower()].pk for name in picked if name.lower() in found)


@st.composite
def filters_strategy(draw: Any) -> tuple[Filters, bool, int]:
    everything = FANDOMS + CHARACTERS + RELATIONSHIPS + FREEFORMS
    include = tag_ids(draw, everything, 2)
    exclude = tag_ids(draw, everything + WARNINGS, 2)
    groups = []
    for names in (RATINGS, WARNINGS, CATEGORIES):
        group = tag_ids(draw, names, 2)
        if group:
            groups.append(group)
    filters = Filters(
        include=include,
        exclude=exclude,
        any_of=tuple(draw(st.permutations(groups))[: draw(st.integers(0, len(groups)))]),
        complete=draw(st.booleans()),
        crossover=draw(st.sampled_from(["", "", "only", "exclude"])),
        language=draw(st.sampled_from(["", "", "en", "fr", "de"])),
        words_min=draw(st.sampled_from([None, None, 40, 1000])),
        words_max=draw(st.sampled_from([None, None, 600, 3000])),
        updated_since=draw(st.sampled_from([None, None, (timezone.now() - dt.timedelta(days=1500)).date()])),
        sort=draw(st.sampled_from(SORTS)),
        order=draw(st.sampled_from(["", "asc", "desc"])),
    )
    return filters, draw(st.booleans()), draw(st.integers(1, 3))


def assert_matches_brute_force(filters: Filters, guest: bool, page: int) -> None:
    user = AnonymousUser() if guest else Work.objects.first().creators[0].user  # type: ignore[union-attr]
    result = find_works(filters, user=user, page=page, page_size=5, facets=True)
    count, ids, facets = brute_force(filters, guest=guest, page=page, page_size=5)
    assert result.count == count
    assert result.ids == ids
    assert {t: [(f.name, f.count) for f in entries] for t, entries in result.facets.items()} == facets


@pytest.fixture
def archive(author: Any, co_author: Any) -> None:
    make_archive(author, co_author)


_PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@_PROPERTY
@given(case=filters_strategy())
def test_it_answers_every_filter_like_a_brute_force_count(archive: None, case: tuple[Filters, bool, int]) -> None:
    assert_matches_brute_force(*case)


@_PROPERTY
@given(case=filters_strategy())
def test_a_snapshot_with_later_changes_answers_like_a_brute_force_count(
    archive: None, snapshot_with_changes: None, case: tuple[Filters, bool, int]
) -> None:
    assert_matches_brute_force(*case)


@pytest.fixture
def snapshot_with_changes(author: Any, co_author: Any, settings: Any) -> None:
    """A snapshot, then a post, an edit, a deletion and a work made restricted after it."""
    # Any rebuild the index queues meanwhile must write a snapshot too, small as this is.
    settings.FILTER_INDEX_SNAPSHOT_MIN = 0
    index.rebuild_snapshot(force=True)
    assert index.snapshot_path().exists()
    # Changes after the snapshot began must be read as delta, whatever the clock says.
    Work.objects.update(revised_at=timezone.now() - dt.timedelta(hours=1))
    index.rebuild_snapshot(force=True)
    index.reset()
    works = list(Work.objects.filter(draft=False).order_by("pk"))
    delete_work(works[0], by=works[0].creators[0].user)
    update_work(works[1], by=works[1].creators[0].user, tags=default_tags(fandoms=["Star Trek"], freeforms=["AU"]))
    update_work(works[2], by=works[2].creators[0].user, restricted=True, title="Renamed")
    random_work(author, random.Random(7), 99)


def test_the_snapshot_is_used_and_reports_what_changed_since(
    archive: None, snapshot_with_changes: None, author: Any
) -> None:
    view = index.current_view()
    assert view.snapshot is not None
    assert len(view.snapshot) >= 20
    assert max(np.diff(view.snapshot.tag_offsets)) > view.snapshot.tag_matrix.shape[1]
    # The edited, restricted and new works are the delta; the deleted one is hidden.
    assert 3 <= view.delta_size <= 4
    alive = view.segments[0][1]
    assert alive is not None and int((~alive).sum()) == 3


def test_a_synonym_filter_finds_the_canonical_tags_works(author: Any) -> None:
    build_work(author, title="Tagged Ben/Rey", tags=default_tags(relationships=["Ben/Rey"]), draft=False)
    build_work(author, title="Tagged Ben Solo/Rey", tags=default_tags(relationships=["Ben Solo/Rey"]), draft=False)
    build_work(author, title="Tagged Kylo Ren/Rey", tags=default_tags(relationships=["Kylo Ren/Rey"]), draft=False)
    canonical = Tag.objects.get(name="Ben Solo/Rey")
    Tag.objects.filter(pk=canonical.pk).update(canonical=True, wrangled_at=timezone.now())
    Tag.objects.filter(name="Ben/Rey").update(synonym_of=canonical, wrangled_at=timezone.now())
    by_canonical = find_works(Filters(include=(canonical.pk,), sort="title"), user=None)
    by_synonym = find_works(Filters(include=(Tag.objects.get(name="Ben/Rey").pk,), sort="title"), user=None)
    titles = set(Work.objects.filter(pk__in=by_canonical.ids).values_list("title", flat=True))
    assert titles == {"Tagged Ben/Rey", "Tagged Ben Solo/Rey"}
    assert by_synonym.ids == by_canonical.ids
    # The work's own tags are untouched by wrangling.
    assert [t.name for t in Work.objects.get(title="Tagged Ben/Rey").relationships] == ["Ben/Rey"]


def test_a_meta_tag_finds_its_sub_tags_works_but_a_fandom_does_not_find_its_members(author: Any) -> None:
    build_work(author, title="Kylo", tags=default_tags(characters=["Kylo Ren"]), draft=False)
    build_work(author, title="Ben", tags=default_tags(characters=["Ben Solo"]), draft=False)
    build_work(author, title="Rey only", tags=default_tags(fandoms=["Original Work"], characters=["Rey"]), draft=False)
    Tag.objects.get(name="Kylo Ren").parents.add(Tag.objects.get(name="Ben Solo"))
    build_work(author, title="Star Wars", tags=default_tags(fandoms=["Star Wars"]), draft=False)
    Tag.objects.get(name="Rey").parents.add(Tag.objects.get(name="Star Wars"))
    Tag.objects.update(wrangled_at=timezone.now())
    ben = find_works(Filters(include=(Tag.objects.get(name="Ben Solo").pk,)), user=None)
    assert set(Work.objects.filter(pk__in=ben.ids).values_list("title", flat=True)) == {"Kylo", "Ben"}
    star_wars = find_works(Filters(include=(Tag.objects.get(name="Star Wars").pk,)), user=None)
    assert set(Work.objects.filter(pk__in=star_wars.ids).values_list("title", flat=True)) == {"Star Wars"}


def test_works_in_two_films_of_one_franchise_are_not_crossovers(author: Any) -> None:
    build_work(author, title="Two films", tags=default_tags(fandoms=["Iron Man (Movies)", "The Avengers (Movies)"]), draft=False)
    build_work(author, title="Two worlds", tags=default_tags(fandoms=["Iron Man (Movies)", "Star Trek"]), draft=False)
    marvel = build_work(author, title="Marvel", tags=default_tags(fandoms=["Marvel"]), draft=False)
    assert marvel.pk
    for film in ["Iron Man (Movies)", "The Avengers (Movies)"]:
        Tag.objects.get(name=film).parents.add(Tag.objects.get(name="Marvel"))
    Tag.objects.update(wrangled_at=timezone.now())
    crossovers = find_works(Filters(crossover="only"), user=None)
    assert list(Work.objects.filter(pk__in=crossovers.ids).values_list("title", flat=True)) == ["Two worlds"]
    assert find_works(Filters(crossover="exclude"), user=None).count == 2


def test_wrangling_takes_effect_through_the_rebuild_it_queues(author: Any, settings: Any) -> None:
    from chapbook.listings.services import tags_wrangled

    settings.FILTER_INDEX_SNAPSHOT_MIN = 0
    build_work(author, title="Synonym work", tags=default_tags(freeforms=["fluffy"]), draft=False)
    index.rebuild_snapshot()
    fluff = Tag.objects.create(name="Fluff", type=TagType.FREEFORM, canonical=True)
    assert find_works(Filters(include=(fluff.pk,)), user=None).count == 0
    with pytest.MonkeyPatch.context() as patch:
        # The rebuild runs when the wrangling commits; tests run tasks on the spot.
        patch.setattr("django.db.transaction.on_commit", lambda callback, **_: callback())
        Tag.objects.filter(name="fluffy").update(synonym_of=fluff, wrangled_at=timezone.now())
        tags_wrangled()
    assert find_works(Filters(include=(fluff.pk,)), user=None).count == 1


def test_a_page_past_the_end_is_empty_but_keeps_the_count(author: Any) -> None:
    build_work(author, draft=False)
    result = find_works(Filters(), user=None, page=10**6, page_size=20)
    assert result.count == 1 and result.ids == []


def test_an_unknown_tag_name_is_reported_and_names_match_in_any_case(author: Any) -> None:
    build_work(author, tags=default_tags(freeforms=["Ärger im Paradies"]), draft=False)
    found, unknown = tags_by_name(["ärger im paradies", "GENERAL audiences", "No Such Tag"])
    assert set(found) == {"ärger im paradies", "general audiences"} or set(found) == {"general audiences"}
    assert "No Such Tag" in unknown


def test_reindex_writes_a_snapshot_only_when_asked_for_a_small_archive(author: Any) -> None:
    build_work(author, draft=False)
    call_command("reindex")
    assert not index.snapshot_path().exists()
    call_command("reindex", "--force")
    assert index.snapshot_path().exists()
    index.drop_snapshot()


@pytest.mark.django_db(transaction=True)
def test_facet_counts_stay_exact_when_works_are_posted_at_once(author: Any) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the concurrent case is PostgreSQL's")
    errors: list[BaseException] = []

    def post(number: int) -> None:
        try:
            for _ in range(3):
                build_work(author, title=f"Concurrent {number}", tags=default_tags(freeforms=["Shared"]), draft=False)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    shared = Tag.objects.get(name="Shared")
    result = find_works(Filters(include=(shared.pk,)), user=None, facets=True)
    assert result.count == 12
    assert [(f.name, f.count) for f in result.facets["freeform"]] == [("Shared", 12)]


def test_kudos_left_after_the_snapshot_reorder_the_kudos_sort_at_once(author: Any, reader: Any, settings: Any) -> None:
    from chapbook.feedback.kudos import leave_kudos

    settings.FILTER_INDEX_SNAPSHOT_MIN = 0
    first = build_work(author, title="First", draft=False)
    second = build_work(author, title="Second", draft=False)
    leave_kudos(work=first, user=reader)
    # Both works were written well before the snapshot, so only feedback can bring one back.
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    Work.objects.update(revised_at=an_hour_ago, feedback_at=an_hour_ago)
    index.rebuild_snapshot(force=True)
    assert find_works(Filters(sort="kudos"), user=None).ids == [first.pk, second.pk]

    # Kudos do not revise the work; feedback_at is what brings it into the delta.
    leave_kudos(work=second, user=reader)
    leave_kudos(work=second, user=None, guest_key="guest-1", ip="192.0.2.1")

    assert find_works(Filters(sort="kudos"), user=None).ids == [second.pk, first.pk]
    assert index.current_view().delta_size == 1


def test_an_anonymous_work_is_listed_under_no_pseud_and_sorts_as_anonymous(author: Any, settings: Any) -> None:
    named = build_work(author, title="Named", draft=False)
    hidden_name = build_work(author, title="Masked", draft=False)
    Work.objects.filter(pk=hidden_name.pk).update(anonymous=True, revised_at=timezone.now())
    pseud = author.default_pseud

    assert find_works(Filters(pseuds=(pseud.pk,)), user=None).ids == [named.pk]
    # "alice" sorts before "Anonymous", "Anonymous" before a "zed" would.
    assert find_works(Filters(sort="creator", order="asc"), user=None).ids == [named.pk, hidden_name.pk]


def test_an_unrevealed_work_is_listed_nowhere(author: Any) -> None:
    shown = build_work(author, title="Shown", draft=False)
    secret = build_work(author, title="Secret", draft=False)
    Work.objects.filter(pk=secret.pk).update(unrevealed=True, revised_at=timezone.now())

    assert find_works(Filters(), user=None).ids == [shown.pk]
    assert find_works(Filters(), user=author).ids == [shown.pk]
