"""`chapbook generate --works N [--seed S] [--text]`: a synthetic archive shaped like AO3's.

For measuring Chapbook at scale (1,000,000 works on SQLite, 15,000,000 on PostgreSQL).
The shape and the bulk writing live in `chapbook.demo.generate`, the prose of --text in
`chapbook.demo.prose`.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chapbook.demo.generate import format_duration, generate
from chapbook.works.models import Work

MAX_WORKS = 100_000_000


class Command(BaseCommand):
    help = "Fill the archive with N generated works, their creators and tags (for testing at scale)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--works", type=int, required=True, help="How many works to generate.")
        parser.add_argument("--seed", type=int, default=0, help="The same seed gives the same archive (default 0).")
        parser.add_argument("--batch", type=int, default=20_000, help="Works written per transaction, in whole thousands (default 20,000).")
        parser.add_argument("--append", action="store_true", help="Add to an archive that already has works.")
        parser.add_argument(
            "--text", action="store_true",
            help="Give every chapter made-up prose (about 4,000 words a work) and build the search index.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        works, seed, batch, text = options["works"], options["seed"], options["batch"], options["text"]
        if not 1 <= works <= MAX_WORKS:
            raise CommandError(f"--works must be between 1 and {MAX_WORKS:,}, not {works}.", returncode=2)
        if seed < 0:
            raise CommandError(f"--seed must be 0 or more, not {seed}.", returncode=2)
        if batch < 1:
            raise CommandError(f"--batch must be 1 or more, not {batch}.", returncode=2)
        if not options["append"] and Work.objects.exists():
            raise CommandError(
                "The archive already has works; use --append to add generated works to it.", returncode=2
            )

        self.stdout.write(f"Generating {works:,} works (seed {seed}{', with text' if text else ''})...")
        summary = generate(works=works, seed=seed, batch=batch, progress=self.stdout.write, text=text)
        self.stdout.write(self.style.SUCCESS(
            f"Generated {summary.works:,} works ({summary.chapters:,} chapters, {summary.worktags:,} work tags), "
            f"{summary.tags:,} tags and {summary.users:,} creators in {format_duration(summary.elapsed)}."
        ))
        if text:
            self.stdout.write(
                f"Text: {summary.words:,} words, drawn in {summary.prose_seconds:.1f} s "
                f"({summary.words / max(summary.prose_seconds, 1e-9) / 1e6:.1f}M words/s); "
                f"{summary.words / max(summary.elapsed, 1e-9) / 1e6:.2f}M words/s written."
            )
        self._build_filter_index()
        if text:
            self._build_search_index()

    def _build_filter_index(self) -> None:
        try:
            from chapbook.listings.index import rebuild_snapshot
        except (ImportError, AttributeError):
            self.stdout.write("Run `chapbook reindex` to build the filter index.")
            return
        self.stdout.write("Building the filter index...")
        started = time.monotonic()
        rebuild_snapshot(progress=self.stdout.write)
        self.stdout.write(f"Filter index built in {time.monotonic() - started:.1f} s.")

    def _build_search_index(self) -> None:
        # What `chapbook reindex --search-only` does, with its progress bar.
        from chapbook.listings.management.commands.reindex import Progress
        from chapbook.search.backend import get_backend
        from chapbook.search.documents import listed_count

        self.stdout.write("Building the search index...")
        progress = Progress(self.stdout, listed_count())
        indexed = get_backend().reindex_all(progress=progress)
        self.stdout.write(progress.done(indexed))
