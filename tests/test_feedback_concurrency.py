"""Feedback under load: two hundred readers at once against the production server.

The test database cannot show this: on SQLite it lives in memory inside this process,
where concurrent writers fail instead of queueing. So these tests start the real server
(granian, two worker processes, four threads each) on a database of their own of the
same kind as the suite's (a SQLite file, or a fresh PostgreSQL database), fill it with
`chapbook shell`, and send every request twice from fifty threads at once, as readers
double-clicking would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from chapbook.site.serving import ServerOptions, granian_command, wait_until_up

READERS = 200

SETUP = f"""
import json
from chapbook.people.models import ApiToken, Pseud, User
from chapbook.works.services import ChapterInput, TagInput, post_work
author = User.objects.create_user("author", email="author@example.org", password=None)
Pseud.objects.create(user=author, name="author", is_default=True)
tags = TagInput(fandoms=["Load"], ratings=["General Audiences"], warnings=["No Archive Warnings Apply"])
work, _ = post_work(by=author, title="Popular", chapters=[ChapterInput(text="<p>Read me.</p>")], tags=tags)
users = User.objects.bulk_create([User(username=f"reader{{i}}", password="!") for i in range({READERS})])
Pseud.objects.bulk_create([Pseud(user=u, name=u.username, is_default=True) for u in users])
print(json.dumps({{"work": work.pk, "tokens": [ApiToken.issue(u)[1] for u in users]}}))
"""

COUNT = """
import json
from chapbook.feedback.models import Bookmark, Comment, Kudos
from chapbook.works.models import Work
work = Work.objects.get(title="Popular")
print(json.dumps({
    "kudos": Kudos.objects.filter(work=work).count(),
    "kudos_users": Kudos.objects.filter(work=work).values("user").distinct().count(),
    "comments": Comment.objects.filter(work=work).count(),
    "bookmarks": Bookmark.objects.filter(work=work).count(),
    "bookmark_users": Bookmark.objects.filter(work=work).values("user").distinct().count(),
    "counters": [work.kudos_count, work.comments_count, work.bookmarks_count],
}))
"""


@dataclass
class Server:
    base: str
    env: dict[str, str]
    work: int
    tokens: list[str]

    def shell(self, code: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "chapbook", "shell", "-c", code],
            env=self.env, check=True, capture_output=True, text=True, timeout=120,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    def post_all(self, path: str, bodies: list[tuple[str, dict[str, Any]]]) -> Counter[int]:
        """POST each (token, body) from fifty threads at once; the statuses, counted."""

        def send(item: tuple[str, dict[str, Any]]) -> int:
            token, body = item
            request = urllib.request.Request(
                self.base + path, data=json.dumps(body).encode(), method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    return int(response.status)
            except urllib.error.HTTPError as error:
                return int(error.code)

        with ThreadPoolExecutor(max_workers=50) as pool:
            return Counter(pool.map(send, bodies))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(django_db_blocker: Any) -> Iterator[Server]:
    home = Path(tempfile.mkdtemp(prefix="chapbook-load-"))
    env = {**os.environ, "CHAPBOOK_HOME": str(home), "DJANGO_SETTINGS_MODULE": "chapbook.settings"}
    for name in ("CHAPBOOK_TEST_DATABASE", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    database = None
    with django_db_blocker.unblock():
        vendor = connection.vendor
    if vendor == "postgresql":
        settings_dict = connection.settings_dict
        database = f"chapbook_load_{os.getpid()}"
        admin = f"postgres://{settings_dict['USER'] or 'postgres'}@{settings_dict['HOST'] or 'localhost'}:{settings_dict['PORT'] or 5432}"
        subprocess.run(["psql", f"{admin}/postgres", "-qc", f"CREATE DATABASE {database}"], check=True)
        env["DATABASE_URL"] = f"{admin}/{database}"
    else:
        env.pop("DATABASE_URL", None)
    children: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([sys.executable, "-m", "chapbook", "migrate", "-v0"], env=env, check=True, timeout=300)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        filled = Server(base, env, 0, [])
        setup = filled.shell(SETUP)
        filled.work, filled.tokens = setup["work"], setup["tokens"]
        children.append(subprocess.Popen(granian_command(ServerOptions(port=port, workers=2, threads=4)), env=env))
        assert wait_until_up(base + "/healthz"), "the server did not start"
        yield filled
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=10)
        if database:
            subprocess.run(["psql", env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres", "-qc",
                            f"DROP DATABASE IF EXISTS {database}"], check=False)


def test_two_hundred_readers_double_clicking_kudos_leave_exactly_two_hundred(server: Server) -> None:
    statuses = server.post_all(f"/api/v1/works/{server.work}/kudos", [(t, {}) for t in server.tokens * 2])

    assert statuses == Counter({201: READERS, 422: READERS})
    counts = server.shell(COUNT)
    assert counts["kudos"] == counts["kudos_users"] == READERS
    assert counts["counters"][0] == READERS


def test_two_hundred_readers_commenting_at_once_leave_two_hundred_comments(server: Server) -> None:
    bodies = [(token, {"text": f"Comment {i}: I loved the ending."}) for i, token in enumerate(server.tokens)]

    statuses = server.post_all(f"/api/v1/works/{server.work}/comments", bodies)

    assert statuses == Counter({201: READERS})
    counts = server.shell(COUNT)
    assert counts["comments"] == counts["counters"][1] == READERS


def test_two_hundred_readers_double_clicking_bookmark_save_two_hundred_bookmarks(server: Server) -> None:
    bodies = [(token, {"work": server.work, "notes": "Rec!", "rec": True}) for token in server.tokens * 2]

    statuses = server.post_all("/api/v1/bookmarks", bodies)

    # A second save of the same bookmark edits it: every request succeeds, no row repeats.
    assert statuses == Counter({201: 2 * READERS})
    counts = server.shell(COUNT)
    assert counts["bookmarks"] == counts["bookmark_users"] == counts["counters"][2] == READERS
