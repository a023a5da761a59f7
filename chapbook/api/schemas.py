"""What the API reads and writes, as pydantic schemas (they are also the OpenAPI schema)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.core.validators import URLValidator
from django.urls import reverse
from ninja import P, PathEx, Schema
from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from chapbook.collections.prompts import fills_of_work
from chapbook.collections.selectors import collection_names
from chapbook.downloads.services import available_formats
from chapbook.listings.query import FACET_SIZE, MAX_PAGE_SIZE
from chapbook.tags.models import Tag
from chapbook.works.models import LANGUAGE_NAMES, Chapter, Work

Format = Literal["html", "markdown", "text"]
# Ids are BIGINTs: a larger number would overflow the query (SQLite raises) instead of
# missing. (NUL characters in any string never reach a schema: chapbook.site.nul refuses them.)
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# The same bounds for an id in the path (/works/{work_id}): out of range is a 422, not a 500.
PathId = PathEx[int, P(ge=1, le=MAX_ID)]


def page_of(items: Any, number: int, size: int) -> tuple[int, list[Any]]:
    """(count on all pages, this page's items); a page past the end is empty but keeps the count."""
    paginator = Paginator(items, size)
    return paginator.count, list(paginator.page(number).object_list) if number <= paginator.num_pages else []
CommentPermissionName = Literal["everyone", "users", "off"]

# The same limits as the posting form (works/forms.py), so that the API accepts nothing
# the site would refuse.
MAX_SUMMARY = 5000
MAX_NOTES = 10_000
MAX_CHAPTER_TEXT = 510_000


def absolute(path: str) -> str:
    return settings.BASE_URL + path


def _names(tags: Iterable[Tag]) -> list[str]:
    return [tag.name for tag in tags]


# Output


def gift_names(work: Work) -> list[str]:
    """The work's gifts as the API writes them: a user's username, or the plain name."""
    return [gift.recipient.username if gift.recipient else gift.recipient_name for gift in work.visible_gifts()]


class Creator(Schema):
    pseud: str
    user: str


class Source(Schema):
    site: str
    url: str


class Prompt(Schema):
    text: str
    relationship: str


class PromptFill(Schema):
    """A prompt the work was posted to fill, in a prompt meme (never who left the prompt)."""

    prompt: int
    url: str
    collection: str


class Stats(Schema):
    kudos: int
    comments: int
    bookmarks: int = Field(description="Public bookmarks.")
    hits: int
    subscriptions: int


class ChapterOut(Schema):
    position: int
    title: str
    notes: str
    end_notes: str
    html: str
    word_count: int

    @classmethod
    def from_chapter(cls, chapter: Chapter) -> ChapterOut:
        return cls(
            position=chapter.position,
            title=chapter.title,
            notes=chapter.notes,
            end_notes=chapter.end_notes,
            html=chapter.html,
            word_count=chapter.word_count,
        )


class WorkSummary(Schema):
    """A work without its chapters: what a listing shows."""

    id: int
    url: str
    title: str
    creators: list[Creator] = Field(description="Empty for an anonymous work: no pseud or user is named.")
    anonymous: bool = Field(description="The work's creators are hidden until its collection reveals them.")
    gifts: list[str] = Field(
        description="Who the work is for: usernames of users and plain names of people without an account."
    )
    fandoms: list[str]
    ratings: list[str]
    warnings: list[str]
    categories: list[str]
    relationships: list[str]
    characters: list[str]
    freeforms: list[str]
    summary: str
    notes: str
    end_notes: str
    language: str
    word_count: int
    chapter_count: int
    expected_chapters: int | None
    complete: bool
    restricted: bool
    draft: bool
    published: datetime | None
    updated: datetime | None
    source: Source | None
    prompt: Prompt | None = Field(description="The prompt an imported work's notes quoted (free text).")
    fills: list[PromptFill] = Field(description="The prompt meme prompts this work fills.")
    collections: list[str] = Field(description="Names of the collections the work is in (approved into).")
    stats: Stats
    comment_permission: CommentPermissionName
    moderate_comments: bool

    @staticmethod
    def fields_of(work: Work) -> dict[str, Any]:
        """Reads only what `with_blurb` prefetched, so a page of summaries costs no query per work."""
        has_source = bool(work.source_site or work.source_url)
        has_prompt = bool(work.prompt_text or work.prompt_relationship)
        return {
            "id": work.pk,
            "url": absolute(work.get_absolute_url()),
            "title": work.title,
            # Through shown_creators, never creators: an anonymous work names nobody here.
            "creators": [Creator(pseud=pseud.name, user=pseud.user.username) for pseud in work.shown_creators],
            "anonymous": work.anonymous,
            "gifts": gift_names(work),
            "fandoms": _names(work.fandoms),
            "ratings": _names(work.ratings),
            "warnings": _names(work.warnings),
            "categories": _names(work.categories),
            "relationships": _names(work.relationships),
            "characters": _names(work.characters),
            "freeforms": _names(work.freeforms),
            "summary": work.summary,
            "notes": work.notes,
            "end_notes": work.end_notes,
            "language": work.language,
            "word_count": work.word_count,
            "chapter_count": work.chapter_count,
            "expected_chapters": work.expected_chapters,
            "complete": work.complete,
            "restricted": work.restricted,
            "draft": work.draft,
            "published": work.published_at,
            "updated": work.updated_at,
            "source": Source(site=work.source_site, url=work.source_url) if has_source else None,
            "prompt": Prompt(text=work.prompt_text, relationship=work.prompt_relationship) if has_prompt else None,
            "fills": [
                PromptFill(
                    prompt=fill.prompt_id,
                    url=absolute(fill.prompt.get_absolute_url()),
                    collection=fill.prompt.collection.name,
                )
                for fill in fills_of_work(work)
            ],
            "collections": collection_names(work),
            "stats": Stats(
                kudos=work.kudos_count,
                comments=work.comments_count,
                bookmarks=work.bookmarks_count,
                hits=work.hits_count,
                subscriptions=work.subscriptions_count,
            ),
            "comment_permission": work.comment_permission,
            "moderate_comments": work.moderate_comments,
        }

    @classmethod
    def from_work(cls, work: Work) -> WorkSummary:
        return cls(**cls.fields_of(work))


class WorkDetail(WorkSummary):
    chapters: list[ChapterOut]
    downloads: dict[str, str] | None = Field(
        description="Download links by format (epub, pdf, html, txt; azw3 and mobi when the server can convert); null for drafts."
    )

    @classmethod
    def from_work_and_chapters(cls, work: Work, chapters: Iterable[Chapter]) -> WorkDetail:
        downloads = None
        if not work.draft:
            downloads = {
                fmt: absolute(reverse("downloads:work", args=[work.pk, fmt])) for fmt in available_formats()
            }
        return cls(**cls.fields_of(work), chapters=[ChapterOut.from_chapter(c) for c in chapters], downloads=downloads)


class FacetOut(Schema):
    name: str
    count: int = Field(description="Matching works carrying this tag (or its synonyms and sub-tags).")


class Facets(Schema):
    """The biggest tags of each type among all the matching works, not only this page's."""

    fandom: list[FacetOut]
    relationship: list[FacetOut]
    character: list[FacetOut]
    freeform: list[FacetOut]
    rating: list[FacetOut]
    warning: list[FacetOut]
    category: list[FacetOut]


class WorkPage(Schema):
    count: int = Field(description="How many works match, on all pages.")
    items: list[WorkSummary]
    # Left out of the response rather than null when not asked for: a page without
    # facets reads exactly as it did before they existed.
    facets: Facets | None = Field(
        default=None, description=f"Up to {FACET_SIZE} tags per type, biggest first; only present with `facets=true`."
    )


class TagOut(Schema):
    name: str
    type: str
    canonical: bool
    works_count: int = Field(description="Works carrying this tag that the caller may see.")
    url: str


class Message(Schema):
    detail: str


class FieldError(Schema):
    type: str
    loc: list[str | int]
    msg: str


class FieldErrors(Schema):
    detail: list[FieldError]


# Input
#
# Plain pydantic models, not ninja Schemas: a Schema also reads attributes off any object
# (to serialise ORM rows), so it would take the string "AO3" as a source with no fields.


# Written out so that OpenAPI lists the choices; a test keeps them equal to listings.query.SORTS.
Sort = Literal["updated", "posted", "title", "creator", "words", "kudos", "hits", "comments", "bookmarks"]
# Enough for any reader's filter; a bound keeps one request from asking for thousands of tags.
MAX_FILTER_TAGS = 50
MAX_WORDS = 2**31 - 1
# No length limit on a name: ninja would report it at ["query", "filters", "include", 0];
# an overlong name is simply an unknown tag, which the view reports at ["query", "include"].
TagNames = list[Annotated[str, StringConstraints(strip_whitespace=True)]]


def _tag_names(description: str) -> Any:
    return Field([], max_length=MAX_FILTER_TAGS, description=f"{description} Repeat the parameter for more.")


class WorkFilters(BaseModel):
    """GET /works's query string. Tag names are looked up by the view (they need the database)."""

    include: TagNames = _tag_names(
        "Only works with this tag (exact name, any case; its synonyms and sub-tags count too)."
    )
    exclude: TagNames = _tag_names("No works with this tag, its synonyms or sub-tags.")
    rating: TagNames = _tag_names("Works with any of these ratings.")
    warning: TagNames = _tag_names("Works with any of these archive warnings.")
    category: TagNames = _tag_names("Works in any of these categories.")
    tag: str | None = Field(
        None,
        description="The same as one `include`, except that an unknown name is an empty page rather than a 400.",
    )
    complete: bool = Field(False, description="Only complete works.")
    crossover: Literal["", "only", "exclude"] = Field(
        "", description="`only`: works in more than one unrelated fandom; `exclude`: none of those."
    )
    lang: str = Field("", description=f"A language code: {', '.join(LANGUAGE_NAMES)}.")
    words_min: int | None = Field(None, ge=0, le=MAX_WORDS)
    words_max: int | None = Field(None, ge=0, le=MAX_WORDS)
    updated_since: date | None = Field(None, description="Only works updated on or after this day (YYYY-MM-DD).")
    sort: Sort = "updated"
    order: Literal["", "asc", "desc"] = Field(
        "", description="Empty: A to Z for title and creator, newest or biggest first for the rest."
    )
    # No upper bound: a page past the end is an empty page, however far past.
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)
    facets: bool = Field(False, description="Add the biggest tags of each type among the matching works.")

    @field_validator("lang")
    @classmethod
    def known_language(cls, value: str) -> str:
        if value and value not in LANGUAGE_NAMES:
            raise ValueError("Unknown language code.")
        return value

    @field_validator("words_max")
    @classmethod
    def not_below_min(cls, value: int | None, info: ValidationInfo) -> int | None:
        # Fields validate in order, so words_min is in info.data when it was valid.
        low = info.data.get("words_min")
        if value is not None and low is not None and value < low:
            raise ValueError("Must not be less than words_min.")
        return value


