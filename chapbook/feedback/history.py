"""A logged-in reader's history of the works they read, and their Marked for Later list.

Both live in `Reading`, one row per reader and work, as on AO3. History can be turned off
(which also clears it) and cleared; works marked for later stay marked either way.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from chapbook.feedback.models import Preferences, Reading
from chapbook.people.models import User
from chapbook.works.models import Work
from chapbook.works.selectors import works_visible_to

READINGS_PER_PAGE = 20


def _upsert_sql(quote: Callable[[str], str]) -> str:
    r = quote(Reading._meta.db_table)
    work, prefs = quote(Work._meta.db_table), quote(Preferences._meta.db_table)
    # Table names come from the models and every value is a parameter.
    # SQLite needs a WHERE on INSERT ... SELECT to tell ON CONFLICT from a join's ON;
    # there is always one here.
    return f"""
        INSERT INTO {r} (user_id, work_id, chapter_position, visits, first_read_at, last_read_at, marked_for_later)
        SELECT %s, w.id, COALESCE(%s, w.chapter_count), 1, %s, %s, %s
        FROM {work} w
        WHERE w.id = %s
          AND NOT EXISTS (SELECT 1 FROM {prefs} p WHERE p.user_id = %s AND p.history_enabled = %s)
        ON CONFLICT (user_id, work_id) DO UPDATE SET
          visits = {r}.visits + 1,
          chapter_position = CASE WHEN excluded.chapter_position > {r}.chapter_position
                                  THEN excluded.chapter_position ELSE {r}.chapter_position END,
          first_read_at = COALESCE({r}.first_read_at, excluded.first_read_at),
          last_read_at = excluded.last_read_at
    """


def record_reading(request: HttpRequest, work_id: int, position: int | None) -> None:
    """Note that the reader reached chapter `position` of the work (None: the entire work).

    One statement whatever the state: an INSERT ... ON CONFLICT DO UPDATE that also reads
    the reader's preference and the work's chapter count, so a page view costs the same
    single write the first time and every time after (the ORM's upsert cannot add to a
    column or keep the highest chapter). Readers who turned history off are skipped by
    the NOT EXISTS; a row kept only for Marked for Later starts its history here.
    """
    user = request.user
    if not user.is_authenticated:
        return
    connection = connections[router.db_for_write(Reading)]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            _upsert_sql(connection.ops.quote_name),
            [user.pk, position, now, now, False, work_id, user.pk, False],
        )


def mark_for_later(*, by: User, work: Work, marked: bool = True) -> Reading | None:
    """Mark (or unmark) `work` for later; returns the reader's row, or None once nothing is left of it.

    The caller has fetched `work` through `works_visible_to(by)`.
    """
    with transaction.atomic():
        reading = Reading.objects.select_for_update().filter(user=by, work=work).first()
        if reading is None:
            if not marked:
                return None
            # get_or_create: a double click sends the same mark twice at once.
            reading, _ = Reading.objects.get_or_create(
                user=by, work=work, defaults={"visits": 0, "marked_for_later": True, "marked_at": timezone.now()}
            )
        if not marked and reading.last_read_at is None:
            # Only the mark kept this row; there is no history to keep.
            reading.delete()
            return None
        if reading.marked_for_later != marked:
            reading.marked_for_later = marked
            reading.marked_at = timezone.now() if marked else None
            reading.save(update_fields=["marked_for_later", "marked_at"])
    return reading


def clear_history(*, by: User) -> int:
    """Forget every work `by` read; works marked for later stay marked. Returns how many were forgotten."""
    with transaction.atomic():
        readings = Reading.objects.filter(user=by)
        forgotten = readings.filter(last_read_at__isnull=False).count()
        readings.filter(marked_for_later=False).delete()
        readings.filter(marked_for_later=True).update(
            visits=0, chapter_position=1, first_read_at=None, last_read_at=None
        )
    return forgotten


def history_enabled(user: User) -> bool:
    """A reader without a Preferences row keeps a history."""
    return Preferences.objects.filter(user=user).values_list("history_enabled", flat=True).first() is not False


def set_history_enabled(*, by: User, enabled: bool) -> Preferences:
    """Turn history on or off; turning it off also clears it, as AO3 does."""
    with transaction.atomic():
        preferences, _ = Preferences.objects.update_or_create(user=by, defaults={"history_enabled": enabled})
        if not enabled:
            clear_history(by=by)
    return preferences


# Selectors ------------------------------------------------------------------------------


def history_of(user: User) -> QuerySet[Reading]:
    """The works `user` read and may still see, most recent first."""
    return (
        Reading.objects.filter(user=user, last_read_at__isnull=False, work__in=works_visible_to(user))
        .select_related("work")
        .order_by("-last_read_at", "-pk")
    )


def later_list(user: User) -> QuerySet[Reading]:
    """The works `user` marked for later and may still see, most recently marked first."""
    return (
        Reading.objects.filter(user=user, marked_for_later=True, work__in=works_visible_to(user))
        .select_related("work")
        .order_by("-marked_at", "-pk")
    )


def is_marked_for_later(user: User, work: Work) -> bool:
    return Reading.objects.filter(user=user, work=work, marked_for_later=True).exists()
