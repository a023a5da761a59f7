"""The one way feedback changes a work's counters."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from chapbook.works.models import Work

COUNTERS = {"kudos", "comments", "bookmarks", "hits", "subscriptions"}


def bump(work_id: int, **deltas: int) -> None:
    """Add `deltas` (kudos=1, comments=-1, ...) to a work's counters and move `feedback_at`.

    One UPDATE with F() expressions, inside the caller's transaction: the counter changes
    exactly when the row it counts is written or removed, and concurrent writers add up
    instead of overwriting each other. `feedback_at` tells the filter index and the guest
    page cache that the counts moved.
    """
    unknown = set(deltas) - COUNTERS
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    changes = {f"{name}_count": F(f"{name}_count") + delta for name, delta in deltas.items() if delta}
    Work.objects.filter(pk=work_id).update(feedback_at=timezone.now(), **changes)
