from __future__ import annotations

from django.http import HttpRequest

from chapbook.people.models import User


class AuthenticatedRequest(HttpRequest):
    """The request of a view behind `login_required`: its user is a real account.

    Only a type: it tells mypy what the decorator guarantees.
    """

    user: User  # type: ignore[assignment]
