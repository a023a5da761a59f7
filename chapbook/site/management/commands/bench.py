"""`chapbook bench`: throughput and latency of the main pages, as ratios to /healthz.

It builds a throwaway archive (SQLite in a temporary CHAPBOOK_HOME unless --here),
starts the production server with 2 workers, and drives it with wrk over loopback.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.core.management.base import BaseCommand, CommandError, CommandParser

BENCH_FANDOM = "Benchmark Fandom"
BENCH_TITLE = "The Five Thousand Word Work"
WORDS = (
    "the harbour lamp glass morning tide rope gull stone window letter winter road quiet river "
    "bright said asked answered laughed waited turned kept whispered door candle orchard bell "
    "she he they it was were had been would could never always again before after under over "
    "through against between small old new long cold warm green grey silver narrow distant"
).split()


@dataclass
class Result:
    name: str
    path: str
    rps: float
    p50_ms: float
    p99_ms: float


def prose(words: int, rng: random.Random) -> str:
    paragraphs, count = [], 0
    while count < words:
        sentences = []
        for _ in range(rng.randint(3, 6)):
            n = min(rng.randint(8, 18), words - count)
            if n <= 0:
                break
            sentence = " ".join(rng.choice(WORDS) for _ in range(n))
            sentences.append(sentence.capitalize() + ".")
            count += n
        paragraphs.append("<p>" + " ".join(sentences) + "</p>")
    return "\n".join(paragraphs)


def prepare_archive() -> int:
    """Fill the current (empty) archive; returns the id of the 5,000-word work."""
    from chapbook.people.models import Pseud, User
    from chapbook.works.services import ChapterInput, TagInput, post_work

    rng = random.Random(5000)
    user = User.objects.create_user("bench", password=None)
    Pseud.objects.create(user=user, name="bench", is_default=True)
    tags = TagInput(fandoms=[BENCH_FANDOM], ratings=["General Audiences"], warnings=["No Archive Warnings Apply"],
                    relationships=["Alice/Bob"], characters=["Alice", "Bob"], freeforms=["Fluff", "Slow Burn"])
    for i in range(60):
        post_work(by=user, title=f"Listing work {i}", chapters=[ChapterInput(text=prose(300, rng))], tags=tags,
                  summary="<p>A short summary for the blurb.</p>")
    work, _ = post_work(by=user, title=BENCH_TITLE, chapters=[ChapterInput(text=prose(5000, rng))], tags=tags,
                        summary="<p>Five thousand words.</p>")
    return work.pk


def prepare_long_work() -> int:
    """A 500,000-word work of 100 chapters, for the download benchmark."""
    from chapbook.people.models import User
    from chapbook.works.services import ChapterInput, TagInput, post_work

    rng = random.Random(500_000)
    user = User.objects.get(username="bench")
    tags = TagInput(fandoms=[BENCH_FANDOM], ratings=["General Audiences"], warnings=["No Archive Warnings Apply"])
    chapters = [ChapterInput(text=prose(5000, rng), title=f"Part {i}") for i in range(1, 101)]
    work, _ = post_work(by=user, title="The Half-Million Word Work", chapters=chapters, tags=tags, expected_chapters=100)
    return work.pk


def build_times(work_ids: list[int], formats: list[str]) -> list[tuple[str, int, str, float, int]]:
    """Build each format of each work as the worker would, timing the rendering alone."""
    from chapbook.downloads import services
    from chapbook.works.models import Work

    rows = []
    for pk in work_ids:
        work = Work.objects.get(pk=pk)
        book = services.book_for(work)
        for fmt in formats:
            started = time.perf_counter()
            data = services.render(book, fmt)
            elapsed = time.perf_counter() - started
            services.write_atomically(services.work_file(work, fmt), partial(bytes, data))
            rows.append((work.title, work.word_count, fmt, elapsed, len(data)))
    return rows


def parse_wrk(output: str) -> tuple[float, float, float]:
    def to_ms(value: str, unit: str) -> float:
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)", output, re.M))

    def pct(key: str) -> float:
        match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", latency[key])
        assert match
        return to_ms(match.group(1), match.group(2))

    return rps, pct("50"), pct("99")


class Command(BaseCommand):
    help = "Benchmark the work, tag and home pages against /healthz with the production server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("suite", nargs="?", default="pages", choices=["pages", "downloads", "filters", "feedback", "search"],
                            help="pages: work, tag and home pages; downloads: file build times and cached EPUBs; "
                                 "filters: listing queries on the current archive (see chapbook generate); "
                                 "feedback: a work page with 500 comments and 1,000 concurrent kudos; "
                                 "search: full-text queries, index size and indexing speed on the current archive "
                                 "(see chapbook generate --text)")
        parser.add_argument("--tokens", help="internal: feedback --prepare writes API tokens here")
        parser.add_argument("--repeat", type=int, default=40, help="filters, search: runs per query (default 40)")
        parser.add_argument("--no-http", action="store_true", help="filters, search: the query layer only")
        parser.add_argument("--no-reindex", action="store_true", help="search: skip timing a full rebuild of the index")
        parser.add_argument("--long-pdf", action="store_true", help="downloads: also build the 500,000-word PDF (minutes)")
        parser.add_argument("--build-times", nargs="*", type=int, help="internal: build files for these work ids")
        parser.add_argument("--duration", type=int, default=10, help="Seconds per page (default 10).")
        parser.add_argument("--connections", type=int, default=16)
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--prepare", action="store_true", help="internal: fill the archive and print the work id")
        parser.add_argument("--keep", action="store_true", help="Keep the temporary archive.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["suite"] == "feedback":
            from chapbook.feedback import bench

            if options["prepare"]:
                self.stdout.write(str(bench.prepare(Path(options["tokens"]))))
                return
            bench.run(self.stdout.write, port=options["port"], duration=options["duration"],
                      connections=options["connections"], keep=options["keep"])
            return
        if options["suite"] == "search":
            from chapbook.search.bench import run as run_search

            run_search(self.stdout.write, repeat=options["repeat"], port=options["port"], http=not options["no_http"],
                       reindex_first=not options["no_reindex"])
            return
        if options["suite"] == "filters":
            from chapbook.listings.bench import run

            run(self.stdout.write, repeat=options["repeat"], port=options["port"], http=not options["no_http"])
            return
        if options["prepare"]:
            work_ids = [prepare_archive()]
            if options["suite"] == "downloads":
                work_ids.append(prepare_long_work())
            self.stdout.write(" ".join(map(str, work_ids)))
            return
        if options["build_times"] is not None:
            short, *long = options["build_times"]
            rows = build_times([short], ["epub", "pdf", "html", "txt"])
            rows += build_times(long, ["epub", "html", "txt"] + (["pdf"] if options["long_pdf"] else []))
            for title, words, fmt, seconds, size in rows:
                self.stdout.write(f"{words:>9,} words  {fmt:<5}{seconds:>9.3f} s{size / 1024:>10.0f} KiB")
            return
        if shutil.which("wrk") is None:
            raise CommandError("The benchmark needs wrk: install it with `apt-get install wrk`.", returncode=2)
        home = Path(tempfile.mkdtemp(prefix="chapbook-bench-"))
        env = {**os.environ, "CHAPBOOK_HOME": str(home), "DJANGO_SETTINGS_MODULE": "chapbook.settings"}
        env.pop("DATABASE_URL", None)
        chapbook = [sys.executable, "-m", "chapbook"]
        try:
            subprocess.run([*chapbook, "migrate", "-v0"], env=env, check=True)
            ids: list[str] = subprocess.run([*chapbook, "bench", options["suite"], "--prepare"], env=env,
                                            check=True, capture_output=True, text=True).stdout.split()
            work_id = int(ids[0])
            if options["suite"] == "downloads":
                self.stdout.write("Build times (rendering only, as in the worker):")
                extra = ["--long-pdf"] if options["long_pdf"] else []
                subprocess.run([*chapbook, "bench", "downloads", "--build-times", *ids, *extra], env=env, check=True)
                results = self._run(env, work_id, options, pages=[("cached EPUB (5,000 words)", f"/works/{work_id}/download/epub")])
            else:
                results = self._run(env, work_id, options)
        finally:
            if not options["keep"]:
                shutil.rmtree(home, ignore_errors=True)
        self._report(results)

    def _run(
        self, env: dict[str, str], work_id: int, options: dict[str, Any], pages: list[tuple[str, str]] | None = None
    ) -> list[Result]:
        from chapbook.site.serving import ServerOptions, granian_command, wait_until_up
        from chapbook.tags.models import tag_to_url_name

        port = options["port"]
        server = subprocess.Popen(granian_command(ServerOptions(port=port, workers=2)), env=env)
        base = f"http://127.0.0.1:{port}"
        pages = [("/healthz", "/healthz")] + (pages or [
            ("work page (5,000 words)", f"/works/{work_id}/"),
            ("tag page", f"/tags/{quote(tag_to_url_name(BENCH_FANDOM))}/"),
            ("home page", "/"),
        ])
        results = []
        try:
            if not wait_until_up(base + "/healthz"):
                raise CommandError("The server did not start.", returncode=2)
            for name, path in pages:
                # A short warm-up so that every worker has its templates compiled and caches filled.
                subprocess.run(["wrk", "-t2", "-c4", "-d2s", base + path], capture_output=True, check=True)
                run = subprocess.run(
                    ["wrk", "-t2", f"-c{options['connections']}", f"-d{options['duration']}s", "--latency", base + path],
                    capture_output=True, text=True, check=True,
                )
                if "Non-2xx" in run.stdout:
                    raise CommandError(f"{path} answered with errors:\n{run.stdout}", returncode=2)
                rps, p50, p99 = parse_wrk(run.stdout)
                results.append(Result(name, path, rps, p50, p99))
        finally:
            server.terminate()
            server.wait(timeout=10)
        return results

    def _report(self, results: list[Result]) -> None:
        base = results[0]
        self.stdout.write(f"{'page':<26}{'req/s':>10}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}")
        for r in results:
            self.stdout.write(f"{r.name:<26}{r.rps:>10.0f}{r.rps / base.rps:>8.2f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}")
        self.stdout.write("(production server, 2 workers, SQLite; ratio = requests/s relative to /healthz in this run)")
