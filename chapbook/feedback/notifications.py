"""Telling users what happened: inbox rows now, an email digest later.

Senders call `notify` (or `notify_kudos`) inside their own transaction, passing the
name to show as `actor`; anonymity is decided by the sender and never looked up again.
A row reads as "{actor} {text}" ("bob" + "commented on A Quiet Harbour"), or as `text`
alone when there is no actor ("A Quiet Harbour: Chapter 2 posted").

Every write here also asks, once the sender's transaction commits, for the users' email
digests (which the digest task batches to at most one message an hour).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from chapbook.feedback import digests
from chapbook.feedback.models import Comment, Notification, NotificationKind
from chapbook.people.models import User
from chapbook.works.models import Work

# The header's count stops here ("99+"): counting a long-neglected inbox to the last row
# on every page would cost more than the number is worth.
UNREAD_COUNT_CAP = 100


def _user_ids(users: Iterable[User | int]) -> set[int]:
    return {user if isinstance(user, int) else user.pk for user in users}


def _touched(user_ids: set[int]) -> None:
    """Ask for the digests of `user_ids` once the sender's transaction commits."""
    if user_ids:
        ordered = sorted(user_ids)
        transaction.on_commit(lambda: digests.request_digests(ordered))


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
    """One inbox row per user (each user once, whatever the iterable repeats).

    `url` must be a path on this site ("/works/3/"): the inbox only follows relative links.
    """
    ids = _user_ids(users)
    rows = [
        Notification(
            user_id=user_id, kind=kind, text=text[:300], url=url[:300], actor=actor[:100], work=work, comment=comment
        )
        for user_id in sorted(ids)
    ]
    created = Notification.objects.bulk_create(rows)
    _touched(ids)
    return created


def notify_kudos(*, users: Iterable[User | int], work: Work, actor: str, url: str) -> None:
    """Kudos are summarised: one unread row per user and work, counting the kudos since."""
    ids = _user_ids(users)
    for user_id in ids:
        updated = Notification.objects.filter(
            user_id=user_id, kind=NotificationKind.KUDOS, work=work, read_at__isnull=True, emailed_at__isnull=True
        ).update(count=F("count") + 1, actor=actor[:100], created_at=timezone.now())
        if not updated:
            Notification.objects.create(
                user_id=user_id, kind=NotificationKind.KUDOS, work=work, actor=actor[:100],
                text=f"left kudos on {work.title}"[:300], url=url[:300],
            )
    _touched(ids)


def local_path(url: str) -> str | None:
    """`url` if it is a path on this site ("/works/3/"), else None.

    Notification links are followed by the inbox and put in emails: a row holding
    "https://elsewhere", "//elsewhere" or "/\\elsewhere" must never send a reader off the site.
    """
    if url.startswith("/") and not url.startswith(("//", "/\\")) and url_has_allowed_host_and_scheme(url, None):
        return url
    return None


def describe(notification: Notification) -> str:
    """The line the inbox and the digest show: "alice and 4 others left kudos on TITLE"."""
    actor = notification.actor
    others = notification.count - 1
    if actor and others > 0:
        actor = f"{actor} and {others} other{'s' if others != 1 else ''}"
    return f"{actor} {notification.text}" if actor else notification.text


def unread_count(user: User | int, *, cap: int | None = UNREAD_COUNT_CAP) -> int:
    """How many of a user's notifications are unread, counting no further than `cap`.

    One query on the (user, read_at) index, bounded by the cap (None: an exact count).
    Not cached: it changes with every notification and every click in the inbox, and a
    per-process cache would show each server process's own stale number.
    """
    user_id = user if isinstance(user, int) else user.pk
    rows = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    return rows.count() if cap is None else rows[:cap].count()


def mark_read(user: User, *, ids: Iterable[int] | None = None) -> int:
    """Mark `ids` (or every notification, when None) as read; only `user`'s own rows.

    Returns how many rows changed. Ids of other users' rows are ignored, not refused: the
    form only ever offers the reader's own.
    """
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
