"""GET /api/v1/works with filters: what each parameter does, what it refuses, and its cost."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, get_args

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chapbook.api.schemas import Sort
from chapbook.listings.query import FACET_TYPES, SORTS
from chapbook.people.models import User
from chapbook.tags.models import Tag, TagType
from chapbook.works.models import LANGUAGE_NAMES, Work
from tests.conftest import default_tags
from tests.test_api_works import SUMMARY_FIELDS, ApiCaller, accept_invitation, api_as

MakeWork = Callable[..., Work]
URL = "/api/v1/works"


def listed(params: dict[str, Any] | None = None, *, user: User | None = None) -> list[str]:
    response = api_as(user).get(URL, params)
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["items"]]


def change(work: Work, **fields: Any) -> None:
    """Set fields behind the services' back, moving revised_at as every real change does
    (it is how the filter index learns that a work changed)."""
    Work.objects.filter(pk=work.pk).update(revised_at=timezone.now(), **fields)


def words(count: int) -> list[str]:
    return ["<p>" + " ".join(["gull"] * count) + "</p>"]


def errors(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    detail: list[dict[str, Any]] = response.json()["detail"]
    return detail


# The page


def test_it_lists_summaries_with_their_stats(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    change(work, kudos_count=7, comments_count=3, bookmarks_count=2, hits_count=120)

    data = api_as().get(URL).json()

    assert set(data) == {"count", "items"}
    [item] = data["items"]
    assert set(item) == SUMMARY_FIELDS
    assert item["stats"] == {"kudos": 7, "comments": 3, "bookmarks": 2, "hits": 120, "subscriptions": 0}


def test_tag_alias_still_filters_by_one_tag(author: User, make_work: MakeWork) -> None:
    make_work(author, title="Ann and Bea", tags=default_tags(relationships=["Ann/Bea"]))
    make_work(author, title="Ann and Cat", tags=default_tags(relationships=["Ann/Cat"]))

    assert listed({"tag": "ann/bea"}) == ["Ann and Bea"]
    assert listed({"tag": "ann/bea", "include": "Ann/Cat"}) == []


def test_tag_alias_with_an_unknown_name_is_an_empty_page(author: User, make_work: MakeWork) -> None:
    make_work(author)

    plain = api_as().get(URL, {"tag": "No Such Tag"})
    with_facets = api_as().get(URL, {"tag": "No Such Tag", "facets": "true"})

    assert (plain.status_code, plain.json()) == (200, {"count": 0, "items": []})
    assert with_facets.json()["facets"] == {str(tag_type): [] for tag_type in FACET_TYPES}


# Tags


def test_include_needs_every_tag(author: User, make_work: MakeWork) -> None:
    make_work(author, title="Both", tags=default_tags(freeforms=["Fluff", "Boats"]))
    make_work(author, title="Fluff only", tags=default_tags(freeforms=["Fluff"]))
    make_work(author, title="Neither")

    assert listed({"include": ["fluff", "BOATS"]}) == ["Both"]
    assert sorted(listed({"include": "Fluff"})) == ["Both", "Fluff only"]


def test_exclude_drops_works_with_any_of_the_tags(author: User, make_work: MakeWork) -> None:
    make_work(author, title="Fluff", tags=default_tags(freeforms=["Fluff"]))
    make_work(author, title="Angst", tags=default_tags(freeforms=["Angst"]))
    make_work(author, title="Plain")

    assert listed({"exclude": ["Fluff", "angst"]}) == ["Plain"]


def test_include_matches_a_tags_synonyms(author: User, make_work: MakeWork) -> None:
    make_work(author, title="Tagged with the synonym", tags=default_tags(freeforms=["Fluffy"]))
    make_work(author, title="Tagged with the canonical", tags=default_tags(freeforms=["Fluff"]))
    canonical = Tag.objects.get(name="Fluff")
    Tag.objects.filter(pk=canonical.pk).update(canonical=True, wrangled_at=timezone.now())
    Tag.objects.filter(name="Fluffy").update(synonym_of=canonical, wrangled_at=timezone.now())

    assert sorted(listed({"include": "Fluff"})) == ["Tagged with the canonical", "Tagged with the synonym"]


def test_ratings_warnings_and_categories_each_need_any_one_value(author: User, make_work: MakeWork) -> None:
    make_work(author, title="General", tags=default_tags(categories=["Gen"]))
    make_work(author, title="Teen", tags=default_tags(ratings=["Teen And Up Audiences"], categories=["F/F"]))
    make_work(author, title="Explicit", tags=default_tags(ratings=["Explicit"], categories=["Gen"]))

    both = {"rating": ["General Audiences", "Teen And Up Audiences"]}
    assert sorted(listed(both)) == ["General", "Teen"]
    assert listed({**both, "category": "gen"}) == ["General"]
    assert listed({"warning": "No Archive Warnings Apply", "rating": "Explicit"}) == ["Explicit"]
    assert listed({"warning": "Major Character Death"}) == []


def test_unknown_tag_names_are_a_400_naming_each_of_them(author: User, make_work: MakeWork) -> None:
    make_work(author, tags=default_tags(freeforms=["Fluff"]))

    detail = errors(api_as().get(URL, {"include": ["Fluff", "Fluf", "Angts", "Fluf"], "exclude": "Nope"}))

    assert [error["loc"] for error in detail] == [["query", "include"], ["query", "exclude"]]
    assert detail[0]["msg"] == "No such tag: “Fluf”, “Angts”."
    assert detail[1]["msg"] == "No such tag: “Nope”."


@pytest.mark.parametrize(
    "parameter, value, message",
    [
        ("rating", "Fluff", "Not a rating: “Fluff”."),
        ("warning", "general audiences", "Not an archive warning: “General Audiences”."),
        ("category", "Original Work", "Not a category: “Original Work”."),
        ("rating", "Very Explicit", "No such tag: “Very Explicit”."),
    ],
)
def test_rating_warning_and_category_take_only_tags_of_their_type(
    author: User, make_work: MakeWork, parameter: str, value: str, message: str
) -> None:
    make_work(author, tags=default_tags(freeforms=["Fluff"]))

    detail = errors(api_as().get(URL, {parameter: value}))

    assert detail == [{"type": "value_error", "loc": ["query", parameter], "msg": message}]


def test_blank_tag_names_are_ignored(author: User, make_work: MakeWork) -> None:
    make_work(author)

    assert listed({"include": ["", "  "], "exclude": "", "rating": ""}) == ["A Quiet Harbour"]


# Other filters


def test_complete_lists_only_complete_works(author: User, make_work: MakeWork) -> None:
    make_work(author, title="Done", expected_chapters=1)
    make_work(author, title="Ongoing", expected_chapters=3)

    assert listed({"complete": "true"}) == ["Done"]
    assert sorted(listed({"complete": "false"})) == ["Done", "Ongoing"]


def test_crossover_only_or_excluded(author: User, make_work: MakeWork) -> None:
    make_work(author, title="Crossover", tags=default_tags(fandoms=["Harbour Tales", "Lighthouse Stories"]))
    make_work(author, title="Single")

    assert listed({"crossover": "only"}) == ["Crossover"]
    assert listed({"crossover": "exclude"}) == ["Single"]
    assert sorted(listed({"crossover": ""})) == ["Crossover", "Single"]


def test_lang_lists_works_in_that_language(author: User, make_work: MakeWork) -> None:
    make_work(author, title="English")
    make_work(author, title="French", language="fr")

    assert listed({"lang": "fr"}) == ["French"]


def test_word_bounds_are_inclusive(author: User, make_work: MakeWork) -> None:
    for count in (5, 10, 20):
        make_work(author, title=f"{count} words", chapters=words(count))

    assert sorted(listed({"words_min": 10})) == ["10 words", "20 words"]
    assert sorted(listed({"words_max": 10})) == ["10 words", "5 words"]
    assert listed({"words_min": 10, "words_max": 10}) == ["10 words"]


def test_updated_since_keeps_works_updated_on_or_after_that_day(author: User, make_work: MakeWork) -> None:
    old = make_work(author, title="Old")
    make_work(author, title="Recent")
    change(old, updated_at=timezone.now() - timedelta(days=30))
    since = (timezone.now() - timedelta(days=2)).date().isoformat()

    assert listed({"updated_since": since}) == ["Recent"]


# Order and pages


@pytest.fixture
def three_works(author: User, make_work: MakeWork) -> None:
    now = timezone.now()
    for title, count, kudos, age in [("Bravo", 20, 5, 2), ("Alpha", 10, 9, 3), ("Charlie", 30, 1, 1)]:
        work = make_work(author, title=title, chapters=words(count))
        change(work, kudos_count=kudos, updated_at=now - timedelta(days=age))


@pytest.mark.parametrize(
    "params, titles",
    [
        ({}, ["Charlie", "Bravo", "Alpha"]),
        ({"sort": "updated", "order": "asc"}, ["Alpha", "Bravo", "Charlie"]),
        ({"sort": "title"}, ["Alpha", "Bravo", "Charlie"]),
        ({"sort": "title", "order": "desc"}, ["Charlie", "Bravo", "Alpha"]),
        ({"sort": "words"}, ["Charlie", "Bravo", "Alpha"]),
        ({"sort": "kudos"}, ["Alpha", "Bravo", "Charlie"]),
        ({"sort": "kudos", "order": "asc"}, ["Charlie", "Bravo", "Alpha"]),
    ],
)
def test_sort_and_order(three_works: None, params: dict[str, str], titles: list[str]) -> None:
    assert listed(params) == titles


@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_is_accepted(three_works: None, sort: str) -> None:
    assert sorted(listed({"sort": sort})) == ["Alpha", "Bravo", "Charlie"]


def test_pages_follow_the_sort(three_works: None) -> None:
    pages = [api_as().get(URL, {"sort": "title", "page": page, "page_size": 2}).json() for page in (1, 2)]

    assert [page["count"] for page in pages] == [3, 3]
    assert [[item["title"] for item in page["items"]] for page in pages] == [["Alpha", "Bravo"], ["Charlie"]]


@pytest.mark.parametrize("page", ["2", "999999", "1000000", "1000001", str(10**30)])
def test_a_filtered_page_past_the_end_is_empty_with_the_count_intact(
    author: User, make_work: MakeWork, page: str
) -> None:
    make_work(author, tags=default_tags(freeforms=["Fluff"]))
    make_work(author)

    response = api_as().get(URL, {"include": "Fluff", "page": page, "page_size": "100", "facets": "true"})

    assert response.status_code == 200
    data = response.json()
    assert (data["count"], data["items"]) == (1, [])
    assert data["facets"]["freeform"] == [{"name": "Fluff", "count": 1}]


# Facets


def test_facets_count_the_tags_of_every_matching_work(author: User, make_work: MakeWork) -> None:
    make_work(author, tags=default_tags(fandoms=["Harbour Tales"], freeforms=["Fluff", "Boats"]))
    make_work(author, tags=default_tags(fandoms=["Harbour Tales"], freeforms=["Fluff"]))
    make_work(author, tags=default_tags(fandoms=["Lighthouse Stories"], ratings=["Mature"]))

    data = api_as().get(URL, {"facets": "true", "page_size": 1}).json()

    facets = data["facets"]
    assert set(facets) == {str(tag_type) for tag_type in FACET_TYPES}
    assert facets["fandom"] == [{"name": "Harbour Tales", "count": 2}, {"name": "Lighthouse Stories", "count": 1}]
    assert facets["freeform"] == [{"name": "Fluff", "count": 2}, {"name": "Boats", "count": 1}]
    assert facets["rating"] == [{"name": "General Audiences", "count": 2}, {"name": "Mature", "count": 1}]
    assert facets["warning"] == [{"name": "No Archive Warnings Apply", "count": 3}]
    assert facets["relationship"] == facets["character"] == facets["category"] == []


def test_facets_follow_the_filters(author: User, make_work: MakeWork) -> None:
    make_work(author, tags=default_tags(fandoms=["Harbour Tales"], freeforms=["Fluff"]))
    make_work(author, tags=default_tags(fandoms=["Lighthouse Stories"]))

    data = api_as().get(URL, {"facets": "true", "include": "Fluff"}).json()

    assert data["facets"]["fandom"] == [{"name": "Harbour Tales", "count": 1}]


@pytest.mark.parametrize("params", [{}, {"facets": "false"}])
def test_facets_are_left_out_unless_asked_for(author: User, make_work: MakeWork, params: dict[str, str]) -> None:
    make_work(author)

    data = api_as().get(URL, params).json()

    assert "facets" not in data


def test_facets_never_count_works_the_caller_may_not_see(author: User, make_work: MakeWork) -> None:
    make_work(author, tags=default_tags(freeforms=["Fluff"]))
    make_work(author, tags=default_tags(freeforms=["Fluff"]), restricted=True)
    make_work(author, tags=default_tags(freeforms=["Fluff", "Secret"]), draft=True)

    data = api_as().get(URL, {"facets": "true"}).json()

    assert data["facets"]["freeform"] == [{"name": "Fluff", "count": 1}]


# Who sees what


def test_guests_never_get_restricted_works(author: User, reader: User, make_work: MakeWork) -> None:
    make_work(author, title="Open", tags=default_tags(freeforms=["Fluff"]))
    make_work(author, title="Members only", tags=default_tags(freeforms=["Fluff"]), restricted=True)

    for params in [{}, {"include": "Fluff"}, {"sort": "title"}, {"sort": "kudos", "order": "asc"}]:
        assert listed(params) == ["Open"]
        assert sorted(listed(params, user=reader)) == ["Members only", "Open"]
    assert api_as().get(URL, {"include": "Fluff"}).json()["count"] == 1


def test_drafts_are_never_listed_even_to_their_creator(
    author: User, co_author: User, staff: User, make_work: MakeWork
) -> None:
    make_work(author, title="Posted")
    draft = make_work(author, title="Draft", draft=True, co_creators=[co_author.default_pseud])
    accept_invitation(draft, co_author)

    for user in [None, author, co_author, staff]:
        assert listed({"sort": "title"}, user=user) == ["Posted"]
        assert api_as(user).get(URL).json()["count"] == 1


def test_hidden_works_are_not_listed_to_guests_or_readers(
    author: User, reader: User, make_work: MakeWork
) -> None:
    make_work(author, title="Posted")
    change(make_work(author, title="Hidden"), hidden=True)

    assert listed() == ["Posted"]
    assert listed(user=reader) == ["Posted"]


def test_a_work_made_restricted_since_is_not_shown_to_guests(author: User, make_work: MakeWork) -> None:
    work = make_work(author, title="Soon restricted")
    make_work(author, title="Open")
    assert sorted(listed()) == ["Open", "Soon restricted"]

    change(work, restricted=True)

    assert listed() == ["Open"]


# Refusals


@pytest.mark.parametrize(
    "params, field",
    [
        ({"complete": "maybe"}, "complete"),
        ({"crossover": "sometimes"}, "crossover"),
        ({"lang": "xx"}, "lang"),
        ({"lang": "EN "}, "lang"),
        ({"words_min": "-1"}, "words_min"),
        ({"words_min": "lots"}, "words_min"),
        ({"words_max": str(2**31)}, "words_max"),
        ({"words_max": str(10**30)}, "words_max"),
        ({"words_min": "10", "words_max": "9"}, "words_max"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "2024-13-01"}, "updated_since"),
        ({"sort": "random"}, "sort"),
        ({"sort": ""}, "sort"),
        ({"order": "up"}, "order"),
        ({"page": "0"}, "page"),
        ({"page_size": "101"}, "page_size"),
        ({"facets": "please"}, "facets"),
        ({"include": ["Fluff"] * 51}, "include"),
    ],
)
def test_bad_values_are_a_400_naming_the_parameter(db: None, params: dict[str, Any], field: str) -> None:
    detail = errors(api_as().get(URL, params))

    assert [error["loc"] for error in detail] == [["query", field]]
    assert all(error["msg"] for error in detail)


def test_an_overlong_tag_name_is_an_unknown_tag(db: None) -> None:
    detail = errors(api_as().get(URL, {"include": "x" * 10_000}))

    assert [error["loc"] for error in detail] == [["query", "include"]]


def test_every_language_code_is_accepted(author: User, make_work: MakeWork) -> None:
    make_work(author, language="fr")

    for code in LANGUAGE_NAMES:
        assert api_as().get(URL, {"lang": code}).json()["count"] == (1 if code == "fr" else 0)


# Schema and cost


def test_openapi_documents_every_parameter(db: None) -> None:
    schema = json.loads(api_as().get("/api/v1/openapi.json").content)
    operation = schema["paths"][URL]["get"]

    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert set(parameters) == {
        "include", "exclude", "rating", "warning", "category", "tag", "complete", "crossover", "lang",
        "words_min", "words_max", "updated_since", "sort", "order", "page", "page_size", "facets",
    }  # fmt: skip
    assert all(parameter["in"] == "query" for parameter in parameters.values())
    assert parameters["include"]["schema"]["type"] == "array"
    assert parameters["sort"]["schema"]["enum"] == list(SORTS)
    assert parameters["order"]["schema"]["enum"] == ["", "asc", "desc"]
    assert parameters["updated_since"]["schema"]["anyOf"][0]["format"] == "date"
    assert set(operation["responses"]) == {"200", "400"}
    components = schema["components"]["schemas"]
    assert set(components["WorkPage"]["properties"]) == {"count", "items", "facets"}
    assert set(components["Facets"]["properties"]) == {str(tag_type) for tag_type in FACET_TYPES}


def test_sort_choices_are_the_listings_sorts() -> None:
    assert get_args(Sort) == SORTS


def _queries(client: ApiCaller, params: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return len(queries)


FILTERED = {
    "include": "Fluff",
    "exclude": "Angst",
    "rating": ["General Audiences", "Mature"],
    "sort": "kudos",
    "facets": "true",
}


def test_a_filtered_page_costs_the_same_queries_for_two_works_as_for_ten(
    author: User, co_author: User, make_work: MakeWork
) -> None:
    def add_works(count: int) -> None:
        for number in range(count):
            work = make_work(
                author,
                title=f"Work {number}",
                co_creators=[co_author.default_pseud],
                tags=default_tags(characters=[f"Character {number}"], freeforms=["Fluff", f"Tag {number}"]),
            )
            accept_invitation(work, co_author)

    def steady(client: ApiCaller) -> int:
        # The first call after a change also brings the filter index up to date: that
        # cost belongs to the index, not to the page.
        _queries(client, FILTERED)
        return _queries(client, FILTERED)

    make_work(author, tags=default_tags(freeforms=["Angst"]))
    guest, alice = api_as(), api_as(author)
    add_works(2)
    _queries(alice, {})  # the first authenticated call records the token's last use
    few = (steady(guest), steady(alice))
    add_works(8)
    many = (steady(guest), steady(alice))

    assert few == many
    # The tag names, the index's freshness check, the facets' names and the page's
    # version rows (summaries come from the cache once built); the token costs one more.
    assert many == (4, 5)


def test_an_unfiltered_page_costs_what_it_did_before_filters(author: User, make_work: MakeWork) -> None:
    for number in range(3):
        make_work(author, title=f"Work {number}")
    guest = api_as()
    _queries(guest, {})

    # The index's freshness check and the page's version rows: no tag lookup, and the
    # summaries come from the cache.
    assert _queries(guest, {}) == 2


def test_updated_since_accepts_a_plain_date(db: None) -> None:
    assert api_as().get(URL, {"updated_since": date(2024, 2, 29).isoformat()}).status_code == 200


def test_a_rating_filter_is_the_same_as_no_filter_when_every_rating_is_ticked(
    author: User, make_work: MakeWork
) -> None:
    make_work(author, title="General")
    make_work(author, title="Mature", tags=default_tags(ratings=["Mature"]))
    ratings = list(Tag.objects.filter(type=TagType.RATING).values_list("name", flat=True))

    assert sorted(listed({"rating": ratings})) == sorted(listed())


def test_a_cached_summary_follows_the_works_counters(author: User, make_work: MakeWork) -> None:
    work = make_work(author, title="Counted")
    assert api_as().get(URL).json()["items"][0]["stats"]["kudos"] == 0
    Work.objects.filter(pk=work.pk).update(kudos_count=5, bookmarks_count=2)
    stats = api_as().get(URL).json()["items"][0]["stats"]
    assert (stats["kudos"], stats["bookmarks"]) == (5, 2)
