"""Pages that show works: the work page, one chapter, the index of all works, series."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from chapbook.works.models import Chapter, Series, Work
from chapbook.works.selectors import (
    is_creator,
    listing,
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


def _work_context(request: HttpRequest, work: Work) -> dict[str, object]:
    chapters = list(work.chapters.all())
    parts = list(work.series_parts.select_related("series"))
    return {
        "work": work,
        "chapters": chapters,
        "series_parts": parts,
        "is_creator": is_creator(request.user, work),
    }


def work_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if (wanted := request.GET.get("chapter", "")).isdigit():
        # The chapter menu is a plain GET form so that it works without JavaScript.
        return redirect("works:chapter", pk, int(wanted))
    work = visible_work_or_404(request, pk)
    context = _work_context(request, work)
    chapters = context["chapters"]
    assert isinstance(chapters, list)
    # AO3 opens a multi-chapter work at its first chapter; "Entire work" shows them all.
    if len(chapters) <= 1 or request.GET.get("view_full_work") in {"1", "true"}:
        context.update(shown=chapters, full=True, current=None)
        return render(request, "works/work_detail.html", context)
    return _render_chapter(request, context, chapters, chapters[0])


def chapter_detail(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    work = visible_work_or_404(request, pk)
    context = _work_context(request, work)
    chapters = context["chapters"]
    assert isinstance(chapters, list)
    current = next((c for c in chapters if c.position == position), None)
    if current is None:
        raise Http404("No such chapter.")
    return _render_chapter(request, context, chapters, current)


def _render_chapter(
    request: HttpRequest, context: dict[str, object], chapters: list[Chapter], current: Chapter
) -> HttpResponse:
    index = chapters.index(current)
    context.update(
        shown=[current],
        full=False,
        current=current,
        previous=chapters[index - 1] if index > 0 else None,
        next=chapters[index + 1] if index + 1 < len(chapters) else None,
    )
    return render(request, "works/work_detail.html", context)


def work_index(request: HttpRequest) -> HttpResponse:
    works = listing(works_visible_to(request.user).filter(draft=False))
    page = Paginator(works, settings.WORKS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "works/work_index.html", {"page": page})


def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    series = get_object_or_404(series_visible_to(request.user), pk=pk)
    works = series_parts_visible_to(request.user, series)
    return render(request, "works/series_detail.html", {"series": series, "works": works})


def series_index(request: HttpRequest) -> HttpResponse:
    series = Series.objects.filter(pk__in=series_visible_to(request.user).values("pk")).order_by("-created_at")
    page = Paginator(series, 50).get_page(request.GET.get("page"))
    return render(request, "works/series_index.html", {"page": page})
