"""`chapbook reindex`: rebuild the filter index snapshot now, in this process."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from chapbook.listings import index


class Command(BaseCommand):
    help = "Rebuild the filter index that listings, facets and the works API read."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Write a snapshot even for an archive small enough to be indexed on the fly.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        segment = index.rebuild_snapshot(progress=self.stdout.write, force=options["force"])
        if segment is None:
            self.stdout.write("The archive is small enough to be indexed on the fly; no snapshot written.")
        else:
            self.stdout.write(f"Snapshot: {index.snapshot_path()}")
