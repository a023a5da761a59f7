"""`chapbook bench feedback`: a work page with 500 threaded comments, and 1,000 kudos at once.

Like `chapbook bench`, it builds a throwaway SQLite archive in a temporary CHAPBOOK_HOME
(or uses DATABASE_URL's database when --here is given), starts the production server
with 2 workers and a task worker, and reports every figure as a ratio to /healthz
measured in the same run:

- the work page with 500 comments in threads, as a guest (wrk, keep-alive);
- 1,000 kudos posted through the API by 1,000 users from 50 concurrent clients
  (Python threads, one keep-alive connection each), then a check that exactly 1,000
  kudos were stored.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from django.core.management.base import CommandError

from chapbook.site.management.commands.bench import parse_wrk, prose

COMMENTS = 500
KUDOS_USERS = 1000
CLIENTS = 50


@dataclass
class Timing:
    name: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float


def prepare(token_file: Path) -> int:
    """Fill the (empty) archive; write one API token per line; return the work's id."""
    from django.db import transaction
    from django.utils import timezone

    from chapbook.feedback.models import Comment
    from chapbook.people.models import ApiToken, Pseud, User
    from chapbook.works.models import Work
    from chapbook.works.services import ChapterInput, TagInput, post_work

    rng = random.Random(500)
    author = User.objects.create_user("author", password=None)
    Pseud.objects.create(user=author, name="author", is_default=True)
    tags = TagInput(fandoms=["Benchmark Fandom"], ratings=["General Audiences"], warnings=["No Archive Warnings Apply"])
    work, _ = post_work(by=author, title="The Much-Discussed Work", chapters=[ChapterInput(text=prose(5000, rng))],
                        tags=tags)
    with transaction.atomic():
        users = User.objects.bulk_create([User(username=f"reader{i}", password="!") for i in range(KUDOS_USERS)])
        Pseud.objects.bulk_create([Pseud(user=user, name=user.username, is_default=True) for user in users])
        tokens = [ApiToken.issue(user, "bench")[1] for user in users]
        # 500 comments in threads: a quarter start a thread, the rest reply to an earlier
        # comment, so threads run several levels deep as they do under a popular chapter.
        now = timezone.now()
        comments: list[Comment] = []
        for i in range(COMMENTS):
            user = users[i % len(users)]
            parent = rng.choice(comments) if comments and rng.random() > 0.25 else None
            comment = Comment(
                work=work, user=user, pseud_id=None, parent=parent, depth=(parent.depth + 1) if parent else 0,
                html=f"<p>{prose(40, rng)[3:-4]}</p>", created_at=now,
            )
            comment.save()
            comment.thread_id = parent.thread_id if parent else comment.pk
            comment.save(update_fields=["thread"])
            comments.append(comment)
        Work.objects.filter(pk=work.pk).update(comments_count=COMMENTS, feedback_at=now)
    token_file.write_text("\n".join(tokens))
    return work.pk


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def _wrk(base: str, path: str, duration: int, connections: int) -> Timing:
    subprocess.run(["wrk", "-t2", "-c4", "-d2s", base + path], capture_output=True, check=True)
    run = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", base + path],
        capture_output=True, text=True, check=True,
    )
    if "Non-2xx" in run.stdout:
        raise CommandError(f"{path} answered with errors:\n{run.stdout}", returncode=2)
    rps, p50, p99 = parse_wrk(run.stdout)
    requests = int(rps * duration)
    return Timing(path, requests, rps, p50, p99)


def _post_all(port: int, requests: list[tuple[str, str, str]], clients: int) -> tuple[Timing, list[int]]:
    """Send (method, path, token) requests from `clients` threads; returns timing and statuses."""
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    queue = list(reversed(requests))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                method, path, token = queue.pop()
            started = time.perf_counter()
            connection.request(method, path, body=b"", headers={"Authorization": f"Bearer {token}",
                                                                 "Content-Length": "0"})
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed * 1000)
                statuses.append(response.status)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    timing = Timing(
        "kudos", len(latencies), len(latencies) / wall, statistics.median(latencies), _percentile(latencies, 99)
    )
    return timing, statuses


