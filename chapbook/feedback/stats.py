"""Stats for creators: each work's feedback counters, their totals, and how they moved over time.

The table reads the counters kept on each Work; the chart counts per day in the database
(hits from DailyHits, the rest from the created_at of each kudos, comment, bookmark and
subscription) and only folds those daily sums into weeks for the longer ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from chapbook.feedback.chart import Line, render_svg
from chapbook.feedback.models import (
    Bookmark,
    Comment,
    CommentStatus,
    DailyHits,
    Kudos,
    Subscription,
)
from chapbook.people.models import User
from chapbook.works.models import Work
from chapbook.works.selectors import works_credited_to

# Column -> (label, ordering). Counts sort the largest first, titles A to Z.
SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "title": ("Title", ("title", "pk")),
    "date": ("Posted", ("-published_at", "-pk")),
    "hits": ("Hits", ("-hits_count", "title", "pk")),
    "kudos": ("Kudos", ("-kudos_count", "title", "pk")),
    "comments": ("Comments", ("-comments_count", "title", "pk")),
    "bookmarks": ("Bookmarks", ("-bookmarks_count", "title", "pk")),
    "subscriptions": ("Subscriptions", ("-subscriptions_count", "title", "pk")),
}
DEFAULT_SORT = "date"
COUNTERS = ("hits", "kudos", "comments", "bookmarks", "subscriptions")
RANGES = (7, 30, 90, 365)
DEFAULT_DAYS = 30
# Beyond a month a point per day is too dense to read; weeks it is.
LONGEST_DAILY = 30

# Colour and dash for each series: the dash patterns tell the lines apart without colour.
STYLES: dict[str, tuple[str, str, str]] = {
    "hits": ("Hits", "#1f6fb4", ""),
    "kudos": ("Kudos", "#c62828", "8 4"),
    "comments": ("Comments", "#2e7d32", "2 3"),
    "bookmarks": ("Bookmarks", "#7b3fb0", "8 3 2 3"),
    "subscriptions": ("Subscriptions", "#b25e00", "12 3 2 3 2 3"),
}


def works_for_stats(user: User) -> QuerySet[Work]:
    """The posted works credited to any of `user`'s pseuds (accepted credits only)."""
    return works_credited_to(user, user.pseuds.all()).filter(draft=False)


def sorted_works(works: QuerySet[Work], sort: str) -> QuerySet[Work]:
    return works.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT])[1])


def totals(works: QuerySet[Work]) -> dict[str, int]:
    """The sum of each counter over `works`, in one query."""
    sums = works.order_by().aggregate(
        **{name: Coalesce(Sum(f"{name}_count"), 0) for name in COUNTERS}
    )
    return {name: int(sums[name]) for name in COUNTERS}


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date

    @property
    def label(self) -> str:
        return f"{self.start.day} {self.start:%b}"

    @property
    def long_label(self) -> str:
        first = f"{self.start.day} {self.start:%b %Y}"
        return first if self.start == self.end else f"{first} – {self.end.day} {self.end:%b %Y}"


@dataclass
class ChartData:
    days: int
    weekly: bool
    buckets: list[Bucket]
    series: dict[str, list[int]]  # counter name -> one value per bucket

    def rows(self) -> list[tuple[Bucket, list[int]]]:
        """The table under the chart: one row per bucket, one column per series."""
        return [(bucket, [self.series[name][i] for name in COUNTERS]) for i, bucket in enumerate(self.buckets)]

    def lines(self) -> list[Line]:
        return [
            Line(name=STYLES[name][0], values=self.series[name], colour=STYLES[name][1], dash=STYLES[name][2])
            for name in COUNTERS
        ]


def _buckets(days: int, today: date) -> tuple[list[Bucket], bool]:
    if days <= LONGEST_DAILY:
        first = today - timedelta(days=days - 1)
        return [Bucket(first + timedelta(days=i), first + timedelta(days=i)) for i in range(days)], False
    # Whole weeks ending today, so the last point is never a partial week.
    weeks = -(-days // 7)
    first = today - timedelta(days=7 * weeks - 1)
    return [Bucket(first + timedelta(days=7 * i), first + timedelta(days=7 * i + 6)) for i in range(weeks)], True


def _created_per_day(rows: QuerySet[Any], since: datetime) -> dict[date, int]:
    """Rows created since `since`, counted per (local) day by the database."""
    per_day = (
        rows.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["n"] for row in per_day}


def chart_data(works: QuerySet[Work], *, days: int = DEFAULT_DAYS, today: date | None = None) -> ChartData:
    """The five series for `works` over the last `days` days, per day or per week."""
    today = today or timezone.localdate()
    buckets, weekly = _buckets(days, today)
    first = buckets[0].start
    since = timezone.make_aware(datetime.combine(first, time.min))
    ids = works.order_by().values("pk")

    hits = DailyHits.objects.filter(work__in=ids, day__gte=first, day__lte=today).values("day").annotate(n=Sum("hits"))
    per_day: dict[str, dict[date, int]] = {
        "hits": {row["day"]: row["n"] for row in hits.order_by()},
        # Kudos on the work itself, as Work.kudos_count counts them.
        "kudos": _created_per_day(Kudos.objects.filter(work__in=ids, chapter__isnull=True), since),
        "comments": _created_per_day(
            Comment.objects.filter(work__in=ids, status=CommentStatus.APPROVED, deleted=False), since
        ),
        # Public bookmarks, as Work.bookmarks_count counts them.
        "bookmarks": _created_per_day(Bookmark.objects.filter(work__in=ids, private=False), since),
        "subscriptions": _created_per_day(Subscription.objects.filter(work__in=ids), since),
    }
    series = {name: [0] * len(buckets) for name in COUNTERS}
    step = 7 if weekly else 1
    for name, counts in per_day.items():
        for day, n in counts.items():
            index = (day - first).days // step
            if 0 <= index < len(buckets):
                series[name][index] += n
    return ChartData(days=days, weekly=weekly, buckets=buckets, series=series)


def chart_svg(data: ChartData, *, subject: str) -> str:
    period = "week" if data.weekly else "day"
    totals_text = ", ".join(f"{STYLES[name][0].lower()} {sum(data.series[name])}" for name in COUNTERS)
    return render_svg(
        labels=[bucket.label for bucket in data.buckets],
        lines=data.lines(),
        title=f"Feedback on {subject} over the last {data.days} days",
        description=(
            f"Hits, kudos, comments, bookmarks and subscriptions per {period}, "
            f"from {data.buckets[0].start:%d %B %Y} to {data.buckets[-1].end:%d %B %Y}. "
            f"In total: {totals_text}. The table below has every number."
        ),
        chart_id="stats-chart",
        y_label=f"Per {period}",
    )
