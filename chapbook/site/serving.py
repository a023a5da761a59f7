"""Running the production server (granian) and the task worker side by side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def pending_migrations() -> list[str]:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def uses_db_worker() -> bool:
    return settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


@dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    threads: int = 4
    run_worker: bool = True


def granian_command(options: ServerOptions) -> list[str]:
    return [
        sys.executable, "-m", "granian",
        "--interface", "wsgi",
        "--host", options.host,
        "--port", str(options.port),
        "--workers", str(options.workers),
        # WSGI runs in a thread pool per worker; a few threads keep a slow page from
        # holding up /healthz and static files on the same worker.
        "--blocking-threads", str(options.threads),
        "--no-ws",
        "--log-level", "warning",
        "chapbook.wsgi:application",
    ]  # fmt: skip


def worker_command() -> list[str]:
    return [sys.executable, "-m", "chapbook", "db_worker", "--queue-name", "default"]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "chapbook.settings")
    env["CHAPBOOK_HOME"] = str(settings.HOME)
    return env


def start_server(options: ServerOptions) -> list[subprocess.Popen[bytes]]:
    children = [subprocess.Popen(granian_command(options), env=child_env())]
    if options.run_worker and uses_db_worker():
        children.append(subprocess.Popen(worker_command(), env=child_env()))
    return children


def supervise(children: list[subprocess.Popen[bytes]]) -> int:
    """Wait until a child exits or we are asked to stop; then stop them all."""

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    return max((child.returncode or 0) for child in children)


def wait_until_up(url: str, timeout: float = 30.0) -> bool:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False