def _get_all(port: int, path: str, count: int, clients: int) -> Timing:
    """/healthz driven exactly like the kudos, for a like-for-like ratio."""
    latencies: list[float] = []
    lock = threading.Lock()
    remaining = [count]

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if remaining[0] == 0:
                    break
                remaining[0] -= 1
            started = time.perf_counter()
            connection.request("GET", path)
            connection.getresponse().read()
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return Timing(path, count, count / wall, statistics.median(latencies), _percentile(latencies, 99))


def run(write: Callable[[str], None], *, port: int, duration: int, connections: int, keep: bool) -> None:
    from chapbook.site.serving import ServerOptions, granian_command, wait_until_up, worker_command

    if shutil.which("wrk") is None:
        raise CommandError("The benchmark needs wrk: install it with `apt-get install wrk`.", returncode=2)
    home = Path(tempfile.mkdtemp(prefix="chapbook-bench-feedback-"))
    env = {**os.environ, "CHAPBOOK_HOME": str(home), "DJANGO_SETTINGS_MODULE": "chapbook.settings"}
    env.pop("DATABASE_URL", None)
    chapbook = [sys.executable, "-m", "chapbook"]
    token_file = home / "tokens.txt"
    children: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([*chapbook, "migrate", "-v0"], env=env, check=True)
        out = subprocess.run([*chapbook, "bench", "feedback", "--prepare", "--tokens", str(token_file)], env=env,
                             check=True, capture_output=True, text=True).stdout
        work_id = int(out.split()[-1])
        tokens = token_file.read_text().split()
        children.append(subprocess.Popen(granian_command(ServerOptions(port=port, workers=2)), env=env))
        children.append(subprocess.Popen(worker_command(), env=env))
        base = f"http://127.0.0.1:{port}"
        if not wait_until_up(base + "/healthz"):
            raise CommandError("The server did not start.", returncode=2)
        pages = [_wrk(base, "/healthz", duration, connections),
                 _wrk(base, f"/works/{work_id}/", duration, connections),
                 _wrk(base, f"/works/{work_id}/?view_full_work=1&comments_page=2", duration, connections)]
        healthz_like = _get_all(port, "/healthz", KUDOS_USERS, CLIENTS)
        kudos, statuses = _post_all(port, [("POST", f"/api/v1/works/{work_id}/kudos", t) for t in tokens], CLIENTS)
        stored = subprocess.run(
            [*chapbook, "shell", "-c",
             f"from chapbook.feedback.models import Kudos; from chapbook.works.models import Work; "
             f"print(Kudos.objects.filter(work_id={work_id}).count(), Work.objects.get(pk={work_id}).kudos_count)"],
            env=env, check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1].split()
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=10)
        if not keep:
            shutil.rmtree(home, ignore_errors=True)

    write(f"Work page with {COMMENTS} comments in threads (wrk, {connections} connections, {duration} s each):")
    write(f"{'page':<46}{'req/s':>9}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for timing in pages:
        write(f"{timing.name:<46}{timing.rps:>9.0f}{timing.rps / pages[0].rps:>8.2f}"
              f"{timing.p50_ms:>9.2f}{timing.p99_ms:>9.2f}")
    write(f"\n{KUDOS_USERS:,} kudos by {KUDOS_USERS:,} users from {CLIENTS} concurrent clients (POST /api/v1/works/ID/kudos):")
    write(f"{'requests':<46}{'req/s':>9}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for timing in (healthz_like, kudos):
        write(f"{timing.name:<46}{timing.rps:>9.0f}{timing.rps / healthz_like.rps:>8.2f}"
              f"{timing.p50_ms:>9.2f}{timing.p99_ms:>9.2f}")
    counts = {status: statuses.count(status) for status in sorted(set(statuses))}
    write(f"statuses: {json.dumps(counts)}; stored kudos rows: {stored[0]}, work's kudos count: {stored[1]}")
    write("(production server, 2 workers + task worker, SQLite; ratio = requests/s relative to /healthz in this run)")
