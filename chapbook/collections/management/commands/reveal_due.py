"""`chapbook reveal_due`: reveal every collection whose scheduled reveal time has passed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from chapbook.collections.services import reveal_due


class Command(BaseCommand):
    help = "Reveal the works and creators of collections whose scheduled reveal time has passed."

    def handle(self, *args: Any, **options: Any) -> None:
        revealed = reveal_due()
        for collection in revealed:
            self.stdout.write(f"Revealed {collection.name}")
        self.stdout.write(f"{len(revealed)} collection{'s' if len(revealed) != 1 else ''} revealed.")
