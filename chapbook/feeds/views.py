"""Atom feeds of works and the OPDS catalog.

Every feed starts from `works_visible_to(viewer)` and leaves drafts out, like the pages
it mirrors. A feed of a listing (all works, a tag's, a pseud's, a user's, a collection's)
reads the same query parameters as the listing page through the listing's own form, and
asks the filter index (`find_works`) for its ids, as the page does. A feed first asks
only for the ids and version figures of its entries; the ETag and Last-Modified come
from those, so a reader polling an unchanged feed gets a 304 after a couple of small
queries, and only a changed feed loads its works' tags and creators.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.html import strip_tags
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import require_safe

from chapbook.collections.models import Collection
from chapbook.collections.selectors import (
    collection_named,
    collection_work_ids,
    collections_visible_to,
)
from chapbook.feedback.bookmarks import bookmarks_visible_to
from chapbook.feedback.history import later_list
from chapbook.feeds import atom, opds
from chapbook.feeds.atom import FeedHead, Link, absolute
from chapbook.listings.forms import ListingForm
from chapbook.listings.query import Filters, find_works
from chapbook.people.httpauth import challenge, credentials_user
from chapbook.people.models import Pseud
from chapbook.people.views.profiles import user_or_404
from chapbook.people.views.pseuds import pseud_or_404
from chapbook.search.services import search_works
from chapbook.tags.models import Tag, TagType, url_name_to_tag
from chapbook.tags.views import tag_or_404
from chapbook.works.models import Series, Work
from chapbook.works.selectors import (
    AnyUser,
    listing_order,
    series_parts_visible_to,
    with_blurb,
    without_others_anonymous,
    works_credited_to,
    works_visible_to,
)

FEED_LIMIT = 20
FEED_MAX_LIMIT = 50
OPDS_PER_PAGE = 20
# Everything an entry shows that can change without its revised_at moving: the counters
# are kept by feedback, which does not touch revised_at.
ROW_FIELDS = ("pk", "updated_at", "revised_at", "kudos_count", "hits_count", "comments_count", "bookmarks_count")
Row = tuple[Any, ...]
ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"


def posted_works_visible_to(user: AnyUser) -> QuerySet[Work]:
    """What feeds list: the works the viewer may read, minus drafts (even their own)."""
    return works_visible_to(user).filter(draft=False)


def series_with_posted_parts(user: AnyUser) -> QuerySet[Series]:
    """Series with at least one posted part the viewer may read: a draft-only series has no feed."""
    # Others' anonymous works are no part of a series for a reader: a series names its owner.
    shown = without_others_anonymous(posted_works_visible_to(user), user)
    return Series.objects.filter(parts__work__in=shown.values("pk")).distinct()


# --- conditional GET -------------------------------------------------------------------


def validators(rows: Sequence[Row], salt: str) -> tuple[str, int | None]:
    """An ETag over the entries' ids and versions (and what else the feed shows), and the
    newest updated/revised time as Last-Modified."""
    digest = hashlib.sha256(salt.encode())
    for row in rows:
        digest.update(repr(row).encode())
    moments = [moment for row in rows for moment in (row[1], row[2]) if moment is not None]
    # Whole seconds, as HTTP dates have: a fraction would never compare equal to If-Modified-Since.
    last_modified = int(max(moments).timestamp()) if moments else None
    return quote_etag(digest.hexdigest()[:32]), last_modified


def load_works(rows: Sequence[Row]) -> list[Work]:
    """The rows' works with their tags and creators, in the rows' order; three queries."""
    ids = [row[0] for row in rows]
    by_pk = {work.pk: work for work in with_blurb(Work.objects.filter(pk__in=ids))}
    # A work deleted between the two queries is left out rather than failing.
    return [by_pk[pk] for pk in ids if pk in by_pk]


def conditional_document(
    request: HttpRequest,
    rows: Sequence[Row],
    *,
    salt: str,
    content_type: str,
    build: Callable[[list[Work]], ET.Element],
) -> HttpResponse:
    etag, last_modified = validators(rows, salt)
    headers = HttpResponse()
    headers["ETag"] = etag
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    answer = get_conditional_response(request, etag=etag, last_modified=last_modified, response=headers)
    if answer is not None and answer is not headers:
        return answer  # 304 Not Modified (or 412), without building anything
    response = HttpResponse(atom.serialize(build(load_works(rows))), content_type=content_type)
    for name in ("ETag", "Last-Modified"):
        if name in headers:
            response[name] = headers[name]
    return response


# --- Atom feeds ----------------------------------------------------------------------------


def feed_limit(request: HttpRequest) -> int:
    try:
        limit = int(request.GET.get("limit", FEED_LIMIT))
    except ValueError:
        return FEED_LIMIT
    return max(1, min(limit, FEED_MAX_LIMIT))


def rows_of(user: AnyUser, ids: Sequence[int]) -> list[Row]:
    """Version rows of `ids` that `user` may read, drafts left out, in the ids' order.

    The filter index may be a moment behind; the selector has the last word, so a work
    hidden or deleted since is left out of the feed rather than shown (as `page_rows` does).
    """
    if not ids:
        return []
    found = {row[0]: row for row in posted_works_visible_to(user).filter(pk__in=ids).values_list(*ROW_FIELDS)}
    return [found[pk] for pk in ids if pk in found]


def feed_query(request: HttpRequest, *, drop: Sequence[str] = ("limit", "page", "exclusions")) -> str:
    """The request's query string less what does not choose works (for ids and links)."""
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


