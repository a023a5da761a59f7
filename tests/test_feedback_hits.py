"""Hits: roughly one per visitor per work per day, no bots, no creators, counted later by a task."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from chapbook.feedback import hits
from chapbook.feedback.hits import flush_hits, is_bot
from chapbook.feedback.models import DailyHits, PendingHit
from chapbook.people.models import User
from chapbook.works.models import Work

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"


def visitor(address: str = "10.0.0.1", agent: str = BROWSER) -> Client:
    return Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)


def hits_of(work: Work) -> int:
    work.refresh_from_db()
    return work.hits_count


def view(client: Client, work: Work) -> None:
    assert client.get(work.get_absolute_url()).status_code == 200


# --------------------------------------------------------------------- who counts


def test_it_counts_a_visitor_once_a_day(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    guest = visitor()

    view(guest, work)
    view(guest, work)
    cache.clear()  # the process forgot (a restart): the database still knows
    view(guest, work)
    flush_hits.call()

    assert PendingHit.objects.filter(work=work).count() == 1
    assert hits_of(work) == 1


def test_it_counts_different_visitors_apart(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author)

    view(visitor("10.0.0.1"), work)
    view(visitor("10.0.0.2"), work)
    view(visitor("10.0.0.2", PHONE), work)  # same address, another device
    logged_in = client_for(reader)
    logged_in.defaults["HTTP_USER_AGENT"] = BROWSER
    view(logged_in, work)
    flush_hits.call()

    assert hits_of(work) == 4
    assert PendingHit.objects.filter(visitor=f"u{reader.pk}").exists()


def test_it_keeps_no_address_in_a_guests_visitor_key(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    view(visitor("203.0.113.7"), work)

    key = PendingHit.objects.get().visitor
    assert key.startswith("g") and len(key) <= 32
    assert "203" not in key


@pytest.mark.parametrize(
    "agent",
    [
        "",
        "   ",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
        "Baiduspider+(+http://www.baidu.com/search/spider.htm)",
        "CCBot/2.0 (https://commoncrawl.org/faq/)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Google Web Preview",
        "FeedFetcher-Google; (+http://www.google.com/feedfetcher.html)",
        "python-requests/2.32.3",
        "curl/8.5.0",
        "Wget/1.21.4",
    ],
)
def test_it_ignores_known_bots(agent: str, author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    view(visitor(agent=agent), work)
    flush_hits.call()

    assert is_bot(agent)
    assert not PendingHit.objects.exists()
    assert hits_of(work) == 0


@pytest.mark.parametrize(
    "agent",
    [
        BROWSER,
        PHONE,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
    ],
)
def test_it_counts_peoples_browsers(agent: str) -> None:
    assert not is_bot(agent)


@given(st.text(max_size=300))
def test_the_bot_detector_takes_any_user_agent(agent: str) -> None:
    decided = is_bot(agent)
    assert isinstance(decided, bool)
    if not agent.strip():
        assert decided
    # Adding a crawler's name to anything makes it a bot.
    assert is_bot(agent + " Googlebot/2.1")


def test_it_ignores_the_works_creators(
    author: User, co_author: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    from chapbook.works.models import Creatorship
    from chapbook.works.services import answer_co_creator_invitation

    work = make_work(author, co_creators=[co_author.default_pseud])
    answer_co_creator_invitation(Creatorship.objects.get(work=work, pseud__user=co_author), by=co_author, accept=True)

    for creator in (author, co_author):
        client = client_for(creator)
        client.defaults["HTTP_USER_AGENT"] = BROWSER
        view(client, work)
    flush_hits.call()

    assert hits_of(work) == 0


def test_it_counts_nothing_for_a_page_it_refused(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, restricted=True)

    assert visitor().get(work.get_absolute_url()).status_code == 404

    assert not PendingHit.objects.exists()


# --------------------------------------------------------------------- no lock on the work


def test_a_page_view_never_writes_to_the_works_row(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    table = Work._meta.db_table

    with CaptureQueriesContext(connection) as queries:
        view(visitor(), work)

    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert not [sql for sql in writes if table in sql]
    assert hits_of(work) == 0  # not yet: the flush adds it
    assert PendingHit.objects.filter(work=work, counted=False).count() == 1


def test_a_second_view_the_same_day_costs_no_query_for_hits(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    guest = visitor()
    view(guest, work)

    with CaptureQueriesContext(connection) as queries:
        view(guest, work)

    assert not [q for q in queries.captured_queries if PendingHit._meta.db_table in q["sql"]]


# --------------------------------------------------------------------- the flush


def test_the_flush_adds_hits_to_the_work_and_the_day(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    other = make_work(author, title="Other")
    for n in range(3):
        view(visitor(f"10.0.0.{n}"), work)
    view(visitor(), other)

    assert flush_hits.call() == 4

    today = timezone.localdate()
    assert hits_of(work) == 3
    assert hits_of(other) == 1
    assert DailyHits.objects.get(work=work, day=today).hits == 3
    assert DailyHits.objects.get(work=other, day=today).hits == 1
    assert not PendingHit.objects.filter(counted=False).exists()
    # A second flush finds nothing new.
    assert flush_hits.call() == 0
    assert hits_of(work) == 3


def test_the_flush_adds_to_a_day_already_counted(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    view(visitor("10.0.0.1"), work)
    flush_hits.call()
    view(visitor("10.0.0.2"), work)
    view(visitor("10.0.0.3"), work)
    flush_hits.call()

    assert DailyHits.objects.get(work=work).hits == 3
    assert hits_of(work) == 3


def test_the_flush_counts_each_day_apart_and_forgets_old_rows(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    today = timezone.localdate()
    PendingHit.objects.bulk_create(
        [
            PendingHit(work=work, visitor="gold", day=today - timedelta(days=5)),
            PendingHit(work=work, visitor="gyesterday", day=today - timedelta(days=1)),
            PendingHit(work=work, visitor="gtoday", day=today),
        ]
    )

    flush_hits.call()

    assert hits_of(work) == 3
    assert sorted(DailyHits.objects.values_list("day", "hits")) == [
        (today - timedelta(days=5), 1),
        (today - timedelta(days=1), 1),
        (today, 1),
    ]
    # Counted rows older than two days are deleted; recent ones stay to recognise a return visit.
    assert sorted(PendingHit.objects.values_list("visitor", flat=True)) == ["gtoday", "gyesterday"]


def test_the_flush_works_through_a_backlog_in_batches(
    author: User, make_work: Callable[..., Work], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hits, "FLUSH_BATCH", 2)
    work = make_work(author)
    today = timezone.localdate()
    PendingHit.objects.bulk_create([PendingHit(work=work, visitor=f"g{n}", day=today) for n in range(5)])

    assert flush_hits.call() == 5

    assert hits_of(work) == 5
    assert DailyHits.objects.get(work=work).hits == 5


def test_the_flush_moves_the_works_feedback_version(author: User, make_work: Callable[..., Work]) -> None:
    """So the guest page cache shows the new hit count."""
    work = make_work(author)
    before = Work.objects.get(pk=work.pk).feedback_at
    view(visitor(), work)

    flush_hits.call()

    assert Work.objects.get(pk=work.pk).feedback_at != before


# --------------------------------------------------------------------- scheduling


def test_a_page_view_schedules_the_flush_once_a_minute(
    author: User, make_work: Callable[..., Work], django_capture_on_commit_callbacks: Any
) -> None:
    work = make_work(author)

    # In tests the immediate backend runs the task as soon as it is enqueued.
    with django_capture_on_commit_callbacks(execute=True) as first:
        view(visitor("10.0.0.1"), work)
    with django_capture_on_commit_callbacks(execute=True) as second:
        view(visitor("10.0.0.2"), work)

    assert len(first) == 1
    assert len(second) == 0  # within the minute: the next flush will take it
    assert hits_of(work) == 1
    assert PendingHit.objects.filter(counted=False).count() == 1


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}})
def test_the_database_backend_runs_the_flush_a_minute_later(
    author: User, make_work: Callable[..., Work], django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    work = make_work(author)

    with django_capture_on_commit_callbacks(execute=True):
        view(visitor(), work)

    job = DBTaskResult.objects.get()
    assert job.task_path == "chapbook.feedback.hits.flush_hits"
    delay = (job.run_after - timezone.now()).total_seconds()
    assert hits.FLUSH_DELAY_SECONDS - 10 < delay <= hits.FLUSH_DELAY_SECONDS
    assert hits_of(work) == 0
