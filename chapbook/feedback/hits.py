"""Hits: roughly unique visitors per work per day, counted without locking the work's row.

A page view only inserts a PendingHit (work, visitor, day), ignoring the conflict when the
same visitor already came today, and usually not even that: the cache remembers who was
seen. A background task, run at most about once a minute, adds the new rows to
`Work.hits_count` in one UPDATE per work and to `DailyHits` for the creators' stats chart.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django_tasks import task

from chapbook.feedback import counters
from chapbook.feedback.models import DailyHits, PendingHit
from chapbook.works.models import Creatorship

logger = logging.getLogger(__name__)

# Crawlers, link previews (chat apps unfurling a link), headless browsers and scripted
# fetchers. "cubot" is a phone maker whose model names would otherwise read as bots.
BOT_AGENT = re.compile(
    r"(?<!cu)bot|crawl|spider|slurp|preview|headless|fetch|scrap|archiver|facebookexternalhit|embedly"
    r"|curl/|wget|python-requests|python-urllib|aiohttp|httpx|go-http-client|okhttp|java/|libwww|httpclient"
    r"|lighthouse|pingdom|uptime|phantomjs|validator|feedparser",
    re.IGNORECASE,
)

# How long after the first hit of a quiet spell the flush runs; hits in between wait for it.
FLUSH_DELAY_SECONDS = 60
FLUSH_BATCH = 5_000
# Pending rows are kept a little past their day so a second visit that day is still
# recognised when the cache has forgotten the visitor (a restart, another process).
KEEP_DAYS = 2
FLUSH_SCHEDULED_KEY = "hits:flush-scheduled"


def is_bot(user_agent: str) -> bool:
    """Known crawlers and fetchers; an empty User-Agent is never a person's browser either."""
    return not user_agent.strip() or BOT_AGENT.search(user_agent) is not None


def _cache() -> BaseCache:
    # The default (per-process) cache unless the site names another, so that a busy day's
    # visitor keys need not push rendered pages out of it.
    return caches[getattr(settings, "CHAPBOOK_HITS_CACHE", "default")]


def visitor_for(request: HttpRequest) -> str:
    """"u<id>" for a logged-in reader; for a guest a short keyed hash of address and browser.

    Keyed with the secret so that the stored value cannot be turned back into an address.
    """
    if request.user.is_authenticated:
        return f"u{request.user.pk}"
    seed = f"{request.META.get('REMOTE_ADDR', '')}|{request.META.get('HTTP_USER_AGENT', '')}"
    digest = hashlib.blake2b(seed.encode(), digest_size=12, key=settings.SECRET_KEY.encode()[:64]).hexdigest()
    return f"g{digest}"


def _seconds_left_today(now: datetime) -> int:
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now) + timedelta(days=1), time.min))
    return max(int((midnight - now).total_seconds()), 1)


def record_hit(request: HttpRequest, work_id: int) -> None:
    """Count this view of a work unless it is a bot, a creator, or a visitor already seen today.

    Called after the page decided the reader may see the work. Never touches the work's
    row: a popular work's readers would otherwise queue on its lock.
    """
    if is_bot(request.META.get("HTTP_USER_AGENT", "")):
        return
    now = timezone.now()
    day = timezone.localdate(now)
    visitor = visitor_for(request)
    if not _cache().add(f"hit:{work_id}:{visitor}:{day.isoformat()}", 1, timeout=_seconds_left_today(now)):
        return
    if (
        request.user.is_authenticated
        and Creatorship.objects.filter(work_id=work_id, pseud__user_id=request.user.pk, accepted=True).exists()
    ):
        return
    # The unique constraint makes a second visit the same day a no-op, whichever process saw it.
    PendingHit.objects.bulk_create([PendingHit(work_id=work_id, visitor=visitor, day=day)], ignore_conflicts=True)
    schedule_flush()


def schedule_flush() -> None:
    """Enqueue `flush_hits` to run in about a minute, at most once a minute per process."""
    if not _cache().add(FLUSH_SCHEDULED_KEY, 1, timeout=FLUSH_DELAY_SECONDS):
        return
    # After commit: the worker must find the row just inserted, and a rolled-back request
    # schedules nothing. (Test transactions never commit, so a page view in a test does
    # not flush; tests call the task, or run the callbacks, to see it happen.)
    transaction.on_commit(_enqueue_flush)


def _enqueue_flush() -> None:
    job = flush_hits
    # The database backend can hold the job until then; the immediate backend used in
    # tests cannot, and refuses run_after, so there it runs at once.
    if job.get_backend().supports_defer:
        job = job.using(run_after=timezone.now() + timedelta(seconds=FLUSH_DELAY_SECONDS))
    job.enqueue()


def _add_daily(work_id: int, day: date, hits: int) -> None:
    if DailyHits.objects.filter(work_id=work_id, day=day).update(hits=F("hits") + hits):
        return
    try:
        with transaction.atomic():
            DailyHits.objects.create(work_id=work_id, day=day, hits=hits)
    except IntegrityError:
        # Another flush created the day's row between our UPDATE and INSERT.
        DailyHits.objects.filter(work_id=work_id, day=day).update(hits=F("hits") + hits)


def _flush_batch() -> int:
    with transaction.atomic():
        # Locked and skipped by a concurrent flush on PostgreSQL, so no row counts twice;
        # SQLite runs one writer at a time anyway and ignores the clause.
        rows = list(
            PendingHit.objects.select_for_update(skip_locked=True)
            .filter(counted=False)
            .order_by("pk")
            .values_list("pk", "work_id", "day")[:FLUSH_BATCH]
        )
        if not rows:
            return 0
        PendingHit.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(counted=True)
        # The rows had to be read to lock them, so they are tallied here rather than by a
        # second GROUP BY over the same ids.
        per_work = Counter(work_id for _, work_id, _ in rows)
        per_day = Counter((work_id, day) for _, work_id, day in rows)
        # Works in id order, so two flushes never lock the same rows in opposite orders.
        for work_id in sorted(per_work):
            counters.bump(work_id, hits=per_work[work_id])
        for (work_id, day), hits in sorted(per_day.items()):
            _add_daily(work_id, day, hits)
    return len(rows)


@task()
def flush_hits() -> int:
    """Add the uncounted pending hits to their works and days; forget the old ones."""
    counted = 0
    while True:
        batch = _flush_batch()
        counted += batch
        if batch < FLUSH_BATCH:
            break
    cutoff = timezone.localdate() - timedelta(days=KEEP_DAYS)
    with transaction.atomic():
        PendingHit.objects.filter(day__lt=cutoff, counted=True).delete()
    logger.debug("flushed %d hits", counted)
    return counted
