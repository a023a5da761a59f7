"""Filtered listings: the one way every listing, feed and API list asks for works.

    result = find_works(Filters(include=(tag.pk,), sort="kudos"), user=request.user,
                        page=2, page_size=20, facets=True)
    rows = page_rows(request.user, result.ids)   # for works.blurbs.render_blurbs

The answer comes from the filter index (`chapbook.listings.index`), never from joins
through the tag tables; `page_rows` then loads the page's works through
`works_visible_to`, so a work that stopped being visible since the index last looked is
dropped rather than shown.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Iterable

from chapbook.tags.models import Tag, TagType

SORTS = ("updated", "posted", "title", "creator", "words", "kudos", "hits", "comments", "bookmarks")
SORT_LABELS = {
    "updated": "Date updated",
    "posted": "Date posted",
    "title": "Title",
    "creator": "Creator",
    "words": "Word count",
    "kudos": "Kudos",
    "hits": "Hits",
    "comments": "Comments",
    "bookmarks": "Bookmarks",
}
# Titles and names read A to Z; everything else starts with the newest or the biggest.
ASCENDING_BY_DEFAULT = {"title", "creator"}
CROSSOVER_CHOICES = ("", "only", "exclude")
FACET_TYPES = (
    TagType.RATING,
    TagType.WARNING,
    TagType.CATEGORY,
    TagType.FANDOM,
    TagType.RELATIONSHIP,
    TagType.CHARACTER,
    TagType.FREEFORM,
)
FACET_SIZE = 10
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Filters:
    """What a reader asked a listing for. Tags are ids of any tag, wrangled or not.

    A tag matches its own works, its synonyms' works and (transitively) its sub-tags'
    works. `include`: every one must match. `exclude`: none may match. `any_of`: each
    group needs at least one match (ratings, warnings or categories ticked together mean
    "any of these", which is what a reader ticking two ratings means).
    """

    include: tuple[int, ...] = ()
    exclude: tuple[int, ...] = ()
    any_of: tuple[tuple[int, ...], ...] = ()
    # Works credited to any of these pseuds (a pseud's or a user's works page).
    pseuds: tuple[int, ...] = ()
    complete: bool = False
    # "only": works in more than one unrelated fandom; "exclude": none of those.
    crossover: str = ""
    language: str = ""
    words_min: int | None = None
    words_max: int | None = None
    updated_since: datetime.date | None = None
    sort: str = "updated"
    # "asc" or "desc"; empty means the sort's own default.
    order: str = ""

    @property
    def descending(self) -> bool:
        if self.order:
            return self.order == "desc"
        return self.sort not in ASCENDING_BY_DEFAULT


@dataclass(frozen=True)
class FacetCount:
    tag_id: int
    name: str
    count: int


@dataclass
class Result:
    count: int
    # The page's work ids in listing order (may be empty: a page past the end).
    ids: list[int]
    # Facet type (a TagType value) -> the top FACET_SIZE filter tags, biggest first.
    # Empty unless facets were asked for.
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)


def tags_by_name(names: Iterable[str]) -> tuple[dict[str, Tag], list[str]]:
    """Tags for `names` (any case), keyed by the lowercased name, and the names not found."""
    raise NotImplementedError


def find_works(filters: Filters, *, user: Any, page: int = 1, page_size: int = 20, facets: bool = False) -> Result:
    """One page of the works matching `filters` that `user` may see in listings."""
    raise NotImplementedError


def page_rows(user: Any, ids: list[int]) -> list[tuple[Any, ...]]:
    """Version rows (pk, revised_at, kudos, hits) for `ids` that `user` may see, in order."""
    raise NotImplementedError
