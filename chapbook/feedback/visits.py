"""What a view of a work page records: a hit, and the reader's history."""

from __future__ import annotations

from django.http import HttpRequest

from chapbook.feedback import history, hits


def record_visit(request: HttpRequest, work_id: int, position: int | None) -> None:
    """Called by the work page after it has decided the reader may see the work.

    `position` is the chapter shown, or None for the entire work. Neither write touches
    the work's row: hits are buffered, history lives in its own table.
    """
    hits.record_hit(request, work_id)
    if request.user.is_authenticated:
        history.record_reading(request, work_id, position)
