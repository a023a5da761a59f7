"""The header's unread count."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from chapbook.feedback.notifications import UNREAD_COUNT_CAP, unread_count


def inbox(request: HttpRequest) -> dict[str, Any]:
    """`inbox_unread` for logged-in readers; nothing at all for guests.

    Lazy: the count (one indexed query) is looked up only when a template shows it, and
    shown as "99+" past the cap. Guests cost nothing: their page, the work page above all,
    is rendered without a query and shared between them.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def shown() -> str:
        count = unread_count(user.pk)
        return f"{UNREAD_COUNT_CAP - 1}+" if count >= UNREAD_COUNT_CAP else str(count)

    return {"inbox_unread": SimpleLazyObject(shown)}
