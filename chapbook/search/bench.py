"""`chapbook bench search`: realistic full-text queries on the current archive.

Run it on an archive generated with text (`chapbook generate --works N --text`). It
rebuilds the search index the way `chapbook reindex --search-only` does and reports the
words indexed per second, then the index's size on disk, then each query's p50 and p95 in
milliseconds at the query layer (`search_works`, as the search page calls it) and over
HTTP against the production server (`GET /api/v1/search`). The goals are the issue's:
every query's p95 at 100 ms or less, and a million words indexed a second or more.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field, replace
from typing import Any, Callable
from urllib.parse import urlencode

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Count, Sum

from chapbook.demo import prose
from chapbook.lib.searchquery import parse
from chapbook.listings.bench import percentile, time_calls
from chapbook.listings.query import Filters, matching_ids
from chapbook.search.backend import get_backend
from chapbook.search.documents import plain_text
from chapbook.search.services import filters_narrow, search_works
from chapbook.tags.models import Tag, TagType
from chapbook.works.models import Chapter, Creatorship, Work, WorkTag

GOAL_MS = 100.0
GOAL_WORDS_PER_SECOND = 1_000_000
COMMON_WORD = "door"
COMMON_PHRASE = '"for a long moment"'
FILTERED_PHRASE = '"took a deep breath"'
TITLE_WORD = "title:lantern"
# Typed without its accent: the index folds "café" to "cafe".
EITHER = "cafe OR lighthouse"
# What the tokenizers count as a word, for the metadata's share of the words indexed.
TOKEN = re.compile(r"\w+")


@dataclass
class Case:
    name: str
    text: str
    filters: Filters = field(default_factory=Filters)
    api: dict[str, Any] = field(default_factory=dict)


def listed() -> Any:
    return Work.objects.filter(draft=False, hidden=False)


def indexed_works() -> int:
    table = "search_work" if connection.vendor == "postgresql" else "search_indexed"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cursor.fetchone()[0])


def rare_phrase() -> tuple[str, str]:
    """A line a reader remembers: the rarest seeded phrase found, made of ordinary words
    only (a phrase with a word of its own would be found by that word alone), or else five
    words from the middle of a chapter. Returns (query, where it came from)."""
    backend = get_backend()
    # Phrase k is planted in 2 + k % 6 works: the rarest first.
    for k in sorted(prose.ordinary_phrases(), key=lambda k: (k % 6, k)):
        phrase = prose.MEMORABLE_PHRASES[k]
        if len(backend.match(parse(f'"{phrase}"')).ids):
            return f'"{phrase}"', "a phrase seeded by chapbook generate --text"
    work = listed().order_by("pk")[listed().count() // 2 : listed().count() // 2 + 1].first()
    chapter = Chapter.objects.filter(work=work).order_by("position").first() if work else None
    words = plain_text(chapter.html).split() if chapter else []
    middle = len(words) // 2
    return '"' + " ".join(words[middle : middle + 5]) + '"', f"five words from the middle of work {getattr(work, 'pk', '?')}"


def build_cases() -> list[Case]:
    fandom = (
        WorkTag.objects.filter(tag__type=TagType.FANDOM).values("tag").annotate(n=Count("id")).order_by("-n").first()
    )
    fandom_tag = Tag.objects.get(pk=fandom["tag"]) if fandom else None
    character = None
    if fandom_tag is not None:
        in_fandom = WorkTag.objects.filter(tag=fandom_tag).values("work")
        top = (
            WorkTag.objects.filter(work__in=in_fandom, tag__type=TagType.CHARACTER, tag__canonical=True)
            .values("tag").annotate(n=Count("id")).order_by("-n").first()
        )
        character = Tag.objects.get(pk=top["tag"]) if top else None
    creator = Creatorship.objects.values("pseud__name").annotate(n=Count("id")).order_by("-n").first()
    phrase, _ = rare_phrase()
    cases = [
        Case("rare phrase", phrase),
        Case("common word", COMMON_WORD),
        Case("common-word phrase", COMMON_PHRASE),
        Case("phrase + biggest fandom", FILTERED_PHRASE),
        Case("creator", f"creator:{creator['pseud__name'] if creator else 'nobody'}"),
        Case("title:", TITLE_WORD),
        Case("OR", EITHER),
    ]
    if character is not None:
        # As readers search: the name as typed, not quoted.
        cases.append(Case("character name", character.name.split(" (")[0]))
    if fandom_tag is not None:
        cases[3].filters = Filters(include=(fandom_tag.pk,))
        cases[3].api = {"include": fandom_tag.name}
    for case in cases:
        case.api = {"q": case.text, **case.api}
    return cases


def metadata_words() -> int:
    """Words of every listed work's title, summary, notes, tags and creators, as the
    tokenizers split them (tags by their own names; meta tags' names are left out)."""
    works = listed()
    words = 0
    for title, summary, notes, end_notes in works.values_list("title", "summary", "notes", "end_notes").iterator(
        chunk_size=20_000
    ):
        words += sum(len(TOKEN.findall(plain_text(text))) for text in (title, summary, notes, end_notes))
    per_tag = {pk: len(TOKEN.findall(name)) for pk, name in Tag.objects.values_list("pk", "name")}
    tag_ids = np.fromiter(
        WorkTag.objects.filter(work__in=works).values_list("tag_id", flat=True).iterator(chunk_size=100_000),
        dtype=np.int64,
    )
    if len(tag_ids):
        lookup = np.zeros(int(max(per_tag, default=0)) + 1, dtype=np.int64)
        lookup[list(per_tag)] = list(per_tag.values())
        words += int(lookup[tag_ids].sum())
    for name, username in Creatorship.objects.filter(work__in=works, accepted=True).values_list(
        "pseud__name", "pseud__user__username"
    ):
        words += len(TOKEN.findall(name)) + (0 if name.lower() == username.lower() else len(TOKEN.findall(username)))
    return words


def reindex(write: Callable[[str], None]) -> None:
    """Rebuild the search index as `chapbook reindex --search-only` does, and time it."""
    body = int(listed().aggregate(words=Sum("word_count"))["words"] or 0)
    metadata = metadata_words()
    total = body + metadata
    write(f"\nIndexing: a full rebuild as `chapbook reindex --search-only` does it ({connection.vendor})")
    reported = [0]

    def progress(works: int, words: int) -> None:
        reported[0] = works

    started = time.perf_counter()
    works = get_backend().reindex_all(progress=progress)
    seconds = time.perf_counter() - started
    rate = total / seconds if seconds > 0 else 0.0
    verdict = "ok" if rate >= GOAL_WORDS_PER_SECOND else "below the goal"
    write(
        f"{works:,} works, {total:,} words ({body:,} of chapter text, {metadata:,} of titles, summaries, notes, "
        f"tags and creators) in {seconds:.1f} s: {rate:,.0f} words/s "
        f"(goal ≥ {GOAL_WORDS_PER_SECOND:,}: {verdict})"
    )
    free = getattr(get_backend(), "free_retired", None)
    if free is not None:
        # SQLite: the old index's tables, put aside by the swap, freed here as the
        # background task would, apart from the rebuild (its index is live already).
        started = time.perf_counter()
        rows = free()
        write(f"Then the old index's tables freed, as the background task does: {rows:,} rows in "
              f"{time.perf_counter() - started:.1f} s")


def index_size(write: Callable[[str], None]) -> None:
    """The search tables and indexes on disk, next to the chapters' own table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sizes = {}
            for table in ("search_work", "search_chunk", "search_posting", "search_unposted", "works_chapter"):
                cursor.execute("SELECT pg_total_relation_size(%s::regclass)", [table])
                sizes[table] = int(cursor.fetchone()[0])
            parts = {"search_work (per-work vectors, GIN)": sizes["search_work"],
                     "search_chunk (chapter pieces)": sizes["search_chunk"],
                     "search_posting (phrase index)": sizes["search_posting"] + sizes["search_unposted"]}  # fmt: skip
            chapters = sizes["works_chapter"]
        else:
            cursor.execute(
                "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE 'search\\_%' ESCAPE '\\' "
                "OR name LIKE 'sqlite_autoindex_search\\_%' ESCAPE '\\' GROUP BY name"
            )
            # Tables a rebuild put aside (`_retired`) are not the index: a task frees them.
            by_table = {name: int(size) for name, size in cursor.fetchall() if "_retired" not in name}
            groups = {"search_fts (FTS5, with chapter text)": "search_fts", "search_meta (FTS5, metadata)": "search_meta",
                      "search_indexed (compressed source, for snippets)": "search_indexed"}  # fmt: skip
            parts = {
                label: sum(size for name, size in by_table.items() if name == prefix or name.startswith(prefix + "_"))
                for label, prefix in groups.items()
            }
            cursor.execute("SELECT SUM(pgsize) FROM dbstat WHERE name IN ('works_chapter')")
            chapters = int(cursor.fetchone()[0] or 0)
    total = sum(parts.values())
    words = int(listed().aggregate(words=Sum("word_count"))["words"] or 0)
    write(f"\nIndex size on disk: {total / 2**20:,.1f} MiB ({total / max(words, 1):.2f} bytes a word of chapter text; "
          f"the chapters' own table is {chapters / 2**20:,.1f} MiB)")
    for label, size in parts.items():
        write(f"  {label:<52}{size / 2**20:>10,.1f} MiB")


def run(write: Callable[[str], None], *, repeat: int, port: int, http: bool, reindex_first: bool = True) -> None:
    works = listed().count()
    words = int(listed().aggregate(words=Sum("word_count"))["words"] or 0)
    backend = "FTS5" if connection.vendor == "sqlite" else "PostgreSQL full-text search"
    write(f"Archive: {works:,} listed works, {words:,} words of chapter text; {connection.vendor} ({backend})")
    if reindex_first:
        reindex(write)
    elif indexed_works() < works:
        write(f"The search index holds {indexed_works():,} of {works:,} works: run `chapbook reindex --search-only`.")
    index_size(write)

    cases = build_cases()
    guest = AnonymousUser()
    page_size = settings.WORKS_PER_PAGE
    write(
        f"\nQuery layer: search_works as the search page calls it (a guest, best match, facets, "
        f"{page_size} a page), {repeat} runs each; of which match = the search backend finding the works "
        f"(within the filters' works, as the page asks), snippets = highlighting the page's works. "
        f"Goal: p95 ≤ {GOAL_MS:.0f} ms."
    )
    width = max(len(case.text) for case in cases) + 2
    write(
        f"{'query':<26}{'q':<{width}}{'count':>9}{'match p50':>11}{'snippets p50':>14}{'p50 ms':>9}{'p95 ms':>9}  goal"
    )
    backend_ = get_backend()
    for case in cases:
        query = parse(case.text)

        def call(c: Case = case) -> Any:
            # Best match, as the search page sorts a text query by default.
            return search_works(c.text, replace(c.filters, sort="best"), user=guest, page_size=page_size, facets=True)

        result = call()
        # As search_works calls it: within the works the filters leave, when they narrow.
        within = matching_ids(case.filters, user=guest) if backend_.uses_within and filters_narrow(case.filters) else None
        matched = time_calls(lambda q=query, w=within: backend_.match(q, within=w), repeat)  # type: ignore[misc]
        snippets = time_calls(lambda q=query, ids=result.ids: backend_.snippets(q, ids), repeat)  # type: ignore[misc]
        samples = time_calls(call, repeat)
        p95 = percentile(samples, 95)
        write(
            f"{case.name:<26}{case.text:<{width}}{result.count:>9,}{percentile(matched, 50):>11.2f}"
            f"{percentile(snippets, 50):>14.2f}{percentile(samples, 50):>9.2f}{p95:>9.2f}  "
            f"{'ok' if p95 <= GOAL_MS else 'SLOW'}"
        )
    if http:
        _run_http(write, cases, repeat=repeat, port=port, width=width)


def _run_http(write: Callable[[str], None], cases: list[Case], *, repeat: int, port: int, width: int) -> None:
    from chapbook.site.serving import ServerOptions, granian_command, wait_until_up

    server = subprocess.Popen(granian_command(ServerOptions(port=port, workers=1)), env=dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_up(base + "/healthz", timeout=120):
            raise RuntimeError("The server did not start.")

        def fetch(path: str) -> bytes:
            with urllib.request.urlopen(base + path, timeout=120) as response:
                return response.read()

        def get(path: str) -> Any:
            return json.loads(fetch(path))

        # The first listing loads the filter index into the worker.
        get("/api/v1/works?page_size=1")
        healthz = time_calls(lambda: fetch("/healthz"), repeat)
        write(
            f"\nHTTP: GET /api/v1/search as a guest (1 worker, sequential; /healthz p50 "
            f"{percentile(healthz, 50):.2f} ms). Goal: p95 ≤ {GOAL_MS:.0f} ms."
        )
        write(f"{'query':<26}{'q':<{width}}{'count':>9}{'first ms':>10}{'p50 ms':>9}{'p95 ms':>9}  goal")
        for case in cases:
            path = "/api/v1/search?" + urlencode(case.api, doseq=True)
            start = time.perf_counter()
            body = get(path)
            first = (time.perf_counter() - start) * 1000
            samples = time_calls(lambda p=path: get(p), repeat)  # type: ignore[misc]
            p95 = percentile(samples, 95)
            write(
                f"{case.name:<26}{case.text:<{width}}{body['count']:>9,}{first:>10.2f}"
                f"{percentile(samples, 50):>9.2f}{p95:>9.2f}  {'ok' if p95 <= GOAL_MS else 'SLOW'}"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
