"""Review of issue 6 (collections, prompt memes, anonymity): findings as tests.

Personas: Mona runs the meme, Alice (author) leaves prompts and writes, Bob (reader)
claims and reads, Sam (staff) is the site admin.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chapbook.collections import prompts
from chapbook.collections.models import Collection, Prompt
from chapbook.collections.services import create_collection
from chapbook.people.models import ApiToken, User
from chapbook.works.services import TagInput
from tests.conftest import login, make_user

HUGE = "9" * 25


@pytest.fixture
def mona(db: None) -> User:
    return make_user("mona")


@pytest.fixture
def meme(mona: User) -> Collection:
    return create_collection(by=mona, name="harbour-meme", title="Harbour Prompt Meme", prompt_meme=True)


@pytest.fixture
def plain(mona: User) -> Collection:
    return create_collection(by=mona, name="plain-shelf", title="Plain Shelf")


def leave_prompt(collection: Collection, by: User, **kwargs: Any) -> Prompt:
    kwargs.setdefault("tags", TagInput(fandoms=["Lighthouse Stories"]))
    kwargs.setdefault("text", "Two keepers and one lamp.")
    return prompts.post_prompt(collection=collection, by=by, **kwargs)


def bearer(user: User) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(user)[1]}"}


def test_huge_ids_in_collection_and_prompt_pages_are_404s_not_500s(meme: Collection, mona: User, reader: User) -> None:
    for client in (login(mona), login(reader)):
        client.raise_request_exception = False
        for url in (
            f"/collections/harbour-meme/prompts/{HUGE}",
            f"/collections/harbour-meme/prompts/{HUGE}/edit",
            f"/collections/harbour-meme/prompts/{HUGE}/delete",
            f"/collections/harbour-meme/prompts/{HUGE}/identity",
            f"/collections/harbour-meme/moderators/{HUGE}/remove",
            f"/collections/harbour-meme/items/{HUGE}/approve",
            f"/collections/invitations/{HUGE}",
            f"/works/{HUGE}/match-prompt",
        ):
            for response in (client.get(url), client.post(url, {"reason": "abuse", "answer": "accept"})):
                assert response.status_code in {302, 400, 403, 404, 405}, (url, response.status_code)
        for url in (f"/collections/harbour-meme/prompts/{HUGE}/claim", f"/claims/{HUGE}/drop"):
            response = client.post(url)
            assert response.status_code in {400, 403, 404}, (url, response.status_code)


def test_huge_page_and_parent_parameters_do_not_500(meme: Collection, mona: User) -> None:
    client = login(mona)
    client.raise_request_exception = False
    for url in (
        f"/collections/harbour-meme/prompts?page={HUGE}",
        f"/collections/harbour-meme?page={HUGE}",
        f"/collections/harbour-meme/items?page={HUGE}&status=nonsense",
        f"/collections?page={HUGE}",
        f"/claims?page={HUGE}",
        f"/collections/new?parent={HUGE}",
        "/collections/new?parent=%00",
        "/collections/harbour-meme/prompts?tag=%00&sort=%00",
        "/collections/harbour-meme?tag=%00",
    ):
        response = client.get(url)
        assert response.status_code in {200, 400, 404}, (url, response.status_code)
    response = client.post("/collections/new", {"name": "sub-meme", "title": "Sub", "parent": HUGE})
    assert response.status_code in {200, 400}, response.status_code


def test_prompt_pages_of_a_collection_that_is_not_a_prompt_meme_are_404s(plain: Collection, reader: User) -> None:
    client = login(reader)
    client.raise_request_exception = False
    for url in ("/collections/plain-shelf/prompts", "/collections/plain-shelf/prompts/new", "/collections/plain-shelf/prompts/1"):
        assert client.get(url).status_code == 404, url
    assert client.get("/api/v1/collections/plain-shelf/prompts", **bearer(reader)).status_code == 404
    response = client.post(
        "/api/v1/collections/plain-shelf/prompts", {"text": "x", "fandoms": ["A"]}, content_type="application/json", **bearer(reader)
    )
    assert response.status_code == 404


def test_api_huge_ids_and_nul_characters_are_client_errors(meme: Collection, reader: User) -> None:
    client = Client(raise_request_exception=False)
    auth = bearer(reader)
    assert client.post(f"/api/v1/prompts/{HUGE}/claims", {}, content_type="application/json", **auth).status_code in {404, 422}
    assert client.delete(f"/api/v1/claims/{HUGE}", **auth).status_code in {404, 422}
    for body in (
        {"text": "lamp\x00", "fandoms": ["Lighthouse Stories"]},
        {"text": "lamp", "fandoms": ["Light\x00house"]},
        {"text": "lamp", "fandoms": ["Lighthouse Stories"], "pseud": "b\x00b"},
    ):
        response = client.post("/api/v1/collections/harbour-meme/prompts", body, content_type="application/json", **auth)
        assert response.status_code in {400, 422}, (body, response.status_code)
    for query in ("tag=%00", f"page={HUGE}", "sort=%00", "unclaimed=%00"):
        response = client.get(f"/api/v1/collections/harbour-meme/prompts?{query}", **auth)
        assert response.status_code in {200, 400, 422}, (query, response.status_code)
    assert client.get("/api/v1/collections/harbour%00meme", **auth).status_code in {400, 404, 422}


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "2024-02-30T00:00:00Z"])
def test_api_collection_with_dates_at_the_edge_of_time_is_a_422(reader: User, when: str) -> None:
    client = Client(raise_request_exception=False)
    body = {"name": "edge-meme", "title": "Edge", "prompt_meme": True, "prompts_open_at": when}
    response = client.post("/api/v1/collections", body, content_type="application/json", **bearer(reader))
    assert response.status_code in {201, 400, 422}, response.status_code
    body = {"name": "edge-meme2", "title": "Edge", "prompt_meme": True, "prompts_close_at": when}
    response = client.post("/api/v1/collections", body, content_type="application/json", **bearer(reader))
    assert response.status_code in {201, 400, 422}, response.status_code
    if response.status_code == 201:
        assert client.get("/api/v1/collections/edge-meme2", **bearer(reader)).status_code == 200
        assert client.get("/collections/edge-meme2/prompts").status_code == 200


def test_empty_and_nul_forms_are_form_errors(meme: Collection, reader: User, mona: User) -> None:
    client = login(reader)
    client.raise_request_exception = False
    for data in ({}, {"text": "\x00"}, {"text": "lamp", "fandoms": "Light\x00house"}, {"text": "a", "fandoms": "x", "pseud": HUGE}):
        response = client.post("/collections/harbour-meme/prompts/new", data)
        assert response.status_code == 200, (data, response.status_code)
    for data in ({}, {"name": "a\x00b", "title": "t"}, {"name": "nul-meme", "title": "t\x00", "prompt_meme": "on", "prompts_open_at": "9999-12-31T23:59"}):
        response = client.post("/collections/new", data)
        assert response.status_code == 200, (data, response.status_code)
    mod = login(mona)
    mod.raise_request_exception = False
    for data in ({}, {"username": "\x00"}, {"username": "nobody-here"}):
        response = mod.post("/collections/harbour-meme/moderators", data)
        assert response.status_code in {200, 302}, (data, response.status_code)
    for data in ({}, {"action": "schedule", "reveal_at": "not a date"}, {"action": "schedule", "reveal_at": "9999-12-31T23:59"}, {"action": "\x00"}):
        response = mod.post("/collections/harbour-meme/reveal", data)
        assert response.status_code in {200, 302}, (data, response.status_code)


# --- Anonymity and unrevealed works -----------------------------------------------------


def test_a_moderator_of_another_collection_cannot_read_an_unrevealed_work(
    mona: User, author: User, reader: User, make_work: Any
) -> None:
    create_collection(by=mona, name="sealed-fest", title="Sealed Fest", unrevealed=True)
    create_collection(by=reader, name="bobs-recs", title="Bob's Recs")  # anyone can run a collection
    work = make_work(author, title="Moths at the Sill", collections=["sealed-fest", "bobs-recs"])
    work.refresh_from_db()
    assert work.unrevealed
    assert login(mona).get(f"/works/{work.pk}/").status_code == 200
    assert login(reader).get(f"/works/{work.pk}/").status_code == 404


def test_a_claimer_whose_fill_is_anonymous_is_not_named_on_the_prompt(
    mona: User, author: User, reader: User, make_work: Any
) -> None:
    """A named claim next to an anonymous fill says who wrote it (one claim, one fill)."""
    meme = create_collection(by=mona, name="harbour-meme", title="Harbour Prompt Meme", prompt_meme=True)
    create_collection(by=mona, name="masque", title="Masque", anonymous=True)
    prompt = leave_prompt(meme, reader)
    prompts.claim(prompt=prompt, by=author)
    work = make_work(author, title="Lamp Oil", collections=["masque"], fill_prompt=prompt)
    work.refresh_from_db()
    assert work.anonymous
    for client in (Client(), login(reader), login(mona)):
        page = client.get(f"/collections/harbour-meme/prompts/{prompt.pk}").content.decode()
        assert "Lamp Oil" in page
        assert "alice" not in page.lower()
    # Alice still sees her own claim on her claims page.
    assert "Drop claim" in login(author).get("/claims").content.decode()


def test_the_prompter_hears_of_an_anonymous_fill_without_its_writer(
    mona: User, author: User, reader: User, make_work: Any
) -> None:
    meme = create_collection(by=mona, name="harbour-meme", title="Harbour Prompt Meme", prompt_meme=True)
    create_collection(by=mona, name="masque", title="Masque", anonymous=True)
    prompt = leave_prompt(meme, reader)
    make_work(author, title="Lamp Oil", collections=["masque"], fill_prompt=prompt)
    client = login(reader)
    for url in ("/inbox", "/api/v1/inbox"):
        response = client.get(url, **(bearer(reader) if url.startswith("/api/") else {}))
        assert response.status_code == 200
        assert b"Lamp Oil" in response.content, url
        assert b"alice" not in response.content.lower(), url
