"""The search page: the reader's query with every listing filter, as blurbs with where each matched.

It is a listing page in all but the query: the same filter sidebar and facets
(`chapbook.listings`), the same blurbs, and `search_works` in place of `find_works`.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from chapbook.lib.searchquery import Query, parse
from chapbook.listings.query import Filters, Result, page_rows
from chapbook.listings.views import (
    MORE_OPTIONS,
    NOT_FILTERS,
    Listing,
    _Counted,
    _facet_groups,
    _fixed_groups,
    _url,
    saved_exclusions,
)
from chapbook.search.backend import Snippet
from chapbook.search.forms import SEARCH_SORT_LABELS, SearchForm
from chapbook.search.services import search_works
from chapbook.works.blurbs import render_blurbs

# Each cached blurb opens with its work's id (works/_blurb.html).
BLURB_WORK_ID = re.compile(r'<li class="blurb" id="work-(\d+)"')


def found(count: int) -> str:
    return f"{count:,} work found" if count == 1 else f"{count:,} works found"


def sort_description(filters: Filters) -> str:
    if filters.sort == "best":
        return "Sorted by best match." if filters.descending else "Sorted by best match, weakest first."
    direction = "descending" if filters.descending else "ascending"
    return f"Sorted by {SEARCH_SORT_LABELS[filters.sort].lower()}, {direction}."


def with_snippet(blurb: str, snippets: dict[int, Snippet]) -> SafeString:
    """The blurb with the snippet of where its work matched, inside it, at its end."""
    match = BLURB_WORK_ID.search(blurb)
    snippet = snippets.get(int(match.group(1))) if match else None
    if match is None or snippet is None:
        return mark_safe(blurb)  # render_blurbs' own output
    chapter_url = reverse("works:chapter", args=[int(match.group(1)), snippet.chapter]) if snippet.chapter is not None else ""
    html = render_to_string("search/_snippet.html", {"snippet": snippet, "chapter_url": chapter_url})
    head, _, tail = blurb.rpartition("</li>")
    # Our templates; the backend escapes the snippet's text.
    return mark_safe(f"{head}{html}</li>{tail}")


def build_search(request: HttpRequest, form: SearchForm) -> tuple[Listing, Query]:
    """One page of the works matching the request's query and filters, and the parsed query."""
    saved = saved_exclusions(request.user)
    size = settings.WORKS_PER_PAGE
    number = form.page_number
    result = Result(count=0, ids=[])
    filters = Filters()
    query = parse(form.text)
    blurbs: list[SafeString] = []
    valid = form.is_valid()
    if valid:
        hidden = tuple(pk for pk, _ in saved) if form.cleaned_data["exclusions"] else ()
        filters = form.filters(hidden=hidden)
        searched = search_works(form.text, filters, user=request.user, page=number, page_size=size, facets=True)
        query = searched.query
        result = Result(count=searched.count, ids=searched.ids, facets=searched.facets)
        # render_blurbs leaves out a work deleted meanwhile, so each blurb finds its snippet by id.
        blurbs = [with_snippet(blurb, searched.snippets) for blurb in render_blurbs(page_rows(request.user, searched.ids))]
    paginator: Paginator[Any] = Paginator(_Counted(result.count), size)  # type: ignore[arg-type]
    last_page = [("page", str(paginator.num_pages))] if paginator.num_pages > 1 else []
    exclusions_on = form.exclusions_on
    toggle = _url(request, drop=NOT_FILTERS, add=[("exclusions", "off")] if exclusions_on else [])
    listing = Listing(
        form=form,
        page=Page(blurbs, number, paginator),
        result=result,
        summary=found(result.count) if valid else "Search",
        sort_description=sort_description(filters),
        fixed_groups=_fixed_groups(form, result, counted=valid),
        facet_groups=_facet_groups(request, filters, result),
        hidden_names=[name for pk, name in saved if pk not in filters.include],
        exclusions_on=exclusions_on,
        exclusions_toggle_url=toggle,
        # Clearing the filters keeps what was searched for.
        clear_url=f"{request.path}?{urlencode({'q': form.text})}",
        past_end=valid and number > paginator.num_pages,
        last_page_url=_url(request, add=last_page),
        filtered=True,
        more_open=any(form[name].errors or form[name].value() for name in MORE_OPTIONS),
    )
    return listing, query


def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    context: dict[str, Any] = {"form": form, "asked": "q" in request.GET}
    if form.text:
        listing, query = build_search(request, form)
        # The pagination links keep the query and every filter; only the page number changes.
        extra_query = _url(request).removeprefix(request.path).removeprefix("?")
        context.update(listing=listing, page=listing.page, notes=query.notes, extra_query=extra_query)
    return render(request, "search/search.html", context)
