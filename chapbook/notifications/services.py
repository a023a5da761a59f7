"""Inbox notifications. Other apps call these; this app decides storage, inbox and email.

(Stub interface; the notifications engineer implements it.)
"""

from __future__ import annotations

from chapbook.people.models import User
from chapbook.works.models import Work


def notify(*, user: User, kind: str, text: str, url: str) -> None:
    """Put one notification in `user`'s inbox (and in their next email digest)."""


def notify_creators(*, work: Work, kind: str, text: str, url: str, exclude: User | None = None) -> None:
    """Notify every accepted creator of `work` (except `exclude`, e.g. the commenter)."""
