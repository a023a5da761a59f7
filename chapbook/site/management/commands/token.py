from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chapbook.people.models import ApiToken, User


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (use it as `Authorization: Bearer TOKEN`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--label", default="command line")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username__iexact=options["username"]).first()
        if user is None:
            raise CommandError(f"There is no user called {options['username']!r}.", returncode=2)
        _, raw = ApiToken.issue(user, label=options["label"])
        self.stdout.write(raw)
