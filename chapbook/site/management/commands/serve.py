from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chapbook.site.serving import (
    ServerOptions,
    pending_migrations,
    start_server,
    supervise,
)


class Command(BaseCommand):
    help = "Serve Chapbook with the production server (granian), plus a task worker on the embedded setup."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="Server processes (default 1).")
        parser.add_argument("--threads", type=int, default=4, help="Threads per server process (default 4).")
        parser.add_argument("--no-worker", action="store_true", help="Do not run a background task worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        pending = pending_migrations()
        if pending:
            raise CommandError(
                f"{len(pending)} database migration(s) have not been applied ({', '.join(pending[:3])}"
                f"{', …' if len(pending) > 3 else ''}). Run `chapbook migrate` first.",
                returncode=2,
            )
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1.", returncode=2)
        server = ServerOptions(
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            threads=options["threads"],
            run_worker=not options["no_worker"],
        )
        self.stdout.write(f"Chapbook is serving at http://{server.host}:{server.port}/ (Ctrl-C to stop)")
        sys.exit(supervise(start_server(server)))
