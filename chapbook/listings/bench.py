"""`chapbook bench filters`: realistic listing queries on the current archive.

Each query runs at the query layer (`find_works`, as a page does) and through the API
over HTTP against the production server; both print p50 and p95 in milliseconds. Run
it on a generated archive (`chapbook generate --works N`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlencode

import numpy as np
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from chapbook.listings import index
from chapbook.listings.query import Filters, clear_facet_cache, find_works
from chapbook.tags.models import Tag, TagType
from chapbook.works.models import Work, WorkTag

WARNINGS_TO_EXCLUDE = ["Graphic Depictions Of Violence", "Major Character Death"]


@dataclass
class Case:
    name: str
    filters: Filters
    page: int = 1
    api: dict[str, Any] | None = None


def percentile(samples: list[float], pct: float) -> float:
    return float(np.percentile(np.array(samples), pct))


def _names(ids: list[int]) -> dict[int, str]:
    return dict(Tag.objects.filter(pk__in=ids).values_list("pk", "name"))


def fandoms_by_size(snapshot: index.Segment) -> list[tuple[int, int]]:
    """(tag id, works) of every fandom filter tag, biggest first."""
    totals = snapshot.tag_totals
    fandom_ids = np.array(
        list(Tag.objects.filter(type=TagType.FANDOM).values_list("pk", flat=True)), dtype=np.int64
    )
    fandom_ids = fandom_ids[fandom_ids < len(totals)]
    counts = totals[fandom_ids]
    order = np.argsort(-counts, kind="stable")
    return [(int(fandom_ids[i]), int(counts[i])) for i in order if counts[i] > 0]


def build_cases() -> list[Case]:
    view = index.current_view()
    if view.snapshot is None:
        raise RuntimeError("no snapshot")
    fandoms = fandoms_by_size(view.snapshot)
    biggest = fandoms[0][0]
    n = len(view.snapshot)
    # Mid-sized: about 0.5% of the archive; small: about 0.01% (at least 20 works).
    mid = min(fandoms, key=lambda f: abs(f[1] - n * 0.005))[0]
    small = min(fandoms, key=lambda f: abs(f[1] - max(20, n * 0.0001)))[0]
    top = find_works(Filters(include=(biggest,)), user=None, facets=True)
    relationship = top.facets["relationship"][0].tag_id
    warnings = [t.pk for t in Tag.objects.filter(name__in=WARNINGS_TO_EXCLUDE)]
    names = _names([biggest, mid, small, relationship, *warnings])

    def api(filters: Filters, page: int = 1) -> dict[str, Any]:
        params: dict[str, Any] = {"page": page, "page_size": 20}
        if filters.include:
            params["include"] = [names[t] for t in filters.include]
        if filters.exclude:
            params["exclude"] = [names[t] for t in filters.exclude]
        if filters.crossover:
            params["crossover"] = filters.crossover
        if filters.words_min is not None:
            params["words_min"] = filters.words_min
        if filters.words_max is not None:
            params["words_max"] = filters.words_max
        if filters.sort != "updated":
            params["sort"] = filters.sort
        return params

    cases = [
        Case("biggest fandom", Filters(include=(biggest,))),
        Case(
            "biggest + relationship - 2 warnings, by kudos",
            Filters(include=(biggest, relationship), exclude=tuple(warnings), sort="kudos"),
        ),
        Case("mid fandom, 5k-50k words", Filters(include=(mid,), words_min=5000, words_max=50000)),
        Case("small fandom", Filters(include=(small,))),
        Case("all works, crossovers excluded", Filters(crossover="exclude")),
        Case("biggest fandom, page 500", Filters(include=(biggest,)), page=500),
    ]
    for case in cases:
        case.api = api(case.filters, case.page)
    return cases


def time_calls(call: Callable[[], Any], repeat: int, before: Callable[[], Any] | None = None) -> list[float]:
    call()  # warm
    samples = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def run(write: Callable[[str], None], *, repeat: int, port: int, http: bool) -> None:
    if not index.snapshot_path().exists():
        write("No snapshot yet: building one…")
        index.rebuild_snapshot(progress=write, force=True)
    loading = time.perf_counter()
    view = index.current_view()
    loaded = time.perf_counter() - loading
    if view.snapshot is None:
        index.rebuild_snapshot(progress=write, force=True)
        view = index.current_view()
    snapshot = view.snapshot
    assert snapshot is not None
    works = Work.objects.count()
    write(
        f"Archive: {works:,} works, {WorkTag.objects.count():,} tags on works, {Tag.objects.count():,} tags; "
        f"{connection.vendor}; snapshot {len(snapshot):,} works, "
        f"{index.snapshot_path().stat().st_size / 2**20:,.0f} MiB, built in {snapshot.meta.get('seconds', 0):.1f} s; "
        f"delta {view.delta_size} works; loaded into this process in {loaded:.1f} s"
    )
    cases = build_cases()
    guest = AnonymousUser()
    baseline = time_calls(lambda: find_works(Filters(), user=guest), repeat)
    base_p50 = statistics.median(baseline)
    write(f"\nQuery layer (find_works as a guest, {repeat} runs each; baseline = all works, no facets: p50 {base_p50:.2f} ms)")
    write("Facet counts are timed cold (the per-snapshot count cache emptied before every run) and warm.")
    write(f"{'query':<48}{'count':>10}{'p50 ms':>9}{'p95 ms':>9}{'ratio':>7}{'warm p95':>10}")
    for facets in (False, True):
        for case in cases:
            result = find_works(case.filters, user=guest, page=case.page, facets=facets)

            def call(c: Case = case, f: bool = facets) -> Any:
                return find_works(c.filters, user=guest, page=c.page, facets=f)

            samples = time_calls(call, repeat, before=clear_facet_cache)
            warm = f"{percentile(time_calls(call, repeat), 95):>10.2f}" if facets else ""
            label = case.name + (" + facets" if facets else "")
            p50 = percentile(samples, 50)
            write(f"{label:<48}{result.count:>10,}{p50:>9.2f}{percentile(samples, 95):>9.2f}{p50 / base_p50:>7.1f}{warm}")
    if http:
        _run_http(write, cases, repeat=repeat, port=port)


def _run_http(write: Callable[[str], None], cases: list[Case], *, repeat: int, port: int) -> None:
    from chapbook.site.serving import ServerOptions, granian_command, wait_until_up

    env = dict(os.environ)
    server = subprocess.Popen(granian_command(ServerOptions(port=port, workers=1)), env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_up(base + "/healthz", timeout=120):
            raise RuntimeError("The server did not start.")

        def get(path: str) -> None:
            with urllib.request.urlopen(base + path, timeout=120) as response:
                response.read()

        # The first listing loads the snapshot into the worker.
        get("/api/v1/works?page_size=1")
        healthz = time_calls(lambda: get("/healthz"), repeat)
        write(f"\nHTTP, GET /api/v1/works as a guest (1 worker, sequential; /healthz p50 {percentile(healthz, 50):.2f} ms)")
        write("first = the first request for that filter since the server loaded the snapshot (cold facet counts)")
        write(f"{'query':<48}{'count':>10}{'first ms':>10}{'p50 ms':>9}{'p95 ms':>9}")
        for facets in (False, True):
            for case in cases:
                params = dict(case.api or {})
                if facets:
                    params["facets"] = "true"
                path = "/api/v1/works?" + urlencode(params, doseq=True)
                start = time.perf_counter()
                with urllib.request.urlopen(base + path, timeout=120) as response:
                    body = json.loads(response.read())
                first = (time.perf_counter() - start) * 1000
                samples = time_calls(lambda p=path: get(p), repeat)  # type: ignore[misc]
                label = case.name + (" + facets" if facets else "")
                write(
                    f"{label:<48}{body['count']:>10,}{first:>10.2f}"
                    f"{percentile(samples, 50):>9.2f}{percentile(samples, 95):>9.2f}"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
