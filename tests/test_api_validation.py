"""Bad input to the API is a 4xx JSON answer that names the field, never a 500."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from chapbook.people.models import User
from chapbook.tags.models import Tag
from chapbook.works.models import Work
from tests.conftest import default_tags
from tests.test_api_works import api_as, new_work_body

MakeWork = Callable[..., Work]
Loc = list[str | int]


def error_locations(response: Any, status: int = 422) -> list[Loc]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    errors = response.json()["detail"]
    assert all(error["msg"] for error in errors)
    return [error["loc"] for error in errors]


INVALID_WORKS: list[tuple[str, dict[str, Any], Loc]] = [
    # Found by the posting service: the same rules as the site's form.
    ("no fandom", {"fandoms": []}, ["body", "fandoms"]),
    ("two ratings", {"ratings": ["General Audiences", "Explicit"]}, ["body", "ratings"]),
    ("a rating the archive does not have", {"ratings": ["Spicy"]}, ["body", "ratings"]),
    ("no warning", {"warnings": []}, ["body", "warnings"]),
    ("a relationship without / or &", {"relationships": ["Alice and Bob"]}, ["body", "relationships"]),
    ("a fandom used as a character", {"characters": ["Original Work"]}, ["body", "characters"]),
    ("a tag with angle brackets", {"freeforms": ["<b>bold</b>"]}, ["body", "freeforms"]),
    ("an unknown language", {"language": "xx"}, ["body", "language"]),
    ("an empty title", {"title": ""}, ["body", "title"]),
    ("a blank title", {"title": "   "}, ["body", "title"]),
    ("no chapters", {"chapters": []}, ["body", "chapters"]),
    ("a chapter without words", {"chapters": [{"text": "<p> </p>"}]}, ["body", "chapters"]),
    ("a chapter that is only a script", {"chapters": [{"text": "<script>alert(1)</script>"}]}, ["body", "chapters"]),
    ("zero expected chapters", {"expected_chapters": 0}, ["body", "expected_chapters"]),
    ("someone else's pseud", {"pseuds": ["bob"]}, ["body", "pseuds"]),
    # Found by the schema before the service runs.
    ("no title at all", {"title": None}, ["body", "title"]),
    ("a title too long", {"title": "x" * 256}, ["body", "title"]),
    ("a title that is a number", {"title": 5}, ["body", "title"]),
    ("tags as a string", {"fandoms": "Original Work"}, ["body", "fandoms"]),
    ("a tag that is a number", {"freeforms": [5]}, ["body", "freeforms", 0]),
    ("chapters as an object", {"chapters": {"text": "Hello there."}}, ["body", "chapters"]),
    ("a chapter text that is a number", {"chapters": [{"text": 5}]}, ["body", "chapters", 0, "text"]),
    ("a chapter without text", {"chapters": [{"title": "One"}]}, ["body", "chapters", 0, "text"]),
    ("an unknown format", {"chapters": [{"text": "Hi there.", "format": "rtf"}]}, ["body", "chapters", 0, "format"]),
    ("expected chapters in words", {"expected_chapters": "many"}, ["body", "expected_chapters"]),
    ("restricted as a list", {"restricted": ["yes"]}, ["body", "restricted"]),
    ("a source that is a string", {"source": "AO3"}, ["body", "source"]),
    ("a source URL that is not http", {"source": {"url": "javascript:alert(1)"}}, ["body", "source", "url"]),
    ("a summary too long", {"summary": "x" * 5001}, ["body", "summary"]),
]


@pytest.mark.parametrize("case, changes, loc", INVALID_WORKS, ids=[case for case, _, _ in INVALID_WORKS])
def test_posting_an_invalid_work_names_the_field(
    author: User, reader: User, case: str, changes: dict[str, Any], loc: Loc
) -> None:
    body = new_work_body(**{"freeforms": ["A Tag Nobody Used Before"], **changes})
    if changes.get("title", "") is None:
        del body["title"]
    tags_before = Tag.objects.count()

    response = api_as(author).post("/api/v1/works", body)

    assert loc in error_locations(response)
    assert Work.objects.count() == 0
    # One transaction: the tags it would have created are not left behind either.
    assert Tag.objects.count() == tags_before


def test_service_errors_have_the_same_shape_as_schema_errors(author: User) -> None:
    response = api_as(author).post("/api/v1/works", new_work_body(fandoms=[], language="xx"))

    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"type": "value_error", "loc": ["body", "language"], "msg": "Unknown language code “xx”."}]
    }


def test_every_tag_problem_is_reported_at_once(author: User) -> None:
    body = new_work_body(fandoms=[], ratings=["Spicy"], relationships=["Alice and Bob"])

    locations = error_locations(api_as(author).post("/api/v1/works", body))

    assert ["body", "ratings"] in locations
    assert ["body", "relationships"] in locations


@pytest.mark.parametrize("raw", [b"{not json", b'{"title": "Unclosed', b"\xff\xfe", b"title=Low+Tide"])
def test_malformed_json_is_400(author: User, raw: bytes) -> None:
    caller = api_as(author)

    response = caller.client.post("/api/v1/works", raw, content_type="application/json", headers=caller.headers)

    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body"}
    assert Work.objects.count() == 0


@pytest.mark.parametrize("body", [None, [], "a work", 5])
def test_a_body_that_is_not_an_object_is_4xx_json(author: User, body: Any) -> None:
    response = api_as(author).post("/api/v1/works", body)

    assert 400 <= response.status_code < 500
    assert "detail" in response.json()
    assert Work.objects.count() == 0


def test_an_empty_body_is_reported_as_missing(author: User) -> None:
    caller = api_as(author)

    response = caller.client.post("/api/v1/works", b"", content_type="application/json", headers=caller.headers)

    assert error_locations(response) == [["body"]]


def test_unknown_fields_are_ignored(author: User) -> None:
    response = api_as(author).post("/api/v1/works", new_work_body(colour="teal", hidden=True))

    assert response.status_code == 201
    assert Work.objects.get().hidden is False


INVALID_PATCHES: list[tuple[str, dict[str, Any], Loc]] = [
    ("an empty title", {"title": ""}, ["body", "title"]),
    ("a null title", {"title": None}, ["body", "title"]),
    ("null tags", {"freeforms": None}, ["body", "freeforms"]),
    ("no fandoms left", {"fandoms": []}, ["body", "fandoms"]),
    ("two ratings", {"ratings": ["Mature", "Explicit"]}, ["body", "ratings"]),
    ("a relationship without / or &", {"relationships": ["Alice and Bob"]}, ["body", "relationships"]),
    ("an unknown language", {"language": "klingon"}, ["body", "language"]),
    ("zero expected chapters", {"expected_chapters": 0}, ["body", "expected_chapters"]),
    ("a posted work back to draft", {"draft": True}, ["body", "draft"]),
    ("restricted as a string", {"restricted": "sometimes"}, ["body", "restricted"]),
    ("a bad source URL", {"source": {"site": "AO3", "url": "not a url"}}, ["body", "source", "url"]),
    ("someone else's pseud", {"pseuds": ["nobody"]}, ["body", "pseuds"]),
]


@pytest.mark.parametrize("case, body, loc", INVALID_PATCHES, ids=[case for case, _, _ in INVALID_PATCHES])
def test_an_invalid_patch_names_the_field_and_changes_nothing(
    author: User, make_work: MakeWork, case: str, body: dict[str, Any], loc: Loc
) -> None:
    work = make_work(author, tags=default_tags(relationships=["Ann/Bea"]))

    response = api_as(author).patch(f"/api/v1/works/{work.pk}", {"summary": "Changed.", **body})

    assert loc in error_locations(response)
    unchanged = Work.objects.get(pk=work.pk)
    assert (unchanged.title, unchanged.summary, unchanged.draft) == ("A Quiet Harbour", "", False)
    assert sorted(tag.name for tag in unchanged.tags.all()) == [
        "Ann/Bea", "General Audiences", "No Archive Warnings Apply", "Original Work",
    ]


def test_adding_an_empty_chapter_names_the_text(author: User, make_work: MakeWork) -> None:
    work = make_work(author)

    response = api_as(author).post(f"/api/v1/works/{work.pk}/chapters", {"text": "<p></p>"})

    assert error_locations(response) == [["body", "text"]]
    assert work.chapters.count() == 1
