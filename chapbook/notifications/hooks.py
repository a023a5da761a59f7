"""Called by works.services after a write commits: subscriptions turn these into notifications.

(Stub interface; the notifications engineer implements it.)
"""

from __future__ import annotations

from chapbook.works.models import Chapter, Work


def work_posted(work: Work) -> None:
    """A work was posted (not a draft any more): notify subscribers of its creators and series."""


def chapter_posted(chapter: Chapter) -> None:
    """A chapter was added to a posted work: notify the work's subscribers."""
