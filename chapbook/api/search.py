"""/api/v1/search: full-text search with every filter and sort of /api/v1/works.

The same parameters, the same answer and the same visibility as the works list, through
the same `search_works` the search page calls; each item also says where it matched.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, JsonResponse
from ninja import Query, Router, Schema
from ninja.errors import ValidationError as RequestValidationError
from ninja.responses import NinjaJSONEncoder
from pydantic import Field

from chapbook.api.auth import OPTIONAL_TOKEN_DOC, caller
from chapbook.api.schemas import Facets, FieldErrors, WorkFilters, WorkSummary
from chapbook.api.works import (
    MAX_PAGE,
    facets_out,
    listing_filters,
    query_error,
    summaries,
)
from chapbook.lib.searchquery import MAX_QUERY_CHARS
from chapbook.search.backend import Snippet
from chapbook.search.services import search_works

router = Router(tags=["search"])

# Written out so that OpenAPI lists the choices; a test keeps them equal to listings.query.SEARCH_SORTS.
SearchSort = Literal["best", "updated", "posted", "title", "creator", "words", "kudos", "hits", "comments", "bookmarks"]
EMPTY_QUERY = "Enter a word to search for."


class SearchFilters(WorkFilters):
    """GET /search's query string: /works's, plus `q`, and `best` among the sorts."""

    q: str = Field(
        description=(
            "Words (all must match), \"exact phrases\", -excluded words, OR between two terms, and "
            "title:, summary:, notes:, creator: or tag: before a term. Case, accents and curly "
            f"quotes do not matter. Longer than {MAX_QUERY_CHARS:,} characters, it is cut (see `notes`)."
        )
    )
    sort: SearchSort = Field("best", description="`best`: the best matches first.")  # type: ignore[assignment]


class SnippetOut(Schema):
    html: str = Field(description="Escaped text around the match, with the matched words in <mark>.")
    chapter: int | None = Field(
        description="The chapter's position when the match is in a chapter's text; null for the title, "
        "summary, notes, tags or creators."
    )


class SearchItem(WorkSummary):
    snippet: SnippetOut | None


class SearchPage(Schema):
    count: int = Field(description="How many works match, on all pages.")
    items: list[SearchItem]
    notes: list[str] = Field(
        description="What was read differently from what was typed: a query cut short, common words only."
    )
    facets: Facets | None = Field(default=None, description="Only present with `facets=true`.")


def snippet_out(snippet: Snippet | None) -> dict[str, Any] | None:
    return None if snippet is None else {"html": snippet.html, "chapter": snippet.chapter}


@router.get(
    "",
    response={200: SearchPage, 400: FieldErrors},
    url_name="search",
    summary="Search works by their text, with every filter of the works list",
    description=(
        "Takes every parameter of `GET /works`, plus `q`. Sorted by best match unless `sort` says "
        "otherwise. An empty `q` is a 400; a `q` with nothing left to search for (only common "
        "words or punctuation) is an empty page whose `notes` say why."
    ),
    openapi_extra=OPTIONAL_TOKEN_DOC,
)
def search(request: HttpRequest, filters: Query[SearchFilters]) -> SearchPage:
    if not filters.q.strip():
        raise RequestValidationError([query_error("q", EMPTY_QUERY)])
    user = caller(request)
    wanted = listing_filters(filters)
    payload: dict[str, Any]
    if wanted is None:
        payload = {"count": 0, "items": [], "notes": []}
        if filters.facets:
            payload["facets"] = facets_out({}).model_dump()
        return JsonResponse(payload, encoder=NinjaJSONEncoder)  # type: ignore[return-value]
    # As /works: far past the end, only the count and facets are asked for.
    beyond = filters.page > MAX_PAGE
    result = search_works(
        filters.q,
        wanted,
        user=user,
        page=1 if beyond else filters.page,
        page_size=filters.page_size,
        facets=filters.facets,
    )
    items = [
        {**summary, "snippet": snippet_out(result.snippets.get(summary["id"]))}
        for summary in summaries(user, [] if beyond else result.ids)
    ]
    payload = {"count": result.count, "items": items, "notes": list(result.query.notes)}
    if filters.facets:
        payload["facets"] = facets_out(result.facets).model_dump()
    # Rendered here, as /works does: the summaries are already the schema's output.
    return JsonResponse(payload, encoder=NinjaJSONEncoder)  # type: ignore[return-value]
