"""How fast people may comment: per IP for guests, per account for users, newer accounts less.

Defaults: guests 3, accounts younger than 7 days 5, older accounts 20, per 15 minutes.
The cache is emptied between tests by conftest, so each starts with a clean allowance.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.utils import timezone

from chapbook.feedback import ratelimit
from chapbook.feedback.comments import post_comment
from chapbook.feedback.models import Comment
from chapbook.feedback.ratelimit import (
    RateLimited,
    check_comment_rate,
    rate_limited_response,
)
from chapbook.people.models import User
from chapbook.works.models import Work

MakeWork = Callable[..., Work]
ClientFor = Callable[[User], Client]

WINDOW = 15 * 60


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A clock the test moves by hand, starting 100 seconds into a window."""
    moment = [1_000 * WINDOW + 100.0]
    monkeypatch.setattr(ratelimit, "now", lambda: moment[0])
    return moment


def guest_comment(work: Work, text: str = "Hello", ip: str = "203.0.113.7") -> Any:
    return Client(REMOTE_ADDR=ip).post(
        f"/works/{work.pk}/comments", {"text": text, "guest_name": "Gwen", "guest_email": "gwen@example.net"}
    )


def test_it_answers_429_with_retry_after_when_a_guest_comments_too_fast(
    author: User, make_work: MakeWork, clock: list[float]
) -> None:
    work = make_work(author)
    for n in range(3):
        assert guest_comment(work, f"Comment {n}").status_code == 302
    response = guest_comment(work, "One too many")
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 2 * WINDOW
    html = response.content.decode()
    assert "You're commenting too fast. Try again in" in html and "minutes." in html
    assert Comment.objects.count() == 3
    # Another address has its own allowance.
    assert guest_comment(work, "From elsewhere", ip="198.51.100.4").status_code == 302


def test_it_lets_the_guest_comment_again_once_the_wait_is_over(
    author: User, make_work: MakeWork, clock: list[float]
) -> None:
    work = make_work(author)
    for _ in range(3):
        guest_comment(work)
    retry_after = int(guest_comment(work)["Retry-After"])
    clock[0] += retry_after - 5
    assert guest_comment(work).status_code == 429
    clock[0] += 5
    assert guest_comment(work).status_code == 302
    assert Comment.objects.count() == 4


def test_it_slides_the_window_so_no_double_burst_at_its_edge(
    author: User, make_work: MakeWork, clock: list[float]
) -> None:
    work = make_work(author)
    clock[0] += WINDOW - 200  # near the end of a window
    for _ in range(3):
        assert guest_comment(work).status_code == 302
    clock[0] += 300  # just into the next one: the last window still counts, almost fully
    assert guest_comment(work).status_code == 429


def test_it_allows_new_accounts_five_comments_a_quarter_hour(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor, clock: list[float]
) -> None:
    work = make_work(author)
    bob = client_for(reader)
    for n in range(5):
        assert bob.post(f"/works/{work.pk}/comments", {"text": f"Comment {n}"}).status_code == 302
    response = bob.post(f"/works/{work.pk}/comments", {"text": "Sixth"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    # Replies count against the same allowance.
    first = Comment.objects.first()
    assert first is not None
    assert bob.post(f"/comments/{first.pk}/reply", {"text": "A reply"}).status_code == 429
    assert Comment.objects.count() == 5


def test_it_allows_older_accounts_twenty(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor, clock: list[float]
) -> None:
    User.objects.filter(pk=reader.pk).update(date_joined=timezone.now() - timedelta(days=30))
    work = make_work(author)
    bob = client_for(reader)
    for n in range(20):
        assert bob.post(f"/works/{work.pk}/comments", {"text": f"Comment {n}"}).status_code == 302
    assert bob.post(f"/works/{work.pk}/comments", {"text": "Twenty-first"}).status_code == 429


def test_it_counts_only_comments_that_were_valid(
    author: User, make_work: MakeWork, clock: list[float]
) -> None:
    work = make_work(author)
    for _ in range(5):
        assert guest_comment(work, "").status_code == 200  # a form error, not a comment
    for _ in range(3):
        assert guest_comment(work).status_code == 302
    first = guest_comment(work)
    second = guest_comment(work)
    # Being refused does not push the wait further away.
    assert first.status_code == second.status_code == 429
    assert first["Retry-After"] == second["Retry-After"]


def test_it_reads_its_limits_from_settings(
    author: User, make_work: MakeWork, clock: list[float], settings: Any
) -> None:
    settings.CHAPBOOK_COMMENT_RATE_GUEST = 1
    settings.CHAPBOOK_COMMENT_RATE_WINDOW = 60
    work = make_work(author)
    assert guest_comment(work).status_code == 302
    response = guest_comment(work)
    assert response.status_code == 429 and int(response["Retry-After"]) <= 120
    assert "seconds." in response.content.decode() or "minute" in response.content.decode()


def test_it_counts_a_whole_ipv6_64_as_one_guest(clock: list[float]) -> None:
    for n in range(3):
        check_comment_rate(user=None, ip=f"2001:db8:1:2::{n + 1}")
    with pytest.raises(RateLimited):
        check_comment_rate(user=None, ip="2001:db8:1:2:ffff::9")
    check_comment_rate(user=None, ip="2001:db8:1:3::1")


def test_it_raises_rate_limited_from_the_service_for_the_api(
    author: User, make_work: MakeWork, clock: list[float]
) -> None:
    work = make_work(author)
    guest = {"guest_name": "Gwen", "guest_email": "gwen@example.net", "ip": "203.0.113.9"}
    for _ in range(3):
        post_comment(work=work, by=None, text="Hi", **guest)
    with pytest.raises(RateLimited) as raised:
        post_comment(work=work, by=None, text="Hi", **guest)
    assert raised.value.retry_after > 0
    assert Comment.objects.count() == 3


def test_it_counts_exactly_when_requests_race(clock: list[float]) -> None:
    allowed: list[bool] = []
    barrier = threading.Barrier(24)

    def attempt() -> None:
        barrier.wait()
        try:
            check_comment_rate(user=None, ip="192.0.2.1")
        except RateLimited:
            allowed.append(False)
        else:
            allowed.append(True)

    threads = [threading.Thread(target=attempt) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 3 and allowed.count(False) == 21


def test_it_renders_the_429_page_with_retry_after(db: None) -> None:
    request = RequestFactory().post("/works/1/comments")
    request.user = AnonymousUser()
    response = rate_limited_response(request, RateLimited(125))
    assert response.status_code == 429
    assert response["Retry-After"] == "125"
    assert "Try again in 3 minutes." in response.content.decode()
