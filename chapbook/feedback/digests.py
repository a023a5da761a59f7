"""Email digests: a user's new notifications in one message, at most one message an hour.

`notify()` calls `request_digests` once the sender's transaction commits. A cache key per
user ("a digest is already on its way") keeps a burst of notifications from queueing a
task each; the task is idempotent anyway, so a duplicate (a cache that forgot, another
server process with its own cache) costs a query and sends nothing.

The task itself decides the hour rule from `Preferences.last_digest_at`: too soon, and it
queues itself again for the moment the hour is up instead of sending.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from chapbook.feedback.models import Notification, NotificationKind, Preferences
from chapbook.people.models import User

DIGEST_INTERVAL = timedelta(hours=1)
# How long "a digest is on its way" is believed without the task confirming it: longer
# than the longest wait the task can choose (an hour), so a deferred task is not doubled.
SCHEDULED_SECONDS = int(DIGEST_INTERVAL.total_seconds()) + 300
# A new work by a popular writer notifies many readers at once; past this many, the
# queueing of their digests moves out of the poster's request into the worker.
FAN_OUT = 20

# Which preference turns off which kind of email.
KIND_PREFERENCES = {
    NotificationKind.COMMENT: "email_comments",
    NotificationKind.REPLY: "email_replies",
    NotificationKind.KUDOS: "email_kudos",
    NotificationKind.SUBSCRIPTION: "email_subscriptions",
    # Claims and fills of one's prompts are news about what one asked for, like subscriptions.
    NotificationKind.PROMPT: "email_subscriptions",
}


def _scheduled_key(user_id: int) -> str:
    return f"digest-scheduled:{user_id}"


def request_digests(user_ids: list[int]) -> None:
    """These users have new notifications: make sure a digest task is on its way to each."""
    if len(user_ids) > FAN_OUT:
        schedule_digests.enqueue(user_ids)
    else:
        _schedule(user_ids)


def _schedule(user_ids: list[int]) -> None:
    for user_id in user_ids:
        if cache.add(_scheduled_key(user_id), True, SCHEDULED_SECONDS):
            send_digest.enqueue(user_id)


@task()
def schedule_digests(user_ids: list[int]) -> int:
    """The fan-out of `request_digests` for many users, run by the worker."""
    _schedule(user_ids)
    return len(user_ids)


def _absolute(url: str) -> str:
    from chapbook.feedback.notifications import local_path

    # Notifications hold paths on this site; anything else is not linked from an email.
    path = local_path(url)
    return settings.BASE_URL + path if path else ""


def _defer(user_id: int, when: datetime) -> bool:
    """Queue the digest again for `when`; False when the task backend cannot wait."""
    if not send_digest.get_backend().supports_defer:
        # The immediate backend (tests, development) would run it at once, and again, and
        # again: leave the rows pending; the next notification after the hour sends them.
        return False
    cache.set(_scheduled_key(user_id), True, max(0, int((when - timezone.now()).total_seconds())) + 300)
    send_digest.using(run_after=when).enqueue(user_id)
    return True


def _message(user: User, rows: list[Notification]) -> EmailMultiAlternatives:
    # Imported here: notifications imports this module to ask for digests.
    from chapbook.feedback.notifications import describe

    items = [
        {
            "line": describe(row),
            "url": _absolute(row.url),
            "kind": row.get_kind_display(),
            "created_at": row.created_at,
        }
        for row in rows
    ]
    context = {
        "user": user,
        "items": items,
        "count": len(items),
        "site_name": settings.SITE_NAME,
        "inbox_url": settings.BASE_URL + reverse("feedback:inbox"),
        "preferences_url": settings.BASE_URL + reverse("feedback:preferences"),
    }
    subject = f"[{settings.SITE_NAME}] {len(items)} new notification{'s' if len(items) != 1 else ''}"
    text = render_to_string("feedback/email/digest.txt", context)
    html = render_to_string("feedback/email/digest.html", context)
    message = EmailMultiAlternatives(subject, text, None, [user.email])
    message.attach_alternative(html, "text/html")
    return message


@task()
def send_digest(user_id: int) -> dict[str, Any]:
    """Email `user_id` their notifications not yet emailed, unless one went out within the hour.

    Rows of kinds the user opted out of, rows already read in the inbox, and every row of a
    user without an email address are stamped `emailed_at` without being sent, so that
    they are never sent later either.
    """
    # From here on, a new notification must queue a new task: this one may have read the
    # rows already.
    cache.delete(_scheduled_key(user_id))
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            return {"sent": 0}
        # The lock makes two runs for one user take turns: the second sees the first's
        # stamps and its `last_digest_at`, so nothing is sent twice.
        prefs, _ = Preferences.objects.select_for_update().get_or_create(user=user)
        pending = Notification.objects.filter(user=user, emailed_at__isnull=True)
        if not user.email or not user.is_active:
            dropped = pending.update(emailed_at=now)
            return {"sent": 0, "dropped": dropped}
        opted_out = [kind for kind, field in KIND_PREFERENCES.items() if not getattr(prefs, field)]
        dropped = pending.filter(Q(kind__in=opted_out) | Q(read_at__isnull=False)).update(emailed_at=now)
        ids = list(pending.values_list("pk", flat=True))
        if not ids:
            return {"sent": 0, "dropped": dropped}
        if prefs.last_digest_at is not None and now < prefs.last_digest_at + DIGEST_INTERVAL:
            due = prefs.last_digest_at + DIGEST_INTERVAL
            transaction.on_commit(lambda: _defer(user_id, due))
            return {"sent": 0, "dropped": dropped, "deferred_until": due.isoformat()}
        # Stamped before reading: a kudos arriving now either lands in a row read below or,
        # finding it stamped, starts a new row for the next digest.
        Notification.objects.filter(pk__in=ids).update(emailed_at=now)
        rows = list(Notification.objects.filter(pk__in=ids).order_by("created_at", "pk"))
        previous = prefs.last_digest_at
        prefs.last_digest_at = now
        prefs.save(update_fields=["last_digest_at"])
    # Sent after the commit, so that a slow mail server holds no lock (on SQLite, the
    # whole database's write lock); if sending fails, the rows go back to pending.
    try:
        _message(user, rows).send()
    except Exception:
        with transaction.atomic():
            Notification.objects.filter(pk__in=ids, emailed_at=now).update(emailed_at=None)
            Preferences.objects.filter(pk=prefs.pk, last_digest_at=now).update(last_digest_at=previous)
        raise
    return {"sent": len(rows), "dropped": dropped}
