"""`chapbook reindex`: rebuild the filter index snapshot and the search index, in this process."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chapbook.listings import index
from chapbook.search.backend import get_backend
from chapbook.search.documents import listed_count


class Progress:
    """A one-line bar redrawn in place on a terminal; a line every tenth of the way otherwise."""

    WIDTH = 30

    def __init__(self, out: Any, total: int) -> None:
        self.out, self.total = out, max(total, 1)
        self.started = time.monotonic()
        self.drawn = 0.0
        self.tenth = 0
        self.tty = out.isatty()

    def __call__(self, works: int, words: int) -> None:
        now = time.monotonic()
        share = min(works / self.total, 1.0)
        if self.tty:
            if now - self.drawn < 0.1 and works < self.total:
                return
            self.drawn = now
            self.out.write(f"\r{self.line(works, words, share)}", ending="")
            self.out.flush()
        elif int(share * 10) > self.tenth:
            self.tenth = int(share * 10)
            self.out.write(self.line(works, words, share))

    def line(self, works: int, words: int, share: float) -> str:
        filled = int(share * self.WIDTH)
        rate = words / max(time.monotonic() - self.started, 1e-6)
        return (
            f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] {works:,}/{self.total:,} works,"
            f" {words:,} words, {rate / 1e6:.2f}M words/s"
        )

    def done(self, works: int) -> str:
        if self.tty:
            self.out.write("")
        seconds = time.monotonic() - self.started
        return f"Search index: {works:,} works in {seconds:.1f} s."


class Command(BaseCommand):
    help = "Rebuild the filter index (listings, facets, the works API) and the full-text search index."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Write a filter index snapshot even for an archive small enough to be indexed on the fly.",
        )
        parser.add_argument("--filters-only", action="store_true", help="Rebuild only the filter index.")
        parser.add_argument("--search-only", action="store_true", help="Rebuild only the search index.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["filters_only"] and options["search_only"]:
            raise CommandError("--filters-only and --search-only leave nothing to rebuild; give one at most.")
        if not options["search_only"]:
            segment = index.rebuild_snapshot(progress=self.stdout.write, force=options["force"])
            if segment is None:
                self.stdout.write("The archive is small enough to be indexed on the fly; no snapshot written.")
            else:
                self.stdout.write(f"Snapshot: {index.snapshot_path()}")
        if not options["filters_only"]:
            progress = Progress(self.stdout, listed_count())
            works = get_backend().reindex_all(progress=progress)
            self.stdout.write(progress.done(works))
