"""Bookmark pages: the form for a work or series, deleting, and the listings."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from chapbook.feedback.bookmarks import (
    SORTS,
    bookmark_page,
    bookmarks_visible_to,
    delete_bookmark,
    filter_bookmarks,
    own_bookmark,
    save_bookmark,
)
from chapbook.feedback.forms_bookmarks import BookmarkForm
from chapbook.feedback.models import Bookmark
from chapbook.people.views.profiles import user_or_404
from chapbook.site.http import AuthenticatedRequest
from chapbook.works.blurbs import VERSION_FIELDS, render_blurbs
from chapbook.works.models import Series, Work
from chapbook.works.selectors import series_visible_to, works_visible_to


def _bookmark_form(
    request: AuthenticatedRequest, *, work: Work | None = None, series: Series | None = None
) -> HttpResponse:
    item: Work | Series = work if work is not None else series  # type: ignore[assignment]
    existing = own_bookmark(request.user, work=work, series=series)
    form = BookmarkForm(request.POST or None, user=request.user, bookmark=existing)
    if request.method == "POST" and form.is_valid():
        try:
            save_bookmark(by=request.user, work=work, series=series, **form.service_fields())
        except (Work.DoesNotExist, Series.DoesNotExist):
            # It stopped being visible between the lookup above and the save.
            raise Http404("No such item.") from None
        except ValidationError as error:
            # A {field: [messages]} error lands on its field (notes, tags, pseud); a plain one above the form.
            form.add_error(None, error)
        else:
            messages.success(request, "Bookmark updated." if existing else "Bookmark saved.")
            return redirect(item)
    context = {"form": form, "bookmark": existing, "work": work, "series": series, "item": item}
    return render(request, "feedback/bookmark_form.html", context)


@login_required
def bookmark_work(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    work = works_visible_to(request.user).filter(pk=pk).first()
    if work is None:
        raise Http404("No such work.")
    return _bookmark_form(request, work=work)


@login_required
def bookmark_series(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    series = get_object_or_404(series_visible_to(request.user), pk=pk)
    return _bookmark_form(request, series=series)


@login_required
def bookmark_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    # Someone else's bookmark is a 404 like a missing one: private bookmarks are not to be probed.
    bookmark = get_object_or_404(Bookmark.objects.select_related("work", "series"), pk=pk, user=request.user)
    if request.method == "POST":
        delete_bookmark(bookmark, by=request.user)
        messages.success(request, "Bookmark deleted.")
        return redirect("feedback:user_bookmarks", request.user.username)
    return render(request, "feedback/bookmark_confirm_delete.html", {"bookmark": bookmark})


def _filters(request: HttpRequest) -> dict[str, str]:
    """The listing filters from the query string, cleaned, for the selector and the links."""
    sort = request.GET.get("sort", "")
    return {
        "tag": " ".join(request.GET.get("tag", "").split())[:150],
        "rec": "1" if request.GET.get("rec") in {"1", "on", "true"} else "",
        "sort": sort if sort in SORTS else "",
    }


def _listing_context(page: Page, filters: dict[str, str], **extra: object) -> dict[str, object]:
    return {
        "page": page,
        "filters": filters,
        # Kept on the pagination links, so page 2 is page 2 of the same filtered list.
        "extra_query": urlencode({k: v for k, v in filters.items() if v}),
        **extra,
    }


def user_bookmarks(request: HttpRequest, username: str) -> HttpResponse:
    owner = user_or_404(username)
    filters = _filters(request)
    bookmarks = filter_bookmarks(
        bookmarks_visible_to(request.user).filter(user=owner),
        tag=filters["tag"],
        rec=bool(filters["rec"]),
        sort=filters["sort"] or "created",
    )
    page = bookmark_page(bookmarks, request.GET.get("page"))
    context = _listing_context(page, filters, profile_user=owner, is_owner=request.user.pk == owner.pk, sortable=True)
    return render(request, "feedback/bookmark_user_list.html", context)


def work_bookmarks(request: HttpRequest, pk: int) -> HttpResponse:
    work = works_visible_to(request.user).filter(pk=pk, draft=False).first()
    if work is None:
        raise Http404("No such work.")
    # Public ones only, the owner's own private bookmark included nowhere but their own page.
    bookmarks = filter_bookmarks(bookmarks_visible_to(request.user).filter(work=work, private=False))
    page = bookmark_page(bookmarks, request.GET.get("page"), blurbs=False)
    blurbs = render_blurbs([tuple(getattr(work, field) for field in VERSION_FIELDS)])
    context = _listing_context(page, {}, work=work, work_blurb=blurbs[0] if blurbs else None)
    return render(request, "feedback/bookmark_work_list.html", context)


def archive_bookmarks(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    bookmarks = filter_bookmarks(
        bookmarks_visible_to(request.user).filter(private=False), tag=filters["tag"], rec=bool(filters["rec"])
    )
    page = bookmark_page(bookmarks, request.GET.get("page"))
    context = _listing_context(page, filters)
    return render(request, "feedback/bookmark_list.html", context)


urlpatterns = [
    path("works/<int:pk>/bookmark", bookmark_work, name="bookmark_work"),
    path("series/<int:pk>/bookmark", bookmark_series, name="bookmark_series"),
    path("bookmarks/<int:pk>/delete", bookmark_delete, name="bookmark_delete"),
    path("users/<str:username>/bookmarks", user_bookmarks, name="user_bookmarks"),
    path("works/<int:pk>/bookmarks", work_bookmarks, name="work_bookmarks"),
    path("bookmarks", archive_bookmarks, name="bookmarks"),
]
