"""Subscriptions (placeholder until the subscriptions work lands)."""

from __future__ import annotations

from chapbook.works.models import Chapter, Work


def work_posted(work: Work) -> None:
    """A work was posted (or a draft published): tell subscribers of its creators and series."""


def chapter_posted(work: Work, chapter: Chapter) -> None:
    """A posted work gained a chapter: tell the work's subscribers."""
