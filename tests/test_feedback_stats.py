"""The creators' stats page: counters per work, totals, sorting, and the chart over time."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from chapbook.feedback import chart
from chapbook.feedback.models import (
    Bookmark,
    Comment,
    CommentStatus,
    DailyHits,
    Kudos,
    Subscription,
)
from chapbook.feedback.stats import chart_data, chart_svg, works_for_stats
from chapbook.people.models import User
from chapbook.works.models import Creatorship, Work
from chapbook.works.services import answer_co_creator_invitation
from tests.conftest import make_user, queries_for

SVG = "{http://www.w3.org/2000/svg}"


def set_counters(work: Work, **counts: int) -> None:
    Work.objects.filter(pk=work.pk).update(**{f"{name}_count": n for name, n in counts.items()})


def at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def row_titles(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return [part.split("</a>")[0].split(">")[-1] for part in body.split('<th scope="row">')[1:]]


def parse_svg(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def polyline_points(svg: ET.Element, series: str) -> list[tuple[float, float]]:
    group = next(g for g in svg.iter(f"{SVG}g") if g.get("data-series") == series)
    line = group.find(f"{SVG}polyline")
    assert line is not None
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in (line.get("points") or "").split())]


def expected_y(value: float, svg: ET.Element) -> float:
    top = float((svg.get("data-y-max") or "0").replace(",", ""))
    return chart.PLOT_BOTTOM - value / top * (chart.PLOT_BOTTOM - chart.PLOT_TOP)


# --------------------------------------------------------------------- who sees what


def test_the_stats_page_needs_a_login() -> None:
    response = Client().get("/stats")

    assert response.status_code == 302 and "/login" in response["Location"]


def test_it_lists_only_the_creators_own_posted_works_with_their_counters_and_totals(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    harbour = make_work(author, title="Harbour")
    lights = make_work(author, title="Lights")
    make_work(author, title="Unposted Draft", draft=True)
    make_work(reader, title="Bob's Own")
    set_counters(harbour, hits=120, kudos=7, comments=3, bookmarks=2, subscriptions=1)
    set_counters(lights, hits=30, kudos=5, comments=1, bookmarks=0, subscriptions=4)

    page = text(client_for(author), "/stats")

    assert sorted(row_titles(page)) == ["Harbour", "Lights"]
    assert "Bob's Own" not in page and "Unposted Draft" not in page
    footer = page.split("<tfoot>")[1].split("</tfoot>")[0]
    assert [cell.split("</td>")[0] for cell in footer.split("<td>")[2:]] == ["150", "12", "4", "2", "5"]


def test_it_counts_a_work_once_its_co_creator_accepted(
    author: User, co_author: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, title="Together", co_creators=[co_author.default_pseud])
    assert not works_for_stats(co_author).exists()

    answer_co_creator_invitation(Creatorship.objects.get(work=work, pseud__user=co_author), by=co_author, accept=True)

    assert row_titles(text(client_for(co_author), "/stats")) == ["Together"]


def test_it_404s_the_chart_of_someone_elses_work(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    theirs = make_work(author, title="Alice's")
    make_work(reader, title="Bob's")
    client = client_for(reader)

    assert client.get(f"/stats?work={theirs.pk}").status_code == 404
    assert client.get("/stats?work=999999").status_code == 404
    assert client.get("/stats?work=abc").status_code == 404
    assert client_for(author).get(f"/stats?work={theirs.pk}").status_code == 200


def test_it_tells_someone_without_works_what_the_page_is_for(
    reader: User, client_for: Callable[[User], Client]
) -> None:
    assert "Once you post a work" in text(client_for(reader), "/stats")


# --------------------------------------------------------------------- sorting


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("hits", ["Bravo", "Alpha", "Charlie"]),
        ("kudos", ["Charlie", "Alpha", "Bravo"]),
        ("comments", ["Alpha", "Bravo", "Charlie"]),
        ("bookmarks", ["Bravo", "Charlie", "Alpha"]),
        ("subscriptions", ["Charlie", "Bravo", "Alpha"]),
        ("title", ["Alpha", "Bravo", "Charlie"]),
    ],
)
def test_it_sorts_by_each_column(
    sort: str, order: list[str], author: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    figures = {
        "Alpha": {"hits": 20, "kudos": 5, "comments": 9, "bookmarks": 1, "subscriptions": 0},
        "Bravo": {"hits": 90, "kudos": 1, "comments": 4, "bookmarks": 8, "subscriptions": 2},
        "Charlie": {"hits": 10, "kudos": 30, "comments": 0, "bookmarks": 3, "subscriptions": 6},
    }
    for title, counts in figures.items():
        set_counters(make_work(author, title=title), **counts)

    page = text(client_for(author), f"/stats?sort={sort}")

    assert row_titles(page) == order
    assert 'aria-sort="' in page


def test_it_costs_the_same_queries_for_two_or_ten_works(
    author: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    client = client_for(author)
    for n in range(2):
        make_work(author, title=f"Work {n}")
    client.get("/stats")
    two = queries_for(client, "/stats")
    for n in range(2, 10):
        work = make_work(author, title=f"Work {n}")
        Kudos.objects.create(work=work, user=make_user(f"fan{n}"))
        DailyHits.objects.create(work=work, day=timezone.localdate(), hits=n)

    assert queries_for(client, "/stats") == two


# --------------------------------------------------------------------- the chart's numbers


@pytest.fixture
def busy_work(author: User, reader: User, make_work: Callable[..., Work]) -> Work:
    """Feedback spread over the last days: the chart counts it per day."""
    work = make_work(author, title="Busy")
    today = timezone.localdate()
    for days_ago, hits in {0: 5, 1: 8, 3: 2, 40: 100}.items():
        DailyHits.objects.create(work=work, day=today - timedelta(days=days_ago), hits=hits)
    fans = [make_user(f"fan{n}") for n in range(3)]
    Kudos.objects.create(work=work, user=fans[0], created_at=at(today))
    Kudos.objects.create(work=work, user=fans[1], created_at=at(today, 1))
    Kudos.objects.create(work=work, user=fans[2], created_at=at(today - timedelta(days=2)))
    # Chapter kudos are not the work's kudos.
    Kudos.objects.create(work=work, user=fans[0], chapter=work.chapters.get(), created_at=at(today))
    Comment.objects.create(work=work, html="<p>Lovely</p>", created_at=at(today - timedelta(days=1)))
    Comment.objects.create(work=work, html="<p>Held</p>", status=CommentStatus.HELD, created_at=at(today))
    Bookmark.objects.create(work=work, user=reader, pseud=reader.default_pseud, created_at=at(today))
    Bookmark.objects.create(
        work=work, user=fans[0], pseud=fans[0].default_pseud, private=True, created_at=at(today)
    )
    Subscription.objects.create(work=work, user=reader, created_at=at(today - timedelta(days=6)))
    return work


def test_it_counts_the_last_days_per_day(busy_work: Work) -> None:
    data = chart_data(Work.objects.filter(pk=busy_work.pk), days=7)

    assert not data.weekly
    assert [b.start for b in data.buckets] == [timezone.localdate() - timedelta(days=6 - i) for i in range(7)]
    assert data.series["hits"] == [0, 0, 0, 2, 0, 8, 5]
    assert data.series["kudos"] == [0, 0, 0, 0, 1, 0, 2]
    assert data.series["comments"] == [0, 0, 0, 0, 0, 1, 0]
    assert data.series["bookmarks"] == [0, 0, 0, 0, 0, 0, 1]
    assert data.series["subscriptions"] == [1, 0, 0, 0, 0, 0, 0]


def test_it_counts_longer_ranges_per_week(busy_work: Work) -> None:
    data = chart_data(Work.objects.filter(pk=busy_work.pk), days=90)

    assert data.weekly
    assert len(data.buckets) == 13
    assert data.buckets[-1].end == timezone.localdate()
    assert all((b.end - b.start).days == 6 for b in data.buckets)
    # Days 0, 1 and 3 ago fall in the last week; 40 days ago in the sixth week back.
    assert data.series["hits"][-1] == 15
    assert data.series["hits"][-6] == 100
    assert sum(data.series["hits"]) == 115
    assert data.series["kudos"][-1] == 3


def test_it_leaves_out_feedback_before_the_range(busy_work: Work) -> None:
    data = chart_data(Work.objects.filter(pk=busy_work.pk), days=30)

    assert sum(data.series["hits"]) == 15


def test_it_builds_the_chart_in_a_fixed_number_of_queries(
    busy_work: Work, django_assert_max_num_queries: Callable[[int], object]
) -> None:
    with django_assert_max_num_queries(5):  # type: ignore[attr-defined]
        chart_data(Work.objects.filter(pk=busy_work.pk), days=365)


# --------------------------------------------------------------------- the SVG


def test_the_chart_is_an_accessible_svg_whose_points_match_the_data(busy_work: Work) -> None:
    data = chart_data(Work.objects.filter(pk=busy_work.pk), days=7)

    svg = parse_svg(chart_svg(data, subject="Busy"))

    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "Busy" in (title.text or "")
    series = [g for g in svg.iter(f"{SVG}g") if g.get("data-series")]
    assert [g.get("data-series") for g in series] == ["Hits", "Kudos", "Comments", "Bookmarks", "Subscriptions"]
    # Told apart by colour and by dash pattern alike.
    assert len({g.get("stroke") for g in series}) == 5
    dashes = [(g.find(f"{SVG}polyline").get("stroke-dasharray") or "") for g in series]  # type: ignore[union-attr]
    assert len(set(dashes)) == 5

    for name, key in [("Hits", "hits"), ("Kudos", "kudos"), ("Subscriptions", "subscriptions")]:
        points = polyline_points(svg, name)
        assert len(points) == 7
        xs = [x for x, _ in points]
        assert xs == sorted(xs) and len(set(xs)) == 7
        for (_, y), value in zip(points, data.series[key]):
            assert y == pytest.approx(expected_y(value, svg), abs=0.06)


def test_the_chart_has_axis_labels_and_a_legend(busy_work: Work) -> None:
    data = chart_data(Work.objects.filter(pk=busy_work.pk), days=7)
    svg = parse_svg(chart_svg(data, subject="Busy"))

    texts = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]

    assert "0" in texts and "8" in texts  # the y axis reaches the highest day
    assert data.buckets[0].label in texts and data.buckets[-1].label in texts
    assert "Hits (15)" in texts and "Kudos (3)" in texts and "Bookmarks (1)" in texts


def test_the_stats_page_shows_the_chart_and_the_same_numbers_in_a_table(
    busy_work: Work, author: User, client_for: Callable[[User], Client]
) -> None:
    page = text(client_for(author), f"/stats?days=7&work={busy_work.pk}")

    markup = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    parse_svg(markup)
    table = page.split("<details>")[1].split("</details>")[0]
    today = timezone.localdate()
    last_row = table.split(f'<time datetime="{today:%Y-%m-%d}">')[1].split("</tr>")[0]
    assert [cell.split("</td>")[0] for cell in last_row.split("<td>")[1:]] == ["5", "2", "0", "1", "0"]
    assert "Last 7 days" in page


def test_the_stats_page_falls_back_to_thirty_days_for_an_odd_range(
    busy_work: Work, author: User, client_for: Callable[[User], Client]
) -> None:
    page = text(client_for(author), "/stats?days=12")

    assert "last 30 days" in page
    assert page.count("<tr><th scope=\"row\"><time") == 30


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=0, max_value=60).flatmap(
        lambda n: st.lists(
            st.lists(st.integers(min_value=0, max_value=10**12), min_size=n, max_size=n), min_size=1, max_size=5
        ).map(lambda lines: (n, lines))
    )
)
def test_any_series_draws_inside_the_view_box(shape: tuple[int, list[list[int]]]) -> None:
    count, values = shape
    lines = [chart.Line(name=f"S{i}", values=v, colour="#000000", dash="4 2" if i else "") for i, v in enumerate(values)]

    svg = parse_svg(render_chart(count, lines))

    for i, series in enumerate(values):
        points = polyline_points(svg, f"S{i}")
        assert len(points) == count
        for x, y in points:
            assert chart.PLOT_LEFT <= x <= chart.PLOT_RIGHT
            assert chart.PLOT_TOP - 0.06 <= y <= chart.PLOT_BOTTOM + 0.06
        if series:
            highest = max(series)
            assert min(y for _, y in points) == pytest.approx(expected_y(highest, svg), abs=0.06)


@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-5, max_value=5)), max_size=20))
def test_odd_values_never_break_the_chart(values: list[float]) -> None:
    svg = parse_svg(render_chart(len(values), [chart.Line(name="Odd", values=values, colour="#123456")]))

    for x, y in polyline_points(svg, "Odd"):
        assert 0 <= x <= chart.WIDTH and 0 <= y <= chart.HEIGHT


def render_chart(count: int, lines: list[chart.Line]) -> str:
    return chart.render_svg(
        labels=[f"Day <{n}> & co" for n in range(count)], lines=lines, title="T & <t>", description="D"
    )
