"""The collections API, and the `collections` of works in the works API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chapbook.collections import services
from chapbook.collections.models import Collection, CollectionItem, ItemStatus
from chapbook.people.models import User
from chapbook.works.models import Work
from tests.conftest import make_user
from tests.test_api_works import api_as

MakeWork = Callable[..., Work]


@pytest.fixture
def moderator(db: None) -> User:
    """Mona runs the collections."""
    return make_user("mona")


def collection(by: User, name: str = "winter-fest", **fields: object) -> Collection:
    fields.setdefault("title", name.replace("-", " ").title())
    return services.create_collection(by=by, name=name, **fields)  # type: ignore[arg-type]


def new_work(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Snowfall",
        "fandoms": ["Original Work"],
        "ratings": ["General Audiences"],
        "warnings": ["No Archive Warnings Apply"],
        "chapters": [{"text": "<p>It snowed all night.</p>"}],
        **extra,
    }


def error_locations(response: Any) -> list[list[str]]:
    return [error["loc"] for error in response.json()["detail"]]


# --------------------------------------------------------------------------- collections


def test_making_a_collection_needs_a_token(db: None) -> None:
    response = api_as().post("/api/v1/collections", {"name": "drabbles", "title": "Drabbles"})

    assert response.status_code == 401
    assert not Collection.objects.exists()


def test_a_user_makes_a_collection(reader: User) -> None:
    response = api_as(reader).post(
        "/api/v1/collections",
        {
            "name": "Drabbles",
            "title": "Drabbles",
            "description": "<p>Exactly <script>no</script>100 words</p>",
            "moderated": True,
            "anonymous": True,
            "prompt_meme": True,
            "prompts_open_at": "2030-01-01T00:00:00",
            "required_tag_types": ["relationship", "fandom"],
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Drabbles" and body["url"].endswith("/collections/Drabbles")
    assert body["description"] == "<p>Exactly 100 words</p>"
    assert (body["owner"], body["moderators"]) == ("bob", ["bob"])
    assert (body["moderated"], body["anonymous"], body["creators_hidden"], body["closed"]) == (True, True, True, False)
    assert body["prompts_open_at"].startswith("2030-01-01T00:00:00")
    assert body["required_tag_types"] == ["fandom", "relationship"]
    assert body["works_count"] == 0


@pytest.mark.parametrize("name", ["a", "with space", "x" * 61, "new"])
def test_a_bad_name_is_a_422(reader: User, name: str) -> None:
    response = api_as(reader).post("/api/v1/collections", {"name": name, "title": "Drabbles"})

    assert response.status_code == 422
    assert ["body", "name"] in error_locations(response)
    assert not Collection.objects.exists()


def test_a_taken_name_is_a_422(moderator: User, reader: User) -> None:
    collection(moderator, "drabbles")

    response = api_as(reader).post("/api/v1/collections", {"name": "DRABBLES", "title": "Mine"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "There is already a collection called “DRABBLES”."


def test_a_subcollection_names_a_parent_the_caller_moderates(moderator: User, reader: User) -> None:
    collection(moderator, "meme")

    unknown = api_as(moderator).post("/api/v1/collections", {"name": "r1", "title": "R1", "parent": "nowhere"})
    not_theirs = api_as(reader).post("/api/v1/collections", {"name": "r1", "title": "R1", "parent": "meme"})
    made = api_as(moderator).post("/api/v1/collections", {"name": "r1", "title": "R1", "parent": "meme"})

    assert (unknown.status_code, not_theirs.status_code, made.status_code) == (422, 422, 201)
    assert made.json()["parent"] == "meme"
    assert api_as().get("/api/v1/collections/meme").json()["subcollections"] == ["r1"]


def test_a_null_character_is_a_422_not_a_crash(reader: User) -> None:
    response = api_as(reader).post("/api/v1/collections", {"name": "drabbles", "title": "Dra\x00bbles"})

    assert response.status_code == 422


def test_an_unknown_collection_is_a_404(db: None) -> None:
    response = api_as().get("/api/v1/collections/nowhere")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}


def test_a_collection_counts_the_works_the_caller_may_see(
    moderator: User, author: User, reader: User, make_work: MakeWork
) -> None:
    made = collection(moderator, unrevealed=True)
    services.add_work(made, by=author, work=make_work(author))

    assert api_as().get("/api/v1/collections/Winter-Fest").json()["works_count"] == 0
    assert api_as(reader).get("/api/v1/collections/winter-fest").json()["works_count"] == 0
    assert api_as(moderator).get("/api/v1/collections/winter-fest").json()["works_count"] == 1


# -------------------------------------------------------------------- works' collections


def test_a_work_posted_into_collections_lists_the_ones_it_is_in(moderator: User, author: User) -> None:
    collection(moderator, "winter-fest")
    collection(moderator, "summer-fest", moderated=True)

    response = api_as(author).post("/api/v1/works", new_work(collections=["winter-fest", "summer-fest"]))

    assert response.status_code == 201
    # Waiting for approval is not in yet.
    assert response.json()["collections"] == ["winter-fest"]
    assert CollectionItem.objects.get(collection__name="summer-fest").status == ItemStatus.PENDING


def test_an_unknown_collection_posts_no_work(author: User) -> None:
    response = api_as(author).post("/api/v1/works", new_work(collections=["nowhere"]))

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "value_error", "loc": ["body", "collections"], "msg": "There is no collection called “nowhere”."}
    ]
    assert not Work.objects.exists()


def test_a_closed_collection_is_a_422(moderator: User, author: User) -> None:
    collection(moderator, closed=True)

    response = api_as(author).post("/api/v1/works", new_work(collections=["winter-fest"]))

    assert response.status_code == 422
    assert error_locations(response) == [["body", "collections"]]


def test_patch_replaces_the_works_collections(moderator: User, author: User, make_work: MakeWork) -> None:
    collection(moderator, "winter-fest")
    collection(moderator, "summer-fest")
    work = make_work(author, collections=["winter-fest"])

    changed = api_as(author).patch(f"/api/v1/works/{work.pk}", {"collections": ["summer-fest", "winter-fest"]})
    kept = api_as(author).patch(f"/api/v1/works/{work.pk}", {"title": "Renamed"})
    emptied = api_as(author).patch(f"/api/v1/works/{work.pk}", {"collections": []})

    assert changed.json()["collections"] == ["summer-fest", "winter-fest"]
    assert kept.json()["collections"] == ["summer-fest", "winter-fest"]
    assert emptied.json()["collections"] == []


def test_someone_else_cannot_patch_a_works_collections(
    moderator: User, author: User, reader: User, make_work: MakeWork
) -> None:
    collection(moderator)
    work = make_work(author)

    response = api_as(reader).patch(f"/api/v1/works/{work.pk}", {"collections": ["winter-fest"]})

    assert response.status_code == 403
    assert not CollectionItem.objects.exists()


def test_the_works_list_names_each_works_collections(moderator: User, author: User, make_work: MakeWork) -> None:
    collection(moderator, "winter-fest")
    make_work(author, title="In", collections=["winter-fest"])
    make_work(author, title="Out")

    items = api_as().get("/api/v1/works").json()["items"]

    assert {item["title"]: item["collections"] for item in items} == {"In": ["winter-fest"], "Out": []}


def test_approving_a_work_shows_in_its_cached_summary(moderator: User, author: User, make_work: MakeWork) -> None:
    made = collection(moderator, moderated=True)
    work = make_work(author, collections=["winter-fest"])
    assert api_as().get("/api/v1/works").json()["items"][0]["collections"] == []

    services.approve_item(CollectionItem.objects.get(), by=moderator)

    assert api_as().get("/api/v1/works").json()["items"][0]["collections"] == ["winter-fest"]
    assert api_as().get(f"/api/v1/works/{work.pk}").json()["collections"] == ["winter-fest"]
    assert made.pk
