"""Reading history (placeholder until the history work lands)."""

from __future__ import annotations

from django.http import HttpRequest


def record_reading(request: HttpRequest, work_id: int, position: int | None) -> None:
    return None
