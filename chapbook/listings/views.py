"""Filtered listings (all works, a tag's, a pseud's, a user's) and the reader's saved exclusions.

Every listing page goes through `build_listing`: the form reads the query string,
`find_works` answers from the filter index with the facet counts, and only the page's own
works are read from the work tables, as cached blurbs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from chapbook.listings.forms import (
    FIXED_FIELDS,
    MAX_SAVED_EXCLUSIONS,
    ListingForm,
    SavedExclusionForm,
)
from chapbook.listings.models import SavedExclusion
from chapbook.listings.query import (
    FACET_TYPES,
    SORT_LABELS,
    Filters,
    Result,
    find_works,
    page_rows,
)
from chapbook.people.models import Pseud, User
from chapbook.site.http import AuthenticatedRequest
from chapbook.tags.models import FIXED_TYPES, Tag, TagType, url_name_to_tag
from chapbook.works.blurbs import render_blurbs

FACET_LABELS: dict[str, str] = {
    TagType.FANDOM: "Fandoms",
    TagType.RELATIONSHIP: "Relationships",
    TagType.CHARACTER: "Characters",
    TagType.FREEFORM: "Additional Tags",
}
# Query parameters that say nothing about which works to list.
NOT_FILTERS = {"page", "exclusions"}
MORE_OPTIONS = ("complete", "crossover", "language", "words_min", "words_max", "updated_since")


class _Counted:
    """The whole listing as far as a Paginator needs it: its length. The works themselves
    are only ever the page's own, which the index has already picked."""

    def __init__(self, count: int) -> None:
        self.total = count

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: Any) -> list[Any]:
        return []


@dataclass
class FacetEntry:
    name: str
    # None when there is nothing to count (the filters have an error).
    count: int | None
    include_url: str = ""
    exclude_url: str = ""
    # "included" when the listing already requires the tag.
    state: str = ""


@dataclass
class FacetGroup:
    # The form field of a fixed group ("rating"), the tag type of the others.
    name: str
    label: str
    entries: list[FacetEntry]


@dataclass
class Listing:
    form: ListingForm
    page: Page
    result: Result
    summary: str
    sort_description: str
    fixed_groups: list[FacetGroup]
    facet_groups: list[FacetGroup]
    # Names of the reader's saved exclusions that concern this page.
    hidden_names: list[str] = field(default_factory=list)
    exclusions_on: bool = True
    exclusions_toggle_url: str = ""
    clear_url: str = ""
    past_end: bool = False
    last_page_url: str = ""
    filtered: bool = False
    more_open: bool = False


def _url(request: HttpRequest, *, drop: Iterable[str] = ("page",), add: Iterable[tuple[str, str]] = ()) -> str:
    """This page's URL with some parameters dropped and others appended."""
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    for key, value in add:
        params.appendlist(key, value)
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


def saved_exclusions(user: Any) -> list[tuple[int, str]]:
    """(tag id, name) of each tag the reader hides from every listing; none for a guest."""
    if not user.is_authenticated:
        return []
    return list(SavedExclusion.objects.filter(user=user).values_list("tag_id", "tag__name"))


def summary(count: int, number: int, size: int) -> str:
    """AO3's listing heading: "21 – 40 of 12,345 Works"."""
    noun = "Work" if count == 1 else "Works"
    first = (number - 1) * size + 1
    if count == 0 or first > count:
        return f"{count:,} {noun}"
    return f"{first:,} – {min(number * size, count):,} of {count:,} {noun}"


def _fixed_groups(form: ListingForm, result: Result, counted: bool) -> list[FacetGroup]:
    groups = []
    for name, (tag_type, tag_names) in FIXED_FIELDS.items():
        counts = {facet.name.lower(): facet.count for facet in result.facets.get(tag_type, [])}
        ticked = {str(value).lower() for value in form[name].value() or []}
        entries = [
            FacetEntry(
                tag_name,
                counts.get(tag_name.lower(), 0) if counted else None,
                state="included" if tag_name.lower() in ticked else "",
            )
            for tag_name in tag_names
        ]
        groups.append(FacetGroup(name, str(form.fields[name].label), entries))
    return groups


def _facet_groups(request: HttpRequest, filters: Filters, result: Result) -> list[FacetGroup]:
    groups = []
    for tag_type in FACET_TYPES:
        if tag_type in FIXED_TYPES or not result.facets.get(tag_type):
            continue
        entries = [
            FacetEntry(
                facet.name,
                facet.count,
                include_url=_url(request, add=[("include", facet.name)]),
                exclude_url=_url(request, add=[("exclude", facet.name)]),
                state="included" if facet.tag_id in filters.include else "",
            )
            for facet in result.facets[tag_type]
        ]
        groups.append(FacetGroup(str(tag_type), FACET_LABELS[tag_type], entries))
    return groups


