"""The prompt meme API: a meme's prompts, leaving one, claims, and a work's `fill_prompt`/`fills`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from chapbook.collections import prompts
from chapbook.collections.models import Claim, Collection, Fill, Prompt
from chapbook.collections.services import create_collection
from chapbook.people.models import Pseud, User
from chapbook.tags.models import Tag, TagType
from chapbook.works.services import TagInput
from tests.conftest import build_work, make_user
from tests.test_api_works import api_as, new_work_body

URL = "/api/v1/collections/harbour-meme/prompts"

PROMPT_FIELDS = {
    "id", "url", "collection", "title", "text", "fandoms", "relationships", "characters", "freeforms",
    "prompter", "claims_count", "fills_count", "fills", "created",
}


@pytest.fixture
def mona(db: None) -> User:
    """Mona owns and moderates the prompt meme."""
    return make_user("mona")


@pytest.fixture
def meme(mona: User) -> Collection:
    return create_collection(by=mona, name="harbour-meme", title="Harbour Prompt Meme", prompt_meme=True)


def leave_prompt(collection: Collection, by: User, **kwargs: Any) -> Prompt:
    kwargs.setdefault("tags", TagInput(fandoms=["Lighthouse Stories"], relationships=["Mara/Nell"]))
    kwargs.setdefault("text", "Mara and Nell keep the lamp lit through a storm.")
    return prompts.post_prompt(collection=collection, by=by, **kwargs)


def prompt_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Storm Night",
        "text": "A storm, one lamp.",
        "fandoms": ["Lighthouse Stories"],
        "relationships": ["Mara/Nell"],
    }
    body.update(overrides)
    return body


def error_locs(response: Any) -> list[list[str]]:
    return [error["loc"] for error in response.json()["detail"]]


# Listing -----------------------------------------------------------------------------


def test_listing_shows_each_prompt_with_tags_counts_and_visible_fills(
    author: User, reader: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author, title="Storm Night", tags=TagInput(fandoms=["Lighthouse Stories"], characters=["Mara"]))
    prompts.claim(prompt=prompt, by=reader)
    public = build_work(reader, title="Public Fill")
    restricted = build_work(reader, title="Restricted Fill", restricted=True)
    for work in (public, restricted):
        prompts.fill_prompt(work=work, prompt=prompt, by=reader)

    response = api_as().get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert set(item) == PROMPT_FIELDS
    assert item["id"] == prompt.pk
    assert item["url"].endswith(f"/collections/harbour-meme/prompts/{prompt.pk}")
    assert item["collection"] == "harbour-meme"
    assert item["fandoms"] == ["Lighthouse Stories"] and item["characters"] == ["Mara"]
    assert item["prompter"] == {"name": "alice", "user": "alice"}
    assert (item["claims_count"], item["fills_count"]) == (1, 2)
    # A guest sees the public fill only; a member sees both.
    assert [fill["work"] for fill in item["fills"]] == [public.pk]
    member = api_as(author).get(URL).json()["items"][0]
    assert [fill["work"] for fill in member["fills"]] == [public.pk, restricted.pk]


def test_an_anonymous_prompter_is_only_a_name_in_the_listing(
    author: User, reader: User, mona: User, meme: Collection
) -> None:
    pen = Pseud.objects.create(user=author, name="Lamplighter")
    leave_prompt(meme, author, anonymous=True, pseud=pen)

    for caller in (api_as(), api_as(reader), api_as(mona)):
        response = caller.get(URL)
        item = response.json()["items"][0]
        assert item["prompter"] == {"name": "Anonymous"}
        text = response.content.decode().lower()
        assert "alice" not in text and "lamplighter" not in text and "/users/" not in text
        assert f'"user": {author.pk}' not in text and '"user_id"' not in text


def test_listing_filters_by_tag_unclaimed_and_unfilled_and_sorts_by_claims(
    author: User, reader: User, co_author: User, meme: Collection
) -> None:
    canonical = Tag.objects.create(name="Mara/Nell", type=TagType.RELATIONSHIP, canonical=True)
    Tag.objects.create(name="Nell/Mara", type=TagType.RELATIONSHIP, synonym_of=canonical)
    claimed = leave_prompt(meme, author, title="Claimed", tags=TagInput(relationships=["Nell/Mara"]))
    filled = leave_prompt(meme, author, title="Filled", tags=TagInput(relationships=["Ada/Eve"]))
    leave_prompt(meme, author, title="Untouched", tags=TagInput(relationships=["Ada/Eve"]))
    prompts.claim(prompt=claimed, by=reader)
    prompts.claim(prompt=claimed, by=co_author)
    prompts.fill_prompt(work=build_work(reader), prompt=filled, by=reader)

    def titles(**params: Any) -> list[str]:
        response = api_as().get(URL, params)
        assert response.status_code == 200, response.content
        return [item["title"] for item in response.json()["items"]]

    assert titles() == ["Untouched", "Filled", "Claimed"]
    assert titles(sort="claims")[0] == "Claimed"
    assert titles(tag="mara/nell") == ["Claimed"]
    assert titles(unclaimed="true") == ["Untouched", "Filled"]
    assert titles(unfilled="true") == ["Untouched", "Claimed"]
    assert titles(tag="No Such Tag") == []
    assert titles(page="2") == []


def test_listing_pages_hold_twenty_prompts(author: User, meme: Collection) -> None:
    for number in range(21):
        leave_prompt(meme, author, title=f"P{number}")

    first = api_as().get(URL).json()
    second = api_as().get(URL, {"page": "2"}).json()

    assert first["count"] == second["count"] == 21
    assert len(first["items"]) == 20
    assert [item["title"] for item in second["items"]] == ["P0"]


def test_listing_rejects_bad_filters_with_400(meme: Collection) -> None:
    assert api_as().get(URL, {"sort": "kudos"}).status_code == 400
    assert api_as().get(URL, {"page": "0"}).status_code == 400


def test_listing_a_collection_that_is_not_a_meme_is_a_404(mona: User) -> None:
    create_collection(by=mona, name="plain", title="Plain")

    assert api_as().get("/api/v1/collections/plain/prompts").status_code == 404
    assert api_as().get("/api/v1/collections/nowhere/prompts").status_code == 404


# Leaving prompts ---------------------------------------------------------------------


def test_posting_a_prompt_returns_it_with_201(author: User, meme: Collection) -> None:
    response = api_as(author).post(URL, prompt_body(anonymous=True, freeforms=["Fluff"]))

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == PROMPT_FIELDS
    assert body["prompter"] == {"name": "Anonymous"}
    assert body["text"] == "<p>A storm, one lamp.</p>"
    assert body["freeforms"] == ["Fluff"]
    prompt = Prompt.objects.get()
    assert prompt.anonymous and prompt.user == author


def test_posting_with_a_pseud_by_name(author: User, meme: Collection) -> None:
    Pseud.objects.create(user=author, name="Lamplighter")

    response = api_as(author).post(URL, prompt_body(pseud="lamplighter"))
    unknown = api_as(author).post(URL, prompt_body(pseud="Nobody"))

    assert response.json()["prompter"] == {"name": "Lamplighter", "user": "alice"}
    assert unknown.status_code == 422 and error_locs(unknown) == [["body", "pseud"]]


def test_posting_needs_a_token(meme: Collection) -> None:
    assert api_as().post(URL, prompt_body()).status_code == 401


def test_posting_outside_the_window_is_a_422(author: User, mona: User) -> None:
    create_collection(
        by=mona, name="harbour-meme", title="Later Meme", prompt_meme=True,
        prompts_open_at=timezone.now() + timedelta(days=3),
    )

    response = api_as(author).post(URL, prompt_body())

    assert response.status_code == 422
    assert error_locs(response) == [["body"]]
    assert response.json()["detail"][0]["msg"].startswith("Prompts open on")
    assert not Prompt.objects.exists()


def test_posting_without_a_required_tag_is_a_422_naming_tags(author: User, mona: User) -> None:
    create_collection(
        by=mona, name="harbour-meme", title="Strict Meme", prompt_meme=True, required_tag_types="fandom,relationship"
    )

    response = api_as(author).post(URL, prompt_body(relationships=[]))

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "value_error", "loc": ["body", "tags"], "msg": "Add at least one relationship."}
    ]


def test_posting_an_overlong_or_missing_text_is_a_422(author: User, meme: Collection) -> None:
    assert api_as(author).post(URL, prompt_body(text="x" * 10_001)).status_code == 422
    missing = api_as(author).post(URL, {"fandoms": ["Lighthouse Stories"]})
    assert missing.status_code == 422 and ["body", "text"] in error_locs(missing)


# Claims ------------------------------------------------------------------------------


def test_claiming_returns_201_and_a_second_claim_is_a_422(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    bob = api_as(reader)

    first = bob.post(f"/api/v1/prompts/{prompt.pk}/claims", {})
    second = bob.post(f"/api/v1/prompts/{prompt.pk}/claims", {})

    assert first.status_code == 201
    row = Claim.objects.get()
    assert first.json() == {
        "id": row.pk, "prompt": prompt.pk, "pseud": "bob", "created": first.json()["created"],
    }
    assert second.status_code == 422
    assert second.json()["detail"][0]["msg"] == "You have already claimed this prompt."
    assert Prompt.objects.get(pk=prompt.pk).claims_count == 1


def test_claiming_an_unknown_prompt_is_a_404(reader: User) -> None:
    assert api_as(reader).post("/api/v1/prompts/12345/claims", {}).status_code == 404
    assert api_as(reader).post(f"/api/v1/prompts/{2**63}/claims", {}).status_code == 404


def test_claiming_needs_a_token(author: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)

    assert api_as().post(f"/api/v1/prompts/{prompt.pk}/claims", {}).status_code == 401


def test_dropping_ones_own_claim_is_a_204_and_anyone_elses_a_404(
    author: User, reader: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author)
    row = prompts.claim(prompt=prompt, by=reader)

    assert api_as(author).delete(f"/api/v1/claims/{row.pk}").status_code == 404
    assert api_as(reader).delete(f"/api/v1/claims/{row.pk}").status_code == 204
    assert api_as(reader).delete(f"/api/v1/claims/{row.pk}").status_code == 404
    assert Prompt.objects.get(pk=prompt.pk).claims_count == 0


# A work's fills ----------------------------------------------------------------------


def test_posting_a_work_with_fill_prompt_links_it_and_shows_its_fills(
    author: User, reader: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author, anonymous=True)

    response = api_as(reader).post("/api/v1/works", new_work_body(fill_prompt=prompt.pk))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["fills"] == [
        {"prompt": prompt.pk, "url": body["fills"][0]["url"], "collection": "harbour-meme"}
    ]
    assert body["fills"][0]["url"].endswith(f"/collections/harbour-meme/prompts/{prompt.pk}")
    assert Fill.objects.filter(prompt=prompt, work_id=body["id"]).exists()
    # The listing's summaries say so too, and never who left the prompt.
    listing = api_as().get("/api/v1/works")
    assert listing.json()["items"][0]["fills"][0]["prompt"] == prompt.pk
    assert "alice" not in listing.content.decode()


def test_patching_fill_prompt_links_an_existing_work(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    work = build_work(reader)

    response = api_as(reader).patch(f"/api/v1/works/{work.pk}", {"fill_prompt": prompt.pk})

    assert response.status_code == 200
    assert [fill["prompt"] for fill in response.json()["fills"]] == [prompt.pk]


def test_fill_prompt_errors_are_422_naming_the_field_and_write_nothing(
    author: User, reader: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author)
    Collection.objects.filter(pk=meme.pk).update(closed=True)
    bob = api_as(reader)

    unknown = bob.post("/api/v1/works", new_work_body(fill_prompt=999_999))
    closed = bob.post("/api/v1/works", new_work_body(fill_prompt=prompt.pk))

    assert unknown.status_code == 422 and error_locs(unknown) == [["body", "fill_prompt"]]
    assert closed.status_code == 422 and error_locs(closed) == [["body", "fill_prompt"]]
    assert "is closed" in closed.json()["detail"][0]["msg"]
    assert not Fill.objects.exists()
    from chapbook.works.models import Work

    assert not Work.objects.exists()
