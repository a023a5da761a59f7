"""Pages that show works: the work page, one chapter, the index of all works, series."""

from __future__ import annotations

import re

from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from chapbook.downloads.services import available_formats
from chapbook.feedback.visits import record_visit
from chapbook.works.blurbs import blurb_page, render_blurbs, version_rows
from chapbook.works.models import Series, Work
from chapbook.works.selectors import (
    guest_work_version,
    is_creator,
    listing_order,
    series_parts_visible_to,
    series_visible_to,
    with_blurb,
    works_visible_to,
)


def visible_work_or_404(request: HttpRequest, pk: int) -> Work:
    # A work the reader may not see is a 404, not a 403: its existence is not theirs to know.
    work = with_blurb(works_visible_to(request.user)).filter(pk=pk).first()
    if work is None:
        raise Http404("No such work.")
    return work


CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')

# Rendered work bodies are cached per version of the work: `revised_at` moves on every
# edit, so a stale body is never served and nothing needs invalidating.
BODY_CACHE_SECONDS = 24 * 3600


def _body_key(work: Work, view: str, creator: bool) -> str:
    return f"work-body:{work.pk}:{work.revised_at.timestamp()}:{view}:{int(creator)}"


def _render_body(request: HttpRequest, work: Work, view: str, creator: bool) -> tuple[SafeString, str]:
    """The work's text and tags, rendered once per version and reused for every reader.

    Returns the body and the chapter's title for the page title ("" for the whole work).
    """
    key = _body_key(work, view, creator)
    cached = cache.get(key)
    if cached is not None:
        # Cached as a plain string; it was rendered by our own template, so it is safe.
        return mark_safe(cached[0]), cached[1]  # noqa: S308
    work = with_blurb(Work.objects.filter(pk=work.pk)).prefetch_related("gifts__recipient").get()
    chapters = list(work.chapters.all())
    context: dict[str, object] = {
        "work": work,
        "chapters": chapters,
        "series_parts": list(work.series_parts.select_related("series")),
        "is_creator": creator,
        "download_formats": available_formats(),
    }
    chapter_title = ""
    if view == "full" or (view == "1" and len(chapters) == 1):
        context.update(shown=chapters, full=True, current=None)
    else:
        position = int(view)
        current = next((c for c in chapters if c.position == position), None)
        if current is None:
            raise Http404("No such chapter.")
        index = chapters.index(current)
        chapter_title = current.display_title
        context.update(
            shown=[current],
            full=False,
            current=current,
            previous=chapters[index - 1] if index > 0 else None,
            next=chapters[index + 1] if index + 1 < len(chapters) else None,
        )
    body = render_to_string("works/_work_body.html", context, request=request)
    cache.set(key, (str(body), chapter_title), BODY_CACHE_SECONDS)
    return body, chapter_title


def _guest_page_key(request: HttpRequest, pk: int, view: str) -> str | None:
    """The cache key of a guest's whole work page, or None when the page may not be shared.

    Every guest sees the same page for the same version of a work, so it is rendered once
    per version and counters. The visibility check still runs on each request, through
    the selector, so a work that is hidden, restricted or deleted stops being served at once.
    """
    if request.user.is_authenticated or "messages" in request.COOKIES:
        return None
    row = guest_work_version(pk)
    if row is None:
        raise Http404("No such work.")
    # The raw row's date is a string on SQLite and a datetime on PostgreSQL; either way
    # it changes exactly when the work does, and the counters when its feedback does.
    stamp = ":".join(str(value).replace(" ", "_") for value in row)
    # The page of comment threads shown is part of the page; anything that is not a
    # plain page number reads as page 1, as the comments section itself reads it.
    comments_page = request.GET.get("comments_page", "1")
    comments_page = comments_page if comments_page.isdigit() and len(comments_page) < 7 else "1"
    return f"guest-work-page:{pk}:{view}:{comments_page}:{stamp}"


def _work_page(request: HttpRequest, pk: int, view: str) -> HttpResponse:
    key = _guest_page_key(request, pk, view)
    response = _cached_or_rendered_page(request, pk, view, key)
    # Only after the page was allowed (a 404 raised above records nothing).
    record_visit(request, pk, None if view == "full" else int(view))
    return response


def _cached_or_rendered_page(request: HttpRequest, pk: int, view: str, key: str | None) -> HttpResponse:
    if key is not None and (content := cache.get(key)) is not None:
        if b"csrfmiddlewaretoken" in content:
            # A form on the page carries a CSRF token, which must be this guest's own.
            token = get_token(request).encode()
            content = CSRF_INPUT.sub(b'name="csrfmiddlewaretoken" value="' + token + b'"', content)
        return HttpResponse(content)
    response = _render_work_page(request, pk, view)
    if key is not None:
        cache.set(key, response.content, BODY_CACHE_SECONDS)
    return response


def _render_work_page(request: HttpRequest, pk: int, view: str) -> HttpResponse:
    work = works_visible_to(request.user).filter(pk=pk).first()
    if work is None:
        raise Http404("No such work.")
    creator = is_creator(request.user, work)
    body, chapter_title = _render_body(request, work, view, creator)
    context = {
        "work": work,
        "body": body,
        "chapter_title": chapter_title,
        "is_creator": creator,
        # The chapter shown, or None for the whole work: kudos and comments attach to it.
        "chapter_position": None if view == "full" else int(view),
    }
    return render(request, "works/work_detail.html", context)


def work_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if (wanted := request.GET.get("chapter", "")).isdigit():
        # The chapter menu is a plain GET form so that it works without JavaScript.
        return redirect("works:chapter", pk, int(wanted))
    # AO3 opens a multi-chapter work at its first chapter; "Entire work" shows them all.
    full = request.GET.get("view_full_work") in {"1", "true"}
    return _work_page(request, pk, "full" if full else "1")


def chapter_detail(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    return _work_page(request, pk, str(position))


def work_index(request: HttpRequest) -> HttpResponse:
    works = listing_order(works_visible_to(request.user).filter(draft=False))
    page = blurb_page(works, request.GET.get("page"))
    return render(request, "works/work_index.html", {"page": page})


def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    series = get_object_or_404(series_visible_to(request.user), pk=pk)
    blurbs = render_blurbs(list(version_rows(series_parts_visible_to(request.user, series))))
    return render(request, "works/series_detail.html", {"series": series, "blurbs": blurbs})


def series_index(request: HttpRequest) -> HttpResponse:
    series = Series.objects.filter(pk__in=series_visible_to(request.user).values("pk")).order_by("-created_at")
    page = Paginator(series, 50).get_page(request.GET.get("page"))
    return render(request, "works/series_index.html", {"page": page})