def _check_url(value: str) -> str:
    value = value.strip()
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except DjangoValidationError:
            raise ValueError("Enter a valid http:// or https:// URL.") from None
    return value


class SourceIn(BaseModel):
    site: str = Field("", max_length=100)
    url: str = Field("", max_length=500)

    @field_validator("url")
    @classmethod
    def valid_url(cls, value: str) -> str:
        return _check_url(value)


class PromptIn(BaseModel):
    text: str = Field("", max_length=MAX_NOTES)
    relationship: str = Field("", max_length=150)


class ChapterIn(BaseModel):
    text: str = Field(max_length=MAX_CHAPTER_TEXT)
    format: Format = "html"
    title: str = Field("", max_length=255)
    notes: str = Field("", max_length=MAX_NOTES)
    end_notes: str = Field("", max_length=MAX_NOTES)


class WorkIn(BaseModel):
    """A new work. Titles, tags and chapters are checked by the posting service, as on the site."""

    title: str = Field(max_length=255)
    summary: str = Field("", max_length=MAX_SUMMARY)
    notes: str = Field("", max_length=MAX_NOTES)
    end_notes: str = Field("", max_length=MAX_NOTES)
    notes_format: Format = Field("html", description="The format of summary, notes and end_notes.")
    fandoms: list[str] = []
    ratings: list[str] = []
    warnings: list[str] = []
    categories: list[str] = []
    relationships: list[str] = []
    characters: list[str] = []
    freeforms: list[str] = []
    language: str = "en"
    expected_chapters: int | None = None
    restricted: bool = False
    draft: bool = False
    comment_permission: CommentPermissionName = Field("everyone", description="Who may comment: everyone, users or off.")
    moderate_comments: bool = Field(False, description="Hold new comments until a creator approves them.")
    source: SourceIn | None = None
    prompt: PromptIn | None = None
    fill_prompt: int | None = Field(
        None, ge=1, le=2**63 - 1, description="The id of a prompt meme prompt this work fills (claimed or not)."
    )
    chapters: list[ChapterIn]
    pseuds: list[str] = Field([], description="Names of your own pseuds; your default pseud if empty.")
    gifts: list[str] = Field(
        [], description="Who the work is for: a username gives it to that user, any other name is shown as written."
    )
    collections: list[str] = Field(
        [], description="Names of collections to add the work to, by each collection's rules (moderated ones wait)."
    )


