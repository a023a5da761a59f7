from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from chapbook.site.serving import ServerOptions, start_server, supervise, wait_until_up


class Command(BaseCommand):
    help = "Set up the data folder, load the demo archive if it is empty, and serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="Set up and load, but do not serve.")

    def handle(self, *args: Any, **options: Any) -> None:
        from chapbook.demo.loader import load_demo

        settings.HOME.mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"Data folder: {settings.HOME}")
        call_command("migrate", interactive=False, verbosity=0)
        result = load_demo()
        self.stdout.write("Demo archive loaded." if result.created else "The archive already has works; left as it is.")
        if options["no_serve"]:
            self._print_logins(result, None)
            return
        server = ServerOptions(host=options["host"], port=options["port"], workers=1)
        children = start_server(server)
        url = f"http://{server.host}:{server.port}/"
        if wait_until_up(url + "healthz"):
            self._print_logins(result, url)
        sys.exit(supervise(children))

    def _print_logins(self, result: Any, url: str | None) -> None:
        if url:
            self.stdout.write(self.style.SUCCESS(f"\nChapbook demo is running at {url}  (Ctrl-C to stop)"))
        self.stdout.write("Demo logins:")
        for login in result.logins:
            self.stdout.write(f"  {login.username:<8} password: {login.password:<16} {login.role}")
