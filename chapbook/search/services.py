"""Full-text search combined with every listing filter, and the hooks that keep it fresh."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

from django.db import transaction

from chapbook.lib.searchquery import Query, parse
from chapbook.listings.query import FacetCount, Filters, find_works, matching_ids
from chapbook.search.backend import SearchTooSlow, Snippet, get_backend

NOTE_TOO_SLOW = "This search took too long to answer. Add a rarer word, or narrow it with filters (a fandom, a rating, a date)."


@dataclass
class SearchResult:
    query: Query
    count: int
    ids: list[int]  # the page's work ids, in order
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    snippets: dict[int, Snippet] = field(default_factory=dict)  # by work id, for the page's works


def search_works(
    text: str, filters: Filters, *, user: Any, page: int = 1, page_size: int = 20, facets: bool = False
) -> SearchResult:
    """One page of the works matching the reader's query and filters, best match first by default.

    An empty query is a filtered listing. A query with nothing left to search for (only
    stop words or punctuation), or that runs out of time, finds nothing and says why in
    `query.notes`.
    """
    query = parse(text)
    if not text.strip():
        result = find_works(filters, user=user, page=page, page_size=page_size, facets=facets)
        return SearchResult(query=query, count=result.count, ids=result.ids, facets=result.facets)
    if query.is_empty:
        return SearchResult(query=query, count=0, ids=[])
    backend = get_backend()
    # The filters first, from the filter index (a few array operations), so the backend
    # checks a phrase only in the works they allow: a phrase within one fandom then costs
    # that fandom's works, not the archive's. find_works applies the filters again below.
    within = matching_ids(filters, user=user) if backend.uses_within and filters_narrow(filters) else None
    try:
        hits = backend.match(query, within=within)
    except SearchTooSlow:
        return SearchResult(query=replace(query, notes=(*query.notes, NOTE_TOO_SLOW)), count=0, ids=[])
    result = find_works(filters, user=user, page=page, page_size=page_size, facets=facets, hits=hits)
    return SearchResult(
        query=query,
        count=result.count,
        ids=result.ids,
        facets=result.facets,
        snippets=backend.snippets(query, result.ids),
    )


def filters_narrow(filters: Filters) -> bool:
    """Whether the filters leave out any works (a guest's hidden restricted works aside)."""
    return replace(filters, sort="updated", order="") != Filters()


def with_sort(filters: Filters, sort: str) -> Filters:
    return replace(filters, sort=sort)


def works_changed(work_ids: Sequence[int]) -> None:
    """Reindex these works once the caller's transaction commits (posts, edits, chapters)."""
    from chapbook.search.tasks import index_works

    ids = sorted({int(pk) for pk in work_ids})
    if ids:
        transaction.on_commit(lambda: index_works.enqueue(ids))