def with_query(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


def atom_response(request: HttpRequest, rows: list[Row], *, title: str, alternate: str) -> HttpResponse:
    """The Atom feed of `rows` (already picked, ordered and limited)."""
    query = feed_query(request)

    def build(entries: list[Work]) -> ET.Element:
        updated = atom.newest([work.updated_at for work in entries], fallback=timezone.now())
        links = [
            Link(rel="self", href=absolute(request.get_full_path()), type=atom.ATOM_TYPE),
            Link(rel="alternate", href=absolute(with_query(alternate, query)), type="text/html"),
        ]
        # The feed's id names its filter too: two filters of one listing are two feeds.
        head = FeedHead(id=absolute(with_query(request.path, query)), title=title, updated=updated, links=links)
        feed = atom.feed_element(head)
        for work in entries:
            feed.append(atom.work_entry(work))
        return feed

    salt = f"atom|{title}|{request.get_full_path()}"
    response = conditional_document(request, rows, salt=salt, content_type=ATOM_CONTENT_TYPE, build=build)
    if request.user.is_authenticated:
        # A logged-in reader's feed lists restricted works: no shared cache may keep it.
        patch_cache_control(response, private=True)
    return response


def atom_feed(request: HttpRequest, works: QuerySet[Work], *, title: str, alternate: str) -> HttpResponse:
    """The Atom feed of a queryset of works, newest first (a series' feed)."""
    rows = list(listing_order(works).values_list(*ROW_FIELDS)[: feed_limit(request)])
    return atom_response(request, rows, title=title, alternate=alternate)


def listing_feed(
    request: HttpRequest,
    *,
    title: str,
    alternate: str,
    include: tuple[int, ...] = (),
    pseuds: tuple[int, ...] = (),
    within: frozenset[int] | None = None,
) -> HttpResponse:
    """The feed of a listing page: the same query parameters read by the same form, the
    same ids from the filter index, then the rows through `works_visible_to`.

    A reader's saved exclusions are not applied: a feed's address should mean the same
    list to whoever polls it (only what each may see differs), and feed readers rarely
    carry a session anyway.
    """
    form = ListingForm(request.GET)
    if not form.is_valid():
        problems = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponseBadRequest(f"The filters have a mistake: {problems}", content_type="text/plain; charset=utf-8")
    filters = replace(form.filters(include=include, pseuds=pseuds), within=within)
    result = find_works(filters, user=request.user, page=1, page_size=feed_limit(request))
    rows = rows_of(request.user, result.ids)
    if feed_query(request):
        title = f"{title} (filtered)"
    return atom_response(request, rows, title=title, alternate=alternate)


@require_safe
def works_feed(request: HttpRequest) -> HttpResponse:
    return listing_feed(request, title=f"{settings.SITE_NAME}: recent works", alternate=reverse("works:index"))


@require_safe
def tag_feed(request: HttpRequest, name: str) -> HttpResponse:
    """A tag's works as the tag listing finds them: its synonyms' and sub-tags' works too."""
    tag = Tag.objects.select_related("synonym_of").filter(name__iexact=url_name_to_tag(name)).first()
    if tag is None:
        raise Http404("No such tag.")
    if tag.synonym_of is not None:
        # As the tag listing does: a synonym's works are its canonical tag's. Not a
        # permanent redirect, since wrangling can undo a synonym.
        return HttpResponseRedirect(with_query(reverse("feeds:tag", args=[tag.synonym_of.url_name]), request.GET.urlencode()))
    # As on the tag page: a tag only hidden works carry must not reveal its name.
    if not tag.canonical and not find_works(Filters(include=(tag.pk,)), user=request.user, page_size=1).count:
        raise Http404("No such tag.")
    return listing_feed(
        request, title=f"Works in {tag.name}", alternate=reverse("tags:works", args=[tag.url_name]), include=(tag.pk,)
    )


@require_safe
def pseud_feed(request: HttpRequest, username: str, name: str) -> HttpResponse:
    # The filter index lists no anonymous work under a pseud: "Works by PSEUD" never
    # carries the pseud's anonymous works.
    pseud = pseud_or_404(username, name)
    alternate = reverse("listings:pseud_works", args=[pseud.user.username, pseud.name])
    return listing_feed(request, title=f"Works by {pseud}", alternate=alternate, pseuds=(pseud.pk,))


@require_safe
def user_feed(request: HttpRequest, username: str) -> HttpResponse:
    """The works of every pseud of a user, as /users/NAME/works lists them."""
    user = user_or_404(username)
    pseuds = tuple(user.pseuds.values_list("pk", flat=True))
    alternate = reverse("people:works", args=[user.username])
    return listing_feed(request, title=f"Works by {user.username}", alternate=alternate, pseuds=pseuds)


def collection_or_404(name: str, user: AnyUser) -> Collection:
    collection = collection_named(name)
    if collection is None or not collections_visible_to(user).filter(pk=collection.pk).exists():
        raise Http404("No such collection.")
    return collection


def listed_collection_ids(collection: Collection, user: AnyUser) -> frozenset[int]:
    """The collection's approved works the viewer may see, less unrevealed ones: those are
    in no listing and no feed, even for the moderators who may read them."""
    return frozenset(collection_work_ids(collection, viewer=user).filter(draft=False, unrevealed=False))


@require_safe
def collection_feed(request: HttpRequest, name: str) -> HttpResponse:
    collection = collection_or_404(name, request.user)
    return listing_feed(
        request,
        title=f"Works in {collection.title}",
        alternate=collection.get_absolute_url(),
        within=listed_collection_ids(collection, request.user),
    )


@require_safe
def series_feed(request: HttpRequest, pk: int) -> HttpResponse:
    series = get_object_or_404(series_with_posted_parts(request.user), pk=pk)
    works = series_parts_visible_to(request.user, series).filter(draft=False)
    return atom_feed(request, works, title=f"Series: {series.title}", alternate=series.get_absolute_url())


# --- OPDS catalog --------------------------------------------------------------------------

OpdsView = Callable[..., HttpResponse]


def opds_view(view: OpdsView) -> OpdsView:
    """Resolve the caller from the Authorization header and hand it to the view."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = credentials_user(request)
        response = challenge() if user is None else view(request, user, *args, **kwargs)
        patch_vary_headers(response, ["Authorization"])
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True)
        return response

    return require_safe(wrapper)


def opds_page(request: HttpRequest, items: QuerySet[Any], per_page: int = OPDS_PER_PAGE) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def acquisition_response(
    request: HttpRequest, works: QuerySet[Work], *, title: str, up: str, params: dict[str, str] | None = None
) -> HttpResponse:
    """One page of an acquisition feed of `works` (already ordered)."""
    page = opds_page(request, works.values_list(*ROW_FIELDS))
    return acquisition_page(request, list(page.object_list), page, title=title, up=up, params=params)


class Counted:
    """A listing the index has already paged, as far as a Paginator needs it: its length."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: Any) -> list[Any]:
        return []


def acquisition_page(
    request: HttpRequest, rows: list[Row], page: Page, *, title: str, up: str, params: dict[str, str] | None = None
) -> HttpResponse:
    """An acquisition feed of `rows`, which are page `page` of the feed."""
    page_url = opds.PageUrl(path=request.path, params=params or {})

    def build(entries: list[Work]) -> ET.Element:
        updated = atom.newest([work.updated_at for work in entries], fallback=timezone.now())
        links = opds.catalog_links(self_href=page_url(page.number), self_type=opds.ACQUISITION, up=up)
        links += opds.paging_links(page, page_url)
        head = FeedHead(id=page_url(1), title=title, updated=updated, links=links)
        return opds.acquisition_feed(head, entries, page)

    salt = f"opds|{title}|{page.number}|{page.paginator.count}"
    return conditional_document(request, rows, salt=salt, content_type=f"{opds.ACQUISITION}; charset=utf-8", build=build)


def navigation_response(
    request: HttpRequest,
    *,
    title: str,
    items: list[opds.NavigationItem],
    page: Page | None = None,
    up: str | None = None,
) -> HttpResponse:
    page_url = opds.PageUrl(path=request.path, params={}, acquisition=False)
    self_href = page_url(page.number) if page is not None else absolute(request.path)
    links = opds.catalog_links(self_href=self_href, self_type=opds.NAVIGATION, up=up)
    if page is not None:
        links += opds.paging_links(page, page_url)
    head = FeedHead(id=absolute(request.path), title=title, updated=timezone.now(), links=links)
    body = atom.serialize(opds.navigation_feed(head, items, page))
    return HttpResponse(body, content_type=f"{opds.NAVIGATION}; charset=utf-8")


def section(url_name: str, title: str, kind: str, content: str, rel: str = "subsection") -> opds.NavigationItem:
    url = absolute(reverse(url_name))
    return opds.NavigationItem(id=url, title=title, href=url, type=kind, rel=rel, updated=timezone.now(), content=content)


@opds_view
def opds_root(request: HttpRequest, user: AnyUser) -> HttpResponse:
    if request.GET.get("login") and not user.is_authenticated:
        # Many e-book readers send credentials only once a catalog has answered 401.
        return challenge()
    items = [
        section("feeds:opds_recent", "Recent works", opds.ACQUISITION, "The most recently updated works.",
                rel=opds.REL_SORT_NEW),
        section("feeds:opds_fandoms", "Fandoms", opds.NAVIGATION, "Works by fandom."),
        section("feeds:opds_series", "Series", opds.NAVIGATION, "Works in series, in reading order."),
        section("feeds:opds_collections", "Collections", opds.NAVIGATION, "Works by collection and challenge."),
    ]
    if user.is_authenticated:
        items += [
            section("feeds:opds_mine", "My works", opds.ACQUISITION, "The works you have posted."),
            section("feeds:opds_bookmarks", "My bookmarks", opds.ACQUISITION, "The works you have bookmarked."),
            section("feeds:opds_later", "Marked for later", opds.ACQUISITION, "The works you marked to read later."),
        ]
    return navigation_response(request, title=settings.SITE_NAME, items=items)


@opds_view
def opds_recent(request: HttpRequest, user: AnyUser) -> HttpResponse:
    works = listing_order(posted_works_visible_to(user))
    return acquisition_response(request, works, title="Recent works", up=absolute(reverse("feeds:opds_root")))


@opds_view
def opds_fandoms(request: HttpRequest, user: AnyUser) -> HttpResponse:
    visible = posted_works_visible_to(user).values("pk")
    fandoms = (
        Tag.objects.filter(type=TagType.FANDOM)
        .annotate(count=Count("works", filter=Q(works__in=visible)))
        .filter(count__gt=0)
        .order_by("name")
    )
    page = opds_page(request, fandoms)
    now = timezone.now()
    items = [
        opds.NavigationItem(
            id=absolute(tag.get_absolute_url()), title=tag.name, type=opds.ACQUISITION, updated=now,
            href=absolute(reverse("feeds:opds_tag", args=[tag.url_name])),
            content=f"{tag.count} work{'' if tag.count == 1 else 's'}",
        )
        for tag in page.object_list
    ]
    return navigation_response(request, title="Fandoms", items=items, page=page, up=absolute(reverse("feeds:opds_root")))


def counted_page(request: HttpRequest, count: int | None = None) -> Page:
    """Page N of a listing the index pages itself (`object_list` is filled in by the caller)."""
    paginator: Paginator[Any] = Paginator(Counted(count or 0), OPDS_PER_PAGE)  # type: ignore[arg-type]
    return paginator.get_page(request.GET.get("page"))


@opds_view
def opds_tag(request: HttpRequest, user: AnyUser, name: str) -> HttpResponse:
    """A tag's works as its listing finds them (its synonyms' and sub-tags' too)."""
    tag = tag_or_404(name)
    tag = tag.synonym_of or tag
    filters = Filters(include=(tag.pk,))
    # A page number past the end is read as the last page, as the other catalog feeds do.
    count = find_works(filters, user=user, page_size=1).count
    if not tag.canonical and not count:
        raise Http404("No such tag.")
    page = counted_page(request, count)
    rows = rows_of(user, find_works(filters, user=user, page=page.number, page_size=OPDS_PER_PAGE).ids)
    page.object_list = rows  # type: ignore[assignment]
    up = reverse("feeds:opds_fandoms") if tag.type == TagType.FANDOM else reverse("feeds:opds_root")
    return acquisition_page(request, rows, page, title=tag.name, up=absolute(up))


@opds_view
def opds_series_index(request: HttpRequest, user: AnyUser) -> HttpResponse:
    series = Series.objects.filter(pk__in=series_with_posted_parts(user).values("pk")).order_by("-created_at", "-pk")
    page = opds_page(request, series)
    items = [
        opds.NavigationItem(
            id=absolute(item.get_absolute_url()), title=item.title, type=opds.ACQUISITION, updated=item.created_at,
            href=absolute(reverse("feeds:opds_series_detail", args=[item.pk])),
            content=strip_tags(item.summary).strip(),
        )
        for item in page.object_list
    ]
    return navigation_response(request, title="Series", items=items, page=page, up=absolute(reverse("feeds:opds_root")))


@opds_view
def opds_series_detail(request: HttpRequest, user: AnyUser, pk: int) -> HttpResponse:
    series = get_object_or_404(series_with_posted_parts(user), pk=pk)
    # Reading order, not recency: a catalog of a series is for reading it through.
    works = series_parts_visible_to(user, series).filter(draft=False).order_by("series_parts__position", "pk")
    return acquisition_response(request, works, title=series.title, up=absolute(reverse("feeds:opds_series")))


@opds_view
def opds_mine(request: HttpRequest, user: AnyUser) -> HttpResponse:
    if not user.is_authenticated:
        return challenge()
    works = works_credited_to(user, Pseud.objects.filter(user_id=user.pk)).filter(draft=False)
    return acquisition_response(request, works, title="My works", up=absolute(reverse("feeds:opds_root")))


@opds_view
def opds_collections(request: HttpRequest, user: AnyUser) -> HttpResponse:
    collections = collections_visible_to(user).order_by("title", "pk")
    page = opds_page(request, collections)
    items = [
        opds.NavigationItem(
            id=absolute(collection.get_absolute_url()), title=collection.title, type=opds.ACQUISITION,
            updated=collection.created_at, href=absolute(reverse("feeds:opds_collection", args=[collection.name])),
            content=strip_tags(collection.description).strip(),
        )
        for collection in page.object_list
    ]
    return navigation_response(
        request, title="Collections", items=items, page=page, up=absolute(reverse("feeds:opds_root"))
    )


@opds_view
def opds_collection(request: HttpRequest, user: AnyUser, name: str) -> HttpResponse:
    collection = collection_or_404(name, user)
    # As in the collection's Atom feed: approved, visible, posted, and never unrevealed.
    works = posted_works_visible_to(user).filter(pk__in=listed_collection_ids(collection, user))
    return acquisition_response(
        request, listing_order(works), title=collection.title, up=absolute(reverse("feeds:opds_collections"))
    )


@opds_view
def opds_bookmarks(request: HttpRequest, user: AnyUser) -> HttpResponse:
    """The reader's own bookmarked works (private ones included: they are theirs), most
    recently bookmarked first."""
    if not user.is_authenticated:
        return challenge()
    marks = bookmarks_visible_to(user).filter(user_id=user.pk, work__isnull=False)
    works = (
        posted_works_visible_to(user)
        .filter(pk__in=marks.values("work_id"))
        .annotate(marked=Subquery(marks.filter(work_id=OuterRef("pk")).values("created_at")[:1]))
        .order_by("-marked", "-pk")
    )
    return acquisition_response(request, works, title="My bookmarks", up=absolute(reverse("feeds:opds_root")))


@opds_view
def opds_later(request: HttpRequest, user: AnyUser) -> HttpResponse:
    if not user.is_authenticated:
        return challenge()
    marked = later_list(user)
    works = (
        posted_works_visible_to(user)
        .filter(pk__in=marked.values("work_id"))
        .annotate(marked=Subquery(marked.filter(work_id=OuterRef("pk")).values("marked_at")[:1]))
        .order_by("-marked", "-pk")
    )
    return acquisition_response(request, works, title="Marked for later", up=absolute(reverse("feeds:opds_root")))


@opds_view
def opds_search(request: HttpRequest, user: AnyUser) -> HttpResponse:
    """Full-text search, as the search page runs it (best match first)."""
    term = " ".join(request.GET.get("q", "").split())[:200]
    if not term:
        page = counted_page(request)
        return acquisition_page(
            request, [], page, title="Search", up=absolute(reverse("feeds:opds_root")), params={"q": term}
        )
    number = counted_page(request, 10**9).number
    found = search_works(term, Filters(sort="best"), user=user, page=number, page_size=OPDS_PER_PAGE)
    page = counted_page(request, found.count)
    if page.number != number:  # past the end: the last page, as the other catalog feeds answer
        found = search_works(term, Filters(sort="best"), user=user, page=page.number, page_size=OPDS_PER_PAGE)
    rows = rows_of(user, found.ids)
    page.object_list = rows  # type: ignore[assignment]
    return acquisition_page(
        request, rows, page, title=f"Search: {term}", up=absolute(reverse("feeds:opds_root")), params={"q": term}
    )


@require_safe
def opensearch_description(request: HttpRequest) -> HttpResponse:
    body = atom.serialize(opds.opensearch_description())
    return HttpResponse(body, content_type=f"{opds.OPENSEARCH_TYPE}; charset=utf-8")
