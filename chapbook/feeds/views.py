"""Atom feeds of works and the OPDS catalog.

Every feed starts from `works_visible_to(viewer)` and leaves drafts out, like the pages
it mirrors. A feed first asks only for the ids and version figures of its entries; the
ETag and Last-Modified come from those, so a reader polling an unchanged feed gets a
304 after one small query, and only a changed feed loads its works' tags and creators.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
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

from chapbook.feeds import atom, opds
from chapbook.feeds.atom import FeedHead, Link, absolute
from chapbook.people.httpauth import challenge, credentials_user
from chapbook.people.models import Pseud
from chapbook.people.views.pseuds import pseud_or_404
from chapbook.tags.models import Tag, TagType
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


def atom_feed(request: HttpRequest, works: QuerySet[Work], *, title: str, alternate: str) -> HttpResponse:
    limit = feed_limit(request)
    rows = list(listing_order(works).values_list(*ROW_FIELDS)[:limit])

    def build(entries: list[Work]) -> ET.Element:
        updated = atom.newest([work.updated_at for work in entries], fallback=timezone.now())
        links = [
            Link(rel="self", href=absolute(request.get_full_path()), type=atom.ATOM_TYPE),
            Link(rel="alternate", href=absolute(alternate), type="text/html"),
        ]
        feed = atom.feed_element(FeedHead(id=absolute(request.path), title=title, updated=updated, links=links))
        for work in entries:
            feed.append(atom.work_entry(work))
        return feed

    response = conditional_document(
        request, rows, salt=f"atom|{title}|{limit}", content_type=ATOM_CONTENT_TYPE, build=build
    )
    if request.user.is_authenticated:
        # A logged-in reader's feed lists restricted works: no shared cache may keep it.
        patch_cache_control(response, private=True)
    return response


@require_safe
def works_feed(request: HttpRequest) -> HttpResponse:
    works = posted_works_visible_to(request.user)
    return atom_feed(request, works, title=f"{settings.SITE_NAME}: recent works", alternate=reverse("works:index"))


@require_safe
def tag_feed(request: HttpRequest, name: str) -> HttpResponse:
    # The tag's own works, as on the tag page; synonyms and sub-tags join with wrangling.
    tag = tag_or_404(name)
    works = posted_works_visible_to(request.user).filter(tags=tag)
    if not tag.canonical and not works.exists():
        # As on the tag page: a tag only hidden works carry must not reveal its name.
        raise Http404("No such tag.")
    return atom_feed(request, works, title=f"Works in {tag.name}", alternate=tag.get_absolute_url())


@require_safe
def pseud_feed(request: HttpRequest, username: str, name: str) -> HttpResponse:
    pseud = pseud_or_404(username, name)
    works = works_credited_to(request.user, Pseud.objects.filter(pk=pseud.pk)).filter(draft=False)
    # "Works by PSEUD" must not carry the pseud's anonymous works to anyone else.
    works = without_others_anonymous(works, request.user)
    return atom_feed(request, works, title=f"Works by {pseud}", alternate=pseud.get_absolute_url())


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
    rows = list(page.object_list)
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
    ]
    if user.is_authenticated:
        items.append(section("feeds:opds_mine", "My works", opds.ACQUISITION, "The works you have posted."))
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


@opds_view
def opds_tag(request: HttpRequest, user: AnyUser, name: str) -> HttpResponse:
    tag = tag_or_404(name)
    works = posted_works_visible_to(user).filter(tags=tag)
    if not tag.canonical and not works.exists():
        raise Http404("No such tag.")
    up = reverse("feeds:opds_fandoms") if tag.type == TagType.FANDOM else reverse("feeds:opds_root")
    return acquisition_response(request, listing_order(works), title=tag.name, up=absolute(up))


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
def opds_search(request: HttpRequest, user: AnyUser) -> HttpResponse:
    # Title only, case-insensitively, until the search app brings full-text search.
    term = " ".join(request.GET.get("q", "").split())[:200]
    works = posted_works_visible_to(user).filter(title__icontains=term) if term else Work.objects.none()
    return acquisition_response(
        request, listing_order(works), title=f"Search: {term}", up=absolute(reverse("feeds:opds_root")),
        params={"q": term},
    )


@require_safe
def opensearch_description(request: HttpRequest) -> HttpResponse:
    body = atom.serialize(opds.opensearch_description())
    return HttpResponse(body, content_type=f"{opds.OPENSEARCH_TYPE}; charset=utf-8")
