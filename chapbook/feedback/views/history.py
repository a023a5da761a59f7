"""Reading history and Marked for Later: the reader's two lists, and the buttons that change them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from chapbook.feedback import history as service
from chapbook.feedback.models import Reading
from chapbook.site.http import AuthenticatedRequest
from chapbook.works.blurbs import VERSION_FIELDS, render_blurbs
from chapbook.works.selectors import works_visible_to


def _next_url(request: HttpRequest) -> str | None:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return None


def _page_with_blurbs(readings: QuerySet[Reading], number: str | None) -> tuple[Page, list[tuple[Reading, str]]]:
    """One page of readings, each with its work's blurb (rendered once per version of the work)."""
    page = Paginator(readings, service.READINGS_PER_PAGE).get_page(number)
    rows = [tuple(getattr(reading.work, name) for name in VERSION_FIELDS) for reading in page.object_list]
    blurbs = render_blurbs(rows)
    # A work deleted between the two queries has no blurb; its reading goes with it.
    if len(blurbs) != len(rows):
        return page, []
    return page, list(zip(page.object_list, blurbs))


@login_required
def history_page(request: AuthenticatedRequest) -> HttpResponse:
    page, entries = _page_with_blurbs(service.history_of(request.user), request.GET.get("page"))
    return render(
        request,
        "feedback/history.html",
        {"page": page, "entries": entries, "enabled": service.history_enabled(request.user)},
    )


@login_required
@require_POST
def history_clear(request: AuthenticatedRequest) -> HttpResponse:
    service.clear_history(by=request.user)
    messages.success(request, "Your history is cleared. Works you marked for later are still marked.")
    return redirect("feedback:history")


@login_required
@require_POST
def history_enabled(request: AuthenticatedRequest) -> HttpResponse:
    enabled = request.POST.get("enabled") == "1"
    service.set_history_enabled(by=request.user, enabled=enabled)
    if enabled:
        messages.success(request, "Your history is on: works you read from now on are listed here.")
    else:
        messages.success(request, "Your history is off and cleared.")
    return redirect("feedback:history")


@login_required
def later_page(request: AuthenticatedRequest) -> HttpResponse:
    page, entries = _page_with_blurbs(service.later_list(request.user), request.GET.get("page"))
    return render(request, "feedback/later.html", {"page": page, "entries": entries})


@login_required
@require_POST
def mark_later(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Toggle the mark, or set it when the form says which (a double click then does no harm)."""
    work = works_visible_to(request.user).filter(pk=pk).first()
    if work is None:
        raise Http404("No such work.")
    wanted = request.POST.get("marked")
    marked = wanted == "1" if wanted in {"0", "1"} else not service.is_marked_for_later(request.user, work)
    service.mark_for_later(by=request.user, work=work, marked=marked)
    if marked:
        messages.success(request, f"“{work.title}” is marked for later.")
    else:
        messages.success(request, f"“{work.title}” is no longer marked for later.")
    return redirect(_next_url(request) or work.get_absolute_url())


urlpatterns: list[URLPattern] = [
    path("history", history_page, name="history"),
    path("history/clear", history_clear, name="history_clear"),
    path("history/enabled", history_enabled, name="history_enabled"),
    path("later", later_page, name="later"),
    path("works/<int:pk>/later", mark_later, name="mark_later"),
]
