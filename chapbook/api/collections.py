"""/api/v1/collections: make a collection, and read one.

The same services as the site's pages, so the same rules (a name is a unique slug, a
parent must be one the caller moderates). A collection is public; its `works_count`
counts only the works the caller may see there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from pydantic import BaseModel, Field, field_validator

from chapbook.api.auth import OPTIONAL_TOKEN_DOC, caller, signed_in, token_required
from chapbook.api.schemas import FieldErrors, Message, absolute
from chapbook.collections.models import Collection, Moderator
from chapbook.collections.selectors import collection_named, collection_work_ids
from chapbook.collections.services import create_collection

router = Router(tags=["collections"])

ERRORS: dict[int, Any] = {400: Message, 401: Message, 403: Message, 404: Message, 422: FieldErrors}
# Written out so that OpenAPI lists them: the TagType values.
TagTypeName = Literal["fandom", "rating", "warning", "category", "relationship", "character", "freeform"]


class CollectionOut(Schema):
    name: str
    title: str
    url: str
    description: str = Field(description="Sanitized HTML.")
    owner: str = Field(description="The owner's username.")
    moderators: list[str] = Field(description="Usernames of the moderators who accepted, the owner first.")
    parent: str | None = Field(description="The parent collection's name, for a subcollection.")
    subcollections: list[str]
    closed: bool
    moderated: bool
    anonymous: bool
    unrevealed: bool
    works_hidden: bool = Field(description="Unrevealed and not revealed yet.")
    creators_hidden: bool = Field(description="Anonymous and not revealed yet.")
    works_revealed_at: datetime | None
    creators_revealed_at: datetime | None
    reveal_works_on: datetime | None = Field(description="When the works are to be revealed on their own.")
    reveal_creators_on: datetime | None
    prompt_meme: bool
    prompts_open_at: datetime | None
    prompts_close_at: datetime | None
    rules: str = Field(description="Sanitized HTML.")
    required_tag_types: list[str] = Field(description="Tag types every prompt must carry.")
    works_count: int = Field(description="Works in it (and its subcollections) that the caller may see.")
    created: datetime

    @classmethod
    def from_collection(cls, collection: Collection, *, works_count: int) -> CollectionOut:
        moderators = (
            Moderator.objects.filter(collection=collection, accepted=True)
            .order_by("user__username")
            .values_list("user__username", flat=True)
        )
        return cls(
            name=collection.name,
            title=collection.title,
            url=absolute(collection.get_absolute_url()),
            description=collection.description,
            owner=collection.owner.username,
            moderators=[collection.owner.username, *moderators],
            parent=collection.parent.name if collection.parent else None,
            subcollections=list(collection.children.order_by("name").values_list("name", flat=True)),
            closed=collection.closed,
            moderated=collection.moderated,
            anonymous=collection.anonymous,
            unrevealed=collection.unrevealed,
            works_hidden=collection.hides_works,
            creators_hidden=collection.hides_creators,
            works_revealed_at=collection.works_revealed_at,
            creators_revealed_at=collection.creators_revealed_at,
            reveal_works_on=collection.reveal_works_on,
            reveal_creators_on=collection.reveal_creators_on,
            prompt_meme=collection.prompt_meme,
            prompts_open_at=collection.prompts_open_at,
            prompts_close_at=collection.prompts_close_at,
            rules=collection.rules,
            required_tag_types=[t for t in collection.required_tag_types.split(",") if t],
            works_count=works_count,
            created=collection.created_at,
        )


class CollectionIn(BaseModel):
    """A new collection. The name is its address: 2 to 60 letters, digits, - or _."""

    name: str = Field(max_length=60)
    title: str = Field(max_length=255)
    description: str = Field("", max_length=10_000, description="HTML; it is sanitized.")
    parent: str | None = Field(None, description="The name of a collection you moderate, to make a subcollection.")
    closed: bool = False
    moderated: bool = False
    anonymous: bool = False
    unrevealed: bool = False
    prompt_meme: bool = False
    prompts_open_at: datetime | None = Field(None, description="Empty: open from the start. Without a zone: UTC.")
    prompts_close_at: datetime | None = Field(None, description="Empty: never closes. Without a zone: UTC.")
    rules: str = Field("", max_length=10_000, description="HTML; it is sanitized.")
    required_tag_types: list[TagTypeName] = Field([], description="Tag types every prompt must carry.")

    @field_validator("name", "title", "description", "rules", "parent")
    @classmethod
    def no_nul(cls, value: str | None) -> str | None:
        # PostgreSQL refuses NUL in text; it would otherwise be a 500, not a 422.
        if value is not None and "\x00" in value:
            raise ValueError("Null characters are not allowed.")
        return value

    @field_validator("prompts_open_at", "prompts_close_at")
    @classmethod
    def aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return value
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        try:
            # Stored in UTC: a date at the edge of time with an offset would overflow there (a 500).
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("That date is out of range.") from None


def collection_out(request: HttpRequest, collection: Collection) -> CollectionOut:
    count = collection_work_ids(collection, viewer=caller(request)).count()
    return CollectionOut.from_collection(collection, works_count=count)


@router.post("", auth=token_required, response={201: CollectionOut, **ERRORS}, summary="Make a collection")
def post_collection(request: HttpRequest, payload: CollectionIn) -> Status[CollectionOut]:
    user = signed_in(request)
    parent = None
    if payload.parent:
        parent = collection_named(payload.parent)
        if parent is None:
            raise ValidationError({"parent": [f"There is no collection called “{payload.parent}”."]})
    fields = payload.model_dump(exclude={"parent"})
    collection = create_collection(by=user, parent=parent, **fields)
    return Status(201, collection_out(request, collection_named(collection.name) or collection))


@router.get(
    "/{name}",
    response={200: CollectionOut, 404: Message},
    summary="A collection by its name (any case)",
    openapi_extra=OPTIONAL_TOKEN_DOC,
)
def get_collection(request: HttpRequest, name: str) -> CollectionOut:
    collection = collection_named(name)
    if collection is None:
        raise Http404
    return collection_out(request, collection)
