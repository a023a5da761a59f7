"""Subscribe buttons (work, series, creator) and the reader's list of subscriptions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from chapbook.feedback.models import Subscription
from chapbook.feedback.notifications import local_path
from chapbook.feedback.subscriptions import subscribe, subscription_for, unsubscribe
from chapbook.people.models import User
from chapbook.people.views.profiles import user_or_404
from chapbook.site.http import AuthenticatedRequest
from chapbook.works.models import Series, Work
from chapbook.works.selectors import series_visible_to, works_visible_to


def _back(request: AuthenticatedRequest, fallback: str) -> HttpResponse:
    return redirect(local_path(request.POST.get("next", "")) or fallback)


def _toggle(
    request: AuthenticatedRequest,
    name: str,
    fallback: str,
    *,
    work: Work | None = None,
    series: Series | None = None,
    creator: User | None = None,
) -> HttpResponse:
    """Subscribe or unsubscribe, as the button asked.

    The button says which it means (`action`), so a double click does not subscribe and
    then unsubscribe again; a form without it toggles.
    """
    existing = subscription_for(request.user, work=work, series=series, creator=creator)
    action = request.POST.get("action") or ("unsubscribe" if existing else "subscribe")
    if action == "unsubscribe":
        if existing is not None:
            unsubscribe(existing, by=request.user)
        messages.success(request, f"You have unsubscribed from {name}.")
        return _back(request, fallback)
    try:
        subscribe(by=request.user, work=work, series=series, creator=creator)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"You are subscribed to {name}.")
    return _back(request, fallback)


@require_POST
@login_required
def subscribe_work(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    work = works_visible_to(request.user).filter(pk=pk).first()
    if work is None:
        raise Http404("No such work.")
    return _toggle(request, work.title, work.get_absolute_url(), work=work)


@require_POST
@login_required
def subscribe_series(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    series = get_object_or_404(series_visible_to(request.user), pk=pk)
    return _toggle(request, series.title, series.get_absolute_url(), series=series)


@require_POST
@login_required
def subscribe_creator(request: AuthenticatedRequest, username: str) -> HttpResponse:
    creator = user_or_404(username)
    return _toggle(request, creator.username, creator.get_absolute_url(), creator=creator)


@require_POST
@login_required
def subscription_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The list's Unsubscribe button: works even for a work that is no longer visible."""
    # Someone else's subscription is a 404 like a missing one.
    subscription = get_object_or_404(Subscription, pk=pk, user=request.user)
    unsubscribe(subscription, by=request.user)
    messages.success(request, "Unsubscribed.")
    return redirect("feedback:subscriptions")


@login_required
def subscription_list(request: AuthenticatedRequest) -> HttpResponse:
    """My subscriptions, grouped: works, series, creators. A fixed number of queries."""
    rows = list(
        Subscription.objects.filter(user=request.user)
        .select_related("work", "series", "creator")
        .order_by("-created_at", "-pk")
    )
    work_ids = [row.work_id for row in rows if row.work_id is not None]
    series_ids = [row.series_id for row in rows if row.series_id is not None]
    # A work hidden or deleted since is listed without its title, so it can still be dropped.
    visible_works = set(works_visible_to(request.user).filter(pk__in=work_ids).values_list("pk", flat=True))
    visible_series = set(series_visible_to(request.user).filter(pk__in=series_ids).values_list("pk", flat=True))
    context = {
        "works": [(row, row.work_id in visible_works) for row in rows if row.work_id is not None],
        "series": [(row, row.series_id in visible_series) for row in rows if row.series_id is not None],
        "creators": [row for row in rows if row.creator_id is not None],
    }
    return render(request, "feedback/subscription_list.html", context)


urlpatterns = [
    path("works/<int:pk>/subscribe", subscribe_work, name="subscribe_work"),
    path("series/<int:pk>/subscribe", subscribe_series, name="subscribe_series"),
    path("users/<str:username>/subscribe", subscribe_creator, name="subscribe_creator"),
    path("subscriptions", subscription_list, name="subscriptions"),
    path("subscriptions/<int:pk>/delete", subscription_delete, name="subscription_delete"),
]