def build_listing(
    request: HttpRequest,
    *,
    include: tuple[int, ...] = (),
    pseuds: tuple[int, ...] = (),
    within: frozenset[int] | None = None,
) -> Listing:
    """One page of a listing for the request's filters, within the page's own tag or pseuds
    (or, with `within`, among those works only: a collection's)."""
    form = ListingForm(request.GET)
    saved = saved_exclusions(request.user)
    size = settings.WORKS_PER_PAGE
    result = Result(count=0, ids=[])
    filters = Filters(include=include, pseuds=pseuds, within=within)
    blurbs: list[Any] = []
    valid = form.is_valid()
    if valid:
        hidden = tuple(pk for pk, _ in saved) if form.cleaned_data["exclusions"] else ()
        filters = replace(form.filters(include=include, pseuds=pseuds, hidden=hidden), within=within)
        result = find_works(filters, user=request.user, page=form.page_number, page_size=size, facets=True)
        blurbs = render_blurbs(page_rows(request.user, result.ids))
    number = form.page_number
    paginator: Paginator[Any] = Paginator(_Counted(result.count), size)  # type: ignore[arg-type]
    past_end = valid and number > paginator.num_pages
    last_page = [("page", str(paginator.num_pages))] if paginator.num_pages > 1 else []
    exclusions_on = form.exclusions_on
    toggle = _url(request, drop=NOT_FILTERS) if not exclusions_on else _url(request, drop=NOT_FILTERS, add=[("exclusions", "off")])
    sort = filters.sort if filters.sort in SORT_LABELS else "updated"
    return Listing(
        form=form,
        page=Page(blurbs, number, paginator),
        result=result,
        summary=summary(result.count, number, size) if valid else "Works",
        sort_description=f"Sorted by {SORT_LABELS[sort].lower()}, {'descending' if filters.descending else 'ascending'}.",
        fixed_groups=_fixed_groups(form, result, counted=valid),
        facet_groups=_facet_groups(request, filters, result),
        hidden_names=[name for pk, name in saved if pk not in filters.include],
        exclusions_on=exclusions_on,
        exclusions_toggle_url=toggle,
        clear_url=request.path,
        past_end=past_end,
        last_page_url=_url(request, add=last_page),
        filtered=any(key not in NOT_FILTERS and any(request.GET.getlist(key)) for key in request.GET),
        more_open=any(form[name].errors or form[name].value() for name in MORE_OPTIONS),
    )


def render_listing(request: HttpRequest, template: str, listing: Listing, **context: Any) -> HttpResponse:
    # The pagination links keep every filter; only the page number changes.
    extra_query = _url(request).removeprefix(request.path).removeprefix("?")
    context.update(listing=listing, form=listing.form, page=listing.page, extra_query=extra_query)
    return render(request, template, context)


# --- The listing pages ---------------------------------------------------------------


def work_index(request: HttpRequest) -> HttpResponse:
    return render_listing(request, "listings/work_index.html", build_listing(request))


def tag_works(request: HttpRequest, name: str) -> HttpResponse:
    tag = Tag.objects.select_related("synonym_of").filter(name__iexact=url_name_to_tag(name)).first()
    if tag is None:
        raise Http404("No such tag.")
    if tag.synonym_of is not None:
        # As on AO3, a synonym's works are listed under its canonical tag. Not permanent:
        # wrangling can undo a synonym.
        url = reverse("tags:works", args=[tag.synonym_of.url_name])
        query = request.GET.urlencode()
        return HttpResponseRedirect(f"{url}?{query}" if query else url)
    listing = build_listing(request, include=(tag.pk,))
    # A tag only a draft or a restricted work carries would tell its name to readers who
    # may not see that work (as the tag page does); filters that match nothing do not.
    if not tag.canonical and listing.result.count == 0 and not _listed_at_all(request, tag):
        raise Http404("No such tag.")
    return render_listing(request, "listings/tag_works.html", listing, tag=tag)


def _listed_at_all(request: HttpRequest, tag: Tag) -> bool:
    return find_works(Filters(include=(tag.pk,)), user=request.user, page=1, page_size=1).count > 0


def pseud_works(request: HttpRequest, username: str, name: str) -> HttpResponse:
    # Names are unique per user without regard to case, like usernames.
    pseud = Pseud.objects.select_related("user").filter(user__username__iexact=username, name__iexact=name).first()
    if pseud is None:
        raise Http404("No such pseud.")
    listing = build_listing(request, pseuds=(pseud.pk,))
    return render_listing(request, "listings/pseud_works.html", listing, pseud=pseud, profile_user=pseud.user)


def user_works_page(request: HttpRequest, user: User) -> HttpResponse:
    """The works of every pseud of `user` (people's /users/NAME/works)."""
    pseuds = tuple(user.pseuds.values_list("pk", flat=True))
    listing = build_listing(request, pseuds=pseuds)
    return render_listing(request, "listings/user_works.html", listing, profile_user=user)


# --- Saved exclusions -------------------------------------------------------------


def _next_url(request: HttpRequest) -> str | None:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return None


@login_required
def exclusions(request: AuthenticatedRequest) -> HttpResponse:
    """The tags a reader hides from every listing; POST adds one by name."""
    form = SavedExclusionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tag: Tag = form.cleaned_data["name"]
        mine = SavedExclusion.objects.filter(user=request.user)
        if mine.filter(tag=tag).exists():
            messages.info(request, f"Works tagged “{tag.name}” were already hidden.")
            return redirect(_next_url(request) or "listings:exclusions")
        if mine.count() >= MAX_SAVED_EXCLUSIONS:
            form.add_error("name", f"You can hide at most {MAX_SAVED_EXCLUSIONS} tags; remove one first.")
        else:
            # get_or_create: a double click sends the same tag twice at once.
            SavedExclusion.objects.get_or_create(user=request.user, tag=tag)
            messages.success(request, f"Works tagged “{tag.name}” are now hidden from every listing.")
            return redirect(_next_url(request) or "listings:exclusions")
    saved = SavedExclusion.objects.filter(user=request.user).select_related("tag")
    return render(request, "listings/exclusions.html", {"form": form, "saved": saved})


@login_required
@require_POST
def exclusion_remove(request: AuthenticatedRequest, tag_id: int) -> HttpResponse:
    saved = SavedExclusion.objects.filter(user=request.user, tag_id=tag_id).select_related("tag").first()
    if saved is not None:
        saved.delete()
        messages.success(request, f"Works tagged “{saved.tag.name}” are listed again.")
    return redirect(_next_url(request) or "listings:exclusions")
