"""The notifications inbox, marking read, following a notification, and preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from chapbook.feedback.forms_preferences import PreferencesForm
from chapbook.feedback.models import Notification, Preferences
from chapbook.feedback.notifications import describe, local_path, mark_read
from chapbook.site.http import AuthenticatedRequest

NOTIFICATIONS_PER_PAGE = 30


@login_required
def inbox(request: AuthenticatedRequest) -> HttpResponse:
    notifications = Notification.objects.filter(user=request.user).order_by("-created_at", "-pk")
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    page = Paginator(notifications, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    items = [(row, describe(row)) for row in page]
    context = {
        "page": page,
        "items": items,
        "unread_only": unread_only,
        "extra_query": "unread=1" if unread_only else "",
        "here": request.get_full_path(),
    }
    return render(request, "feedback/inbox.html", context)


@require_POST
@login_required
def inbox_read(request: AuthenticatedRequest) -> HttpResponse:
    """Mark the ticked notifications read, or all of them ("all" button)."""
    if "all" in request.POST:
        changed = mark_read(request.user)
    else:
        ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
        changed = mark_read(request.user, ids=ids) if ids else 0
    if changed:
        messages.success(request, f"Marked {changed} notification{'s' if changed != 1 else ''} as read.")
    else:
        messages.info(request, "Nothing to mark as read.")
    return redirect(local_path(request.POST.get("next", "")) or reverse("feedback:inbox"))


@login_required
def inbox_go(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way.

    A link rather than a form, so it works like any other link; marking a row read twice
    is harmless. Only paths on this site are followed: never an open redirect.
    """
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    mark_read(request.user, ids=[notification.pk])
    target = local_path(notification.url)
    if target is None:
        messages.info(request, "That notification has no link to follow.")
        return redirect("feedback:inbox")
    return redirect(target)


@login_required
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    if request.method != "POST":
        # No row is created just by looking: a user without one has the defaults.
        instance = Preferences.objects.filter(user=request.user).first() or Preferences(user=request.user)
        return render(request, "feedback/preferences.html", {"form": PreferencesForm(instance=instance)})
    instance, _ = Preferences.objects.get_or_create(user=request.user)
    form = PreferencesForm(request.POST, instance=instance)
    if not form.is_valid():
        return render(request, "feedback/preferences.html", {"form": form})
    # Only the form's own fields: the digest task writes `last_digest_at` meanwhile.
    form.save(commit=False).save(update_fields=list(form.fields))
    messages.success(request, "Preferences saved.")
    return redirect("feedback:preferences")


urlpatterns = [
    path("inbox", inbox, name="inbox"),
    path("inbox/read", inbox_read, name="inbox_read"),
    path("inbox/<int:pk>/go", inbox_go, name="inbox_go"),
    path("preferences", preferences, name="preferences"),
]
