"""Hit counting (placeholder until the hits work lands)."""

from __future__ import annotations

from django.http import HttpRequest


def record_hit(request: HttpRequest, work_id: int) -> None:
    return None
