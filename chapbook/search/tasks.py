"""Background work that keeps the search index in step with the archive."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from chapbook.listings.models import RemovedWork
from chapbook.search.backend import get_backend
from chapbook.search.documents import works_with_tags
from chapbook.tags.models import Tag
from chapbook.works.models import Work

# Works are reindexed this many at a time after wrangling, each batch its own transaction.
WRANGLING_BATCH = 500
# A transaction that changed a work just before a rebuild began may commit after the
# rebuild read it; re-reading this much history afterwards covers it.
OVERLAP = dt.timedelta(seconds=60)


@task()
def index_works(work_ids: list[int]) -> int:
    """(Re)index these works: posted, edited, chapters added or removed, or deleted."""
    get_backend().index_works(work_ids)
    return len(work_ids)


@task()
def reindex_tags(tag_ids: list[int]) -> int:
    """Wrangling changed what these tags mean: reindex the works whose tag names change."""
    work_ids = works_with_tags(tag_ids)
    backend = get_backend()
    for start in range(0, len(work_ids), WRANGLING_BATCH):
        backend.index_works(work_ids[start : start + WRANGLING_BATCH])
    return len(work_ids)


def catch_up(started: float) -> None:
    """After a full rebuild: index again what changed while it ran."""
    since = dt.datetime.fromtimestamp(started, tz=dt.timezone.utc) - OVERLAP
    if since > timezone.now():
        return
    backend = get_backend()
    changed = list(Work.objects.filter(revised_at__gte=since).values_list("pk", flat=True))
    backend.index_works(changed)
    removed = list(RemovedWork.objects.filter(removed_at__gte=since).values_list("work_id", flat=True))
    backend.remove_works(removed)
    wrangled = list(Tag.objects.filter(wrangled_at__gte=since).values_list("pk", flat=True))
    if wrangled:
        backend.index_works(works_with_tags(wrangled))


@task()
def write_postings(blocks: list[int]) -> int:
    """Write again the blocks of PostgreSQL's phrase index that hold works indexed since."""
    backend = get_backend()
    write = getattr(backend, "write_postings", None)
    if write is None:  # SQLite has no phrase index of its own: FTS5 keeps the places
        return 0
    write(blocks)
    return len(blocks)


@task()
def free_retired() -> int:
    """Free the search tables a rebuild replaced (SQLite's; PostgreSQL drops its own at once)."""
    free = getattr(get_backend(), "free_retired", None)
    return free() if free is not None else 0
