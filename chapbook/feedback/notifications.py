"""Telling users what happened: inbox rows now, an email digest later.

Senders call `notify` (or `notify_kudos`) inside their own transaction, passing the
name to show as `actor`; anonymity is decided by the sender and never looked up again.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F
from django.utils import timezone

from chapbook.feedback.models import Comment, Notification, NotificationKind
from chapbook.people.models import User
from chapbook.works.models import Work


def notify(
    *,
    users: Iterable[User | int],
    kind: NotificationKind | str,
    text: str,
    url: str = "",
    actor: str = "",
    work: Work | None = None,
    comment: Comment | None = None,
) -> list[Notification]:
    """One inbox row per user (each user once, whatever the iterable repeats)."""
    ids = {user if isinstance(user, int) else user.pk for user in users}
    rows = [
        Notification(
            user_id=user_id, kind=kind, text=text[:300], url=url[:300], actor=actor[:100], work=work, comment=comment
        )
        for user_id in sorted(ids)
    ]
    return Notification.objects.bulk_create(rows)


def notify_kudos(*, users: Iterable[User | int], work: Work, actor: str, url: str) -> None:
    """Kudos are summarised: one unread row per user and work, counting the kudos since."""
    for user_id in {user if isinstance(user, int) else user.pk for user in users}:
        updated = Notification.objects.filter(
            user_id=user_id, kind=NotificationKind.KUDOS, work=work, read_at__isnull=True, emailed_at__isnull=True
        ).update(count=F("count") + 1, actor=actor[:100], created_at=timezone.now())
        if not updated:
            Notification.objects.create(
                user_id=user_id, kind=NotificationKind.KUDOS, work=work, actor=actor[:100],
                text=f"left kudos on {work.title}"[:300], url=url[:300],
            )
