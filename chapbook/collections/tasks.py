"""The scheduled reveal: a background task that reveals whatever collections are due."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task


@task()
def reveal_due_collections() -> int:
    """Reveal every collection whose scheduled time has come; returns how many.

    Idempotent: it reveals only what is due and still hidden, so a job that runs late,
    twice, or after the moderators changed the date does no harm.
    """
    from chapbook.collections.services import reveal_due

    return len(reveal_due())


def enqueue_reveal(when: datetime) -> None:
    """Run the reveal at `when` (called once the scheduling transaction commits).

    The database backend holds the job until then. The immediate backend (tests,
    development) cannot wait and would run it at once, when nothing is due yet: there
    `chapbook reveal_due` (from cron, say) or the task called by hand does the reveal.
    """
    if reveal_due_collections.get_backend().supports_defer:
        reveal_due_collections.using(run_after=when).enqueue()
