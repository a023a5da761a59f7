"""The site's own pages: the health check and the home page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from django.test import Client
from django.utils import timezone

from chapbook.people.models import User
from chapbook.works.models import Work
from tests.conftest import queries_for, default_tags


def test_it_answers_the_health_check_with_ok(db: None) -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")


def test_it_answers_the_health_check_without_touching_the_database(
    author: User, client_for: Callable[..., Client], django_assert_num_queries: Any
) -> None:
    """Load balancers poll it: even a logged-in session cookie must not cost a query."""
    client = client_for(author)

    with django_assert_num_queries(0):
        assert Client().get("/healthz").status_code == 200
    with django_assert_num_queries(0):
        assert client.get("/healthz").status_code == 200


def test_it_lists_recent_posted_works_on_the_home_page(author: User, make_work: Callable[..., Work]) -> None:
    now = timezone.now()
    make_work(author, title="Yesterday's Story", backdate=now - timedelta(days=1))
    make_work(author, title="Today's Story", backdate=now)

    response = Client().get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Today&#x27;s Story") < page.index("Yesterday&#x27;s Story")


def test_it_leaves_drafts_off_the_home_page(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    make_work(author, title="Shown Story")
    make_work(author, title="Unfinished Story", draft=True)

    for client in (Client(), client_for(author)):
        page = client.get("/").content.decode()
        assert "Shown Story" in page
        assert "Unfinished Story" not in page


def test_it_shows_only_the_ten_most_recent_works_on_the_home_page(author: User, make_work: Callable[..., Work]) -> None:
    now = timezone.now()
    for number in range(11):
        make_work(author, title=f"Story {number:02d}", backdate=now - timedelta(days=20 - number))

    page = Client().get("/").content.decode()

    assert page.count('class="blurb"') == 10
    assert "Story 10" in page and "Story 00" not in page


def test_it_says_so_when_nothing_is_posted_yet(db: None) -> None:
    assert "Nothing has been posted yet." in Client().get("/").content.decode()



def test_it_reads_the_home_page_in_the_same_number_of_queries_for_two_or_ten_works(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    by = [author, reader]
    guest, logged_in = Client(), client_for(reader)

    def add(number: int) -> None:
        make_work(by[number % 2], title=f"Work {number}", tags=default_tags(freeforms=[f"Tag {number}"]))

    for number in range(2):
        add(number)
    for client in (guest, logged_in):
        client.get("/")  # warm the middleware and the session
    two = (queries_for(guest, "/"), queries_for(logged_in, "/"))
    for number in range(2, 10):
        add(number)
    ten = (queries_for(guest, "/"), queries_for(logged_in, "/"))

    assert guest.get("/").content.decode().count('class="blurb"') == 10
    assert two == ten


def test_it_serves_a_guest_the_home_page_from_one_query_once_blurbs_are_rendered(
    author: User, make_work: Callable[..., Work]
) -> None:
    for number in range(5):
        make_work(author, title=f"Work {number}")
    guest = Client()
    cold = queries_for(guest, "/")
    warm = queries_for(guest, "/", cold_cache=False)
    assert warm == 1 < cold


def test_it_renders_a_blurb_again_when_its_work_changes(author: User, make_work: Callable[..., Work]) -> None:
    from chapbook.works.services import update_work

    work = make_work(author, title="Before")
    guest = Client()
    assert "Before" in guest.get("/").content.decode()
    update_work(work, by=author, title="After")
    page = guest.get("/").content.decode()
    assert "After" in page and "Before" not in page
