from __future__ import annotations

from django_tasks import task

from chapbook.listings import index


@task()
def rebuild_filter_index() -> int:
    """Rebuild the filter index snapshot; returns the number of works in it."""
    segment = index.rebuild_snapshot()
    return len(segment) if segment is not None else 0
