"""GET /api/v1/search: /api/v1/works's parameters and answer, plus `q`, a snippet per work and notes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings

from chapbook.api.search import EMPTY_QUERY, SearchSort
from chapbook.lib.searchquery import NOTE_CUT, NOTE_NOTHING
from chapbook.listings.query import FACET_TYPES, SEARCH_SORTS
from chapbook.people.models import User
from chapbook.search.backend import SearchTooSlow, get_backend
from chapbook.search.services import NOTE_TOO_SLOW
from chapbook.works.models import Work
from tests.test_api_works import SUMMARY_FIELDS, api_as
from tests.test_search_pages import HOSTILE, RANDOM_QUERIES, archive  # noqa: F401 (the fixture)

MakeWork = Callable[..., Work]
URL = "/api/v1/search"


def search(params: dict[str, Any], *, user: User | None = None) -> dict[str, Any]:
    response = api_as(user).get(URL, params)
    assert response.status_code == 200, response.content
    data: dict[str, Any] = response.json()
    return data


def titles(params: dict[str, Any], *, user: User | None = None) -> list[str]:
    return [item["title"] for item in search(params, user=user)["items"]]


def errors(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    detail: list[dict[str, Any]] = response.json()["detail"]
    return detail


# The answer


@pytest.mark.usefixtures("archive")
def test_it_answers_like_the_works_list_with_a_snippet_per_work_and_notes() -> None:
    data = search({"q": "silver"})

    assert set(data) == {"count", "items", "notes"}
    assert data["count"] == 1
    assert data["notes"] == []
    [item] = data["items"]
    assert set(item) == SUMMARY_FIELDS | {"snippet"}
    assert item["title"] == "Harbour Lights"
    assert set(item["snippet"]) == {"html", "chapter"}
    assert "<mark>silver</mark>" in item["snippet"]["html"].lower()
    assert item["snippet"]["chapter"] == 2


@pytest.mark.usefixtures("archive")
def test_a_match_outside_the_chapters_has_a_snippet_without_a_chapter() -> None:
    [item] = search({"q": "summary:pier"})["items"]

    assert item["title"] == "Café Stories"
    assert item["snippet"]["chapter"] is None


@pytest.mark.usefixtures("archive")
def test_it_folds_accents_and_quote_marks() -> None:
    assert titles({"q": "cafe"}) == ["Café Stories"]
    assert titles({"q": "don't"}) == ["Don’t Look Back"]
    assert titles({"q": "don’t"}) == ["Don’t Look Back"]


@pytest.mark.usefixtures("archive")
def test_facets_count_the_works_found() -> None:
    data = search({"q": "dragon", "facets": "true"})

    assert set(data["facets"]) == {str(tag_type) for tag_type in FACET_TYPES}
    assert {"name": "Angst", "count": 1} in data["facets"]["freeform"]


# The query


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}])
def test_a_missing_or_empty_query_is_a_400_naming_q(db: None, params: dict[str, str]) -> None:
    detail = errors(api_as().get(URL, params))

    assert [error["loc"] for error in detail] == [["query", "q"]]
    assert all(error["msg"] for error in detail)


def test_an_empty_query_says_what_to_do(db: None) -> None:
    assert errors(api_as().get(URL, {"q": " "})) == [{"type": "value_error", "loc": ["query", "q"], "msg": EMPTY_QUERY}]


@pytest.mark.usefixtures("archive")
def test_a_query_with_nothing_to_search_for_is_an_empty_page_with_a_note() -> None:
    assert search({"q": "the of"}) == {"count": 0, "items": [], "notes": [NOTE_NOTHING]}


@pytest.mark.usefixtures("archive")
def test_a_search_that_runs_out_of_time_is_an_empty_page_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    def too_slow(self: Any, query: Any, within: Any = None) -> Any:
        raise SearchTooSlow

    monkeypatch.setattr(type(get_backend()), "match", too_slow)

    assert search({"q": "dragon"}) == {"count": 0, "items": [], "notes": [NOTE_TOO_SLOW]}


@pytest.mark.usefixtures("archive")
def test_a_long_query_is_cut_and_says_so() -> None:
    data = search({"q": "dragon " * 2000})

    assert data["count"] == 3
    assert data["notes"] == [NOTE_CUT]


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize("q", HOSTILE, ids=range(len(HOSTILE)))
def test_any_query_gives_results_or_a_note_never_an_error(q: str) -> None:
    if "\x00" in q:
        # Refused before any view runs, as every API request with a NUL character is.
        response = api_as(None).get(URL, {"q": q})
        assert response.status_code == 400 and "Null characters" in response.json()["detail"][0]["msg"]
        return
    data = search({"q": q})

    assert isinstance(data["count"], int)
    assert isinstance(data["notes"], list)


@pytest.mark.usefixtures("archive")
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=RANDOM_QUERIES.filter(lambda q: "\x00" not in q))
def test_any_random_query_gives_results_or_a_note_never_an_error(q: str) -> None:
    response = api_as(None).get(URL, {"q": q})

    if response.status_code == 400:  # only a query of blanks, said in the JSON body
        assert not q.strip() and [error["loc"] for error in errors(response)] == [["query", "q"]]
        return
    assert response.status_code == 200, response.content
    data = response.json()
    assert isinstance(data["count"], int) and isinstance(data["notes"], list)


# Who sees what


@pytest.mark.usefixtures("archive")
def test_a_guest_never_finds_a_restricted_work(reader: User) -> None:
    assert titles({"q": "members"}) == []
    assert titles({"q": "members"}, user=reader) == ["Members Only"]


@pytest.mark.usefixtures("archive")
def test_nobody_finds_a_draft(author: User) -> None:
    assert titles({"q": "drafted"}, user=author) == []


# Filters and sorts, as /works


@pytest.mark.usefixtures("archive")
def test_every_works_filter_narrows_a_search() -> None:
    assert titles({"q": "dragon", "rating": "Explicit"}) == ["Salt Roads"]
    assert sorted(titles({"q": "dragon", "exclude": "Angst"})) == ["Don’t Look Back", "Harbour Lights"]
    assert titles({"q": "dragon", "include": "angst"}) == ["Salt Roads"]
    assert titles({"q": "dragon", "words_min": 10}) == ["Harbour Lights"]
    assert titles({"q": "dragon", "lang": "fr"}) == []


@pytest.mark.usefixtures("archive")
def test_an_unknown_tag_is_a_400_as_on_the_works_list() -> None:
    detail = errors(api_as().get(URL, {"q": "dragon", "include": "No Such Tag"}))

    assert detail == [{"type": "value_error", "loc": ["query", "include"], "msg": "No such tag: “No Such Tag”."}]


@pytest.mark.usefixtures("archive")
def test_the_tag_alias_with_an_unknown_name_is_an_empty_page() -> None:
    assert search({"q": "dragon", "tag": "No Such Tag"}) == {"count": 0, "items": [], "notes": []}


@pytest.mark.usefixtures("archive")
def test_it_sorts_by_best_match_unless_told_otherwise() -> None:
    assert sorted(titles({"q": "dragon"})) == sorted(titles({"q": "dragon", "sort": "best"}))
    assert titles({"q": "dragon", "sort": "title"}) == ["Don’t Look Back", "Harbour Lights", "Salt Roads"]
    assert titles({"q": "dragon", "sort": "title", "order": "desc"}) == ["Salt Roads", "Harbour Lights", "Don’t Look Back"]


def test_best_match_puts_a_title_above_a_newer_work_that_only_mentions_it(
    author: User, make_work: MakeWork, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        make_work(author, title="Lantern", chapters=["<p>Night fell on the pier.</p>"])
        make_work(author, title="Other Lights", chapters=["<p>She lit a lantern once.</p>"])

    assert titles({"q": "lantern"}) == ["Lantern", "Other Lights"]
    assert titles({"q": "lantern", "sort": "updated"}) == ["Other Lights", "Lantern"]


@pytest.mark.usefixtures("archive")
def test_pages_split_the_works_found() -> None:
    first = search({"q": "dragon", "sort": "title", "page_size": 2})
    second = search({"q": "dragon", "sort": "title", "page_size": 2, "page": 2})
    beyond = search({"q": "dragon", "page": 10**9})

    assert [item["title"] for item in first["items"] + second["items"]] == [
        "Don’t Look Back",
        "Harbour Lights",
        "Salt Roads",
    ]
    assert first["count"] == second["count"] == beyond["count"] == 3
    assert beyond["items"] == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"sort": "random"}, "sort"),
        ({"order": "up"}, "order"),
        ({"words_min": "-1"}, "words_min"),
        ({"page": "0"}, "page"),
        ({"page_size": "101"}, "page_size"),
        ({"lang": "xx"}, "lang"),
    ],
)
def test_bad_values_are_a_400_naming_the_parameter(db: None, params: dict[str, Any], field: str) -> None:
    detail = errors(api_as().get(URL, {"q": "dragon", **params}))

    assert [error["loc"] for error in detail] == [["query", field]]


# Schema


def test_sort_choices_are_the_search_sorts() -> None:
    assert get_args(SearchSort) == SEARCH_SORTS


def test_openapi_documents_the_works_parameters_and_q(db: None) -> None:
    schema = json.loads(api_as().get("/api/v1/openapi.json").content)
    operation = schema["paths"][URL]["get"]
    works = schema["paths"]["/api/v1/works"]["get"]

    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert set(parameters) == {parameter["name"] for parameter in works["parameters"]} | {"q"}
    assert parameters["q"]["required"] is True
    assert parameters["sort"]["schema"]["enum"] == list(SEARCH_SORTS)
    assert parameters["sort"]["schema"]["default"] == "best"
    assert set(operation["responses"]) == {"200", "400"}
    components = schema["components"]["schemas"]
    assert set(components["SearchPage"]["properties"]) == {"count", "items", "notes", "facets"}
