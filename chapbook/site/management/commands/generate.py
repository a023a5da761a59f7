"""`chapbook generate --works N [--seed S]`: a synthetic archive shaped like AO3's.

For measuring Chapbook at scale (1,000,000 works on SQLite, 15,000,000 on PostgreSQL).
The shape and the bulk writing live in `chapbook.demo.generate`.
"""

from __future__ import annotations

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

    def handle(self, *args: Any, **options: Any) -> None:
        works, seed, batch = options["works"], options["seed"], options["batch"]
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

        self.stdout.write(f"Generating {works:,} works (seed {seed})...")
        summary = generate(works=works, seed=seed, batch=batch, progress=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(
            f"Generated {summary.works:,} works ({summary.chapters:,} chapters, {summary.worktags:,} work tags), "
            f"{summary.tags:,} tags and {summary.users:,} creators in {format_duration(summary.elapsed)}."
        ))
        self._build_filter_index()

    def _build_filter_index(self) -> None:
        try:
            from chapbook.listings.index import rebuild_snapshot
        except (ImportError, AttributeError):
            self.stdout.write("Run `chapbook reindex` to build the filter index.")
            return
        self.stdout.write("Building the filter index...")
        rebuild_snapshot(progress=self.stdout.write)
        self.stdout.write("Filter index built.")
