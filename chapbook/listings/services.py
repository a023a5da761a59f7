"""Writes that the filter index must hear about, called by the apps that make them."""

from __future__ import annotations

from django.db import transaction

from chapbook.listings.models import RemovedWork


def forget_work(work_id: int) -> None:
    """Record that a work is gone, inside the caller's transaction (call before deleting)."""
    RemovedWork.objects.create(work_id=work_id)


def tags_wrangled() -> None:
    """Wrangling changed what some tags mean: rebuild the index once the change commits.

    The caller must also have moved `wrangled_at` on the tags it changed, which is how
    every process notices that its snapshot's idea of the tags is out of date.
    """
    from chapbook.listings.tasks import rebuild_filter_index

    transaction.on_commit(lambda: rebuild_filter_index.enqueue())
