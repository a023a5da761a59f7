"""The creators' stats page: a table of their works' feedback and a chart of it over time."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from chapbook.feedback import stats
from chapbook.site.http import AuthenticatedRequest


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
def stats_page(request: AuthenticatedRequest) -> HttpResponse:
    works = stats.works_for_stats(request.user)
    selected = None
    if "work" in request.GET and request.GET["work"] != "":
        # Only one's own works: anyone else's (or a made-up id) is not there to be found.
        pk = _int(request.GET["work"])
        selected = works.filter(pk=pk).first() if pk is not None else None
        if selected is None:
            raise Http404("No such work.")
    sort = request.GET.get("sort", "")
    sort = sort if sort in stats.SORTS else stats.DEFAULT_SORT
    days = _int(request.GET.get("days"))
    days = days if days in stats.RANGES else stats.DEFAULT_DAYS

    data = stats.chart_data(works.filter(pk=selected.pk) if selected else works, days=days)
    keep = {"days": days, **({"work": selected.pk} if selected else {})}
    columns = [
        {"key": key, "label": label, "url": "?" + urlencode({**keep, "sort": key}), "active": key == sort}
        for key, (label, _) in stats.SORTS.items()
    ]
    context = {
        "works": stats.sorted_works(works, sort),
        "totals": stats.totals(works),
        "columns": columns,
        "sort": sort,
        "days": days,
        "ranges": stats.RANGES,
        "selected": selected,
        "choices": works.order_by("title", "pk").values_list("pk", "title"),
        "chart": stats.chart_svg(data, subject=f"“{selected.title}”" if selected else "all your works"),
        "chart_rows": data.rows(),
        "chart_weekly": data.weekly,
        "series_names": [stats.STYLES[name][0] for name in stats.COUNTERS],
    }
    return render(request, "feedback/stats.html", context)


urlpatterns: list[URLPattern] = [
    path("stats", stats_page, name="stats"),
]
