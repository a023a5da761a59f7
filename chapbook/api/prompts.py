"""/api/v1 prompt memes: a meme's prompts, leaving one, claiming one, dropping a claim.

The same services and selectors as the site's pages, so the same rules: the prompt
window, required tags, one claim per writer. A prompter is named only through
`prompts.prompter_name`; an anonymous prompt's `prompter` is {"name": "Anonymous"} and no
user, pseud or id of the prompter appears anywhere in the answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel

from chapbook.api.auth import OPTIONAL_TOKEN_DOC, caller, signed_in, token_required
from chapbook.api.schemas import FieldErrors, Id, Message, absolute, page_of
from chapbook.collections import prompts as prompt_services
from chapbook.collections.models import Claim, Collection, Prompt
from chapbook.collections.selectors import collection_named
from chapbook.people.models import Pseud, User
from chapbook.works.services import TagInput

collections_router = Router(tags=["prompt memes"])
prompts_router = Router(tags=["prompt memes"])
claims_router = Router(tags=["prompt memes"])

ERRORS: dict[int, Any] = {400: Message, 401: Message, 403: Message, 404: Message, 422: FieldErrors}
PAGE_SIZE = 20
# Output ------------------------------------------------------------------------------


class Prompter(Schema):
    name: str = Field(description="The prompter's pseud, or “Anonymous”.")
    user: str | None = Field(None, description="The prompter's username; left out for an anonymous prompter.")


class FillOut(Schema):
    work: int
    url: str


class PromptOut(Schema):
    id: int
    url: str
    collection: str
    title: str
    text: str = Field(description="Sanitized HTML.")
    fandoms: list[str]
    relationships: list[str]
    characters: list[str]
    freeforms: list[str]
    prompter: Prompter
    claims_count: int
    fills_count: int
    fills: list[FillOut] = Field(description="The fills the caller may read.")
    created: datetime

    @classmethod
    def from_prompt(cls, prompt: Prompt) -> PromptOut:
        """Reads what `prompts.with_details` prefetched (tags, the caller's visible fills)."""
        tags = list(prompt.tags.all())
        hidden = prompt_services.prompter_hidden(prompt)
        prompter = Prompter(name=prompt_services.prompter_name(prompt), user=None)
        if not hidden:
            pseud = prompt.pseud or prompt.user.default_pseud
            prompter = Prompter(name=pseud.name, user=pseud.user.username)
        fills = getattr(prompt, "visible_fills", [])
        return cls(
            id=prompt.pk,
            url=absolute(prompt.get_absolute_url()),
            collection=prompt.collection.name,
            title=prompt.title,
            text=prompt.text,
            **{
                field: [tag.name for tag in tags if tag.type == tag_type]
                for field, tag_type in prompt_services.PROMPT_TAG_FIELDS.items()
            },
            prompter=prompter,
            claims_count=prompt.claims_count,
            fills_count=prompt.fills_count,
            fills=[FillOut(work=fill.work_id, url=absolute(fill.work.get_absolute_url())) for fill in fills],
            created=prompt.created_at,
        )


class PromptPage(Schema):
    count: int = Field(description="How many prompts match, on all pages.")
    items: list[PromptOut]


class ClaimOut(Schema):
    id: int
    prompt: int
    pseud: str
    created: datetime


class PromptFilters(BaseModel):
    tag: str | None = Field(None, max_length=150, description="Prompts with this tag (its synonyms count too).")
    unclaimed: bool = Field(False, description="Only prompts nobody has claimed.")
    unfilled: bool = Field(False, description="Only prompts with no fill yet.")
    sort: Literal["date", "claims"] = Field("date", description="Newest first, or most claimed first.")
    page: int = Field(1, ge=1)


# Input -------------------------------------------------------------------------------


class PromptIn(BaseModel):
    title: str = Field("", max_length=prompt_services.MAX_TITLE)
    text: str = Field(max_length=prompt_services.MAX_TEXT)
    fandoms: list[str] = []
    relationships: list[str] = []
    characters: list[str] = []
    freeforms: list[str] = []
    anonymous: bool = Field(False, description="Nobody sees who left it, the collection's moderators included.")
    pseud: str | None = Field(None, description="One of your pseuds' names; your default pseud if left out.")


class ClaimIn(BaseModel):
    pseud: str | None = Field(None, description="One of your pseuds' names; your default pseud if left out.")


# Helpers -----------------------------------------------------------------------------


def meme(name: str) -> Collection:
    collection = collection_named(name)
    if collection is None or not collection.prompt_meme:
        raise Http404
    return collection


def own_pseud(user: User, name: str | None) -> Pseud | None:
    if not name:
        return None
    pseud = user.pseuds.filter(name__iexact=name.strip()).first()
    if pseud is None:
        raise ValidationError({"pseud": [f"You have no pseud called “{name}”."]})
    return pseud


def fill_prompt_from_id(prompt_id: int | None) -> Prompt | None:
    """The prompt a work's `fill_prompt` names, for the works API (422 when there is none)."""
    if prompt_id is None:
        return None
    prompt = Prompt.objects.select_related("collection").filter(pk=prompt_id, collection__prompt_meme=True).first()
    if prompt is None:
        raise ValidationError({"fill_prompt": [f"There is no prompt {prompt_id}."]})
    return prompt


# Operations --------------------------------------------------------------------------


@collections_router.get(
    "/{name}/prompts",
    response={200: PromptPage, **ERRORS},
    summary="A prompt meme's prompts",
    description="Newest first (or most claimed, `sort=claims`), 20 a page. An unknown `tag` is an empty page.",
    openapi_extra=OPTIONAL_TOKEN_DOC,
    exclude_none=True,
)
def list_prompts(request: HttpRequest, name: str, filters: Query[PromptFilters]) -> PromptPage:
    user = caller(request)
    collection = meme(name)
    found = prompt_services.prompts_for(
        collection,
        viewer=user,
        tag=(filters.tag or "").strip() or None,
        unclaimed=filters.unclaimed,
        unfilled=filters.unfilled,
        sort=filters.sort,
    )
    count, items = page_of(found, filters.page, PAGE_SIZE)
    return PromptPage(count=count, items=[PromptOut.from_prompt(prompt) for prompt in items])


@collections_router.post(
    "/{name}/prompts",
    auth=token_required,
    response={201: PromptOut, **ERRORS},
    summary="Leave a prompt",
    description="Only while the meme takes prompts, with every tag type it requires: 422 otherwise.",
    exclude_none=True,
)
def create_prompt(request: HttpRequest, name: str, payload: PromptIn) -> Status[PromptOut]:
    user = signed_in(request)
    collection = meme(name)
    prompt = prompt_services.post_prompt(
        collection=collection,
        by=user,
        title=payload.title,
        text=payload.text,
        tags=TagInput(**{field: getattr(payload, field) for field in prompt_services.PROMPT_TAG_FIELDS}),
        anonymous=payload.anonymous,
        pseud=own_pseud(user, payload.pseud),
    )
    fresh = prompt_services.prompt_in(collection, prompt.pk, viewer=user)
    assert fresh is not None
    return Status(201, PromptOut.from_prompt(fresh))


@prompts_router.post(
    "/{prompt_id}/claims",
    auth=token_required,
    response={201: ClaimOut, **ERRORS},
    summary="Claim a prompt",
    description="Any number of writers may claim a prompt, each once: a second claim is a 422.",
)
def create_claim(request: HttpRequest, prompt_id: Id, payload: ClaimIn | None = None) -> Status[ClaimOut]:
    user = signed_in(request)
    prompt = Prompt.objects.select_related("collection").filter(pk=prompt_id, collection__prompt_meme=True).first()
    if prompt is None:
        raise Http404
    row = prompt_services.claim(prompt=prompt, by=user, pseud=own_pseud(user, payload.pseud if payload else None))
    pseud = row.pseud or user.default_pseud
    return Status(201, ClaimOut(id=row.pk, prompt=prompt.pk, pseud=pseud.name, created=row.created_at))


@claims_router.delete(
    "/{claim_id}", auth=token_required, response={204: None, **ERRORS}, summary="Drop one of your claims"
)
def delete_claim(request: HttpRequest, claim_id: Id) -> Status[None]:
    user = signed_in(request)
    # Someone else's claim is a 404 like a missing one.
    row = get_object_or_404(Claim, pk=claim_id, user=user)
    prompt_services.drop_claim(row, by=user)
    return Status(204, None)