# Fields a PATCH may leave out but may not set to null: null would mean nothing for them.
_NOT_NULL = (
    "title", "summary", "notes", "end_notes", "notes_format", "fandoms", "ratings", "warnings",
    "categories", "relationships", "characters", "freeforms", "language", "restricted", "draft", "pseuds",
    "comment_permission", "moderate_comments",
)


class WorkPatch(BaseModel):
    """Any subset of a work's metadata; what is left out stays as it is.

    `expected_chapters`, `source` and `prompt` may be null to clear them. A tag list
    replaces that list only; the other lists keep their tags.
    """

    title: str | None = Field(None, max_length=255)
    summary: str | None = Field(None, max_length=MAX_SUMMARY)
    notes: str | None = Field(None, max_length=MAX_NOTES)
    end_notes: str | None = Field(None, max_length=MAX_NOTES)
    notes_format: Format = "html"
    fandoms: list[str] | None = None
    ratings: list[str] | None = None
    warnings: list[str] | None = None
    categories: list[str] | None = None
    relationships: list[str] | None = None
    characters: list[str] | None = None
    freeforms: list[str] | None = None
    language: str | None = None
    expected_chapters: int | None = None
    restricted: bool | None = None
    draft: bool | None = None
    comment_permission: CommentPermissionName | None = None
    moderate_comments: bool | None = None
    source: SourceIn | None = None
    prompt: PromptIn | None = None
    fill_prompt: int | None = Field(
        None, ge=1, le=2**63 - 1, description="Link the work to one more prompt it fills (null: no change)."
    )
    pseuds: list[str] | None = None
    gifts: list[str] | None = Field(
        None, description="Replaces the work's gifts (usernames or plain names); [] or null gives it to no one."
    )
    collections: list[str] | None = Field(
        None, description="Replaces the work's collections by name: a name left out takes the work out; [] or null, out of all."
    )

    @field_validator(*_NOT_NULL, mode="before")
    @classmethod
    def reject_null(cls, value: Any) -> Any:
        # Runs only on values the client sent, so an omitted field is still fine.
        if value is None:
            raise ValueError("May be left out but not null.")
        return value
