"""Reading history and Marked for Later."""

from __future__ import annotations

import html
from collections.abc import Callable

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chapbook.feedback.history import clear_history, mark_for_later, set_history_enabled
from chapbook.feedback.models import Preferences, Reading
from chapbook.people.models import User
from chapbook.works.models import Work
from tests.conftest import queries_for

FIVE = [f"<p>Chapter {n} text.</p>" for n in range(1, 6)]


def reading_of(user: User, work: Work) -> Reading:
    return Reading.objects.get(user=user, work=work)


def text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


# --------------------------------------------------------------------- recording


def test_it_records_the_highest_chapter_reached_and_the_visits(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, chapters=FIVE)
    client = client_for(reader)

    client.get(f"/works/{work.pk}/")
    first = reading_of(reader, work)
    client.get(f"/works/{work.pk}/chapters/3/")
    client.get(f"/works/{work.pk}/chapters/2/")

    reading = reading_of(reader, work)
    assert reading.chapter_position == 3
    assert reading.visits == 3
    assert reading.first_read_at == first.first_read_at
    assert reading.last_read_at is not None and first.last_read_at is not None
    assert reading.last_read_at > first.last_read_at
    assert not reading.marked_for_later


def test_it_records_the_last_chapter_for_the_entire_work(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, chapters=FIVE)

    client_for(reader).get(f"/works/{work.pk}/?view_full_work=true")

    assert reading_of(reader, work).chapter_position == 5


def test_it_writes_once_per_view_whether_or_not_the_work_was_read_before(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, chapters=FIVE)
    client = client_for(reader)
    table = Reading._meta.db_table

    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            client.get(f"/works/{work.pk}/chapters/2/")
        touching = [q["sql"] for q in queries.captured_queries if table in q["sql"]]
        assert len([sql for sql in touching if not sql.lstrip().upper().startswith("SELECT")]) == 1

    assert reading_of(reader, work).visits == 2


def test_it_records_nothing_for_guests(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    Client().get(work.get_absolute_url())

    assert not Reading.objects.exists()


def test_it_records_nothing_for_a_page_it_refused(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, draft=True)

    assert client_for(reader).get(work.get_absolute_url()).status_code == 404

    assert not Reading.objects.exists()


def test_it_records_nothing_while_history_is_off(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author)
    set_history_enabled(by=reader, enabled=False)

    client_for(reader).get(work.get_absolute_url())

    assert not Reading.objects.exists()


def test_turning_history_off_clears_it_and_on_again_records_again(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author)
    client = client_for(reader)
    client.get(work.get_absolute_url())

    response = client.post("/history/enabled", {"enabled": "0"}, follow=True)
    assert "Your history is off and cleared." in html.unescape(response.content.decode())
    assert not Reading.objects.exists()
    assert Preferences.objects.get(user=reader).history_enabled is False

    client.post("/history/enabled", {"enabled": "1"})
    client.get(work.get_absolute_url())
    assert reading_of(reader, work).visits == 1


def test_clearing_history_keeps_works_marked_for_later(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    read = make_work(author, title="Read Only", chapters=FIVE)
    kept = make_work(author, title="Read And Kept", chapters=FIVE)
    client = client_for(reader)
    client.get(f"/works/{read.pk}/")
    client.get(f"/works/{kept.pk}/chapters/4/")
    mark_for_later(by=reader, work=kept)

    client.post("/history/clear")

    assert not Reading.objects.filter(work=read).exists()
    kept_row = reading_of(reader, kept)
    assert kept_row.marked_for_later
    assert kept_row.last_read_at is None and kept_row.visits == 0 and kept_row.chapter_position == 1
    assert "Read And Kept" not in text(client, "/history")
    assert "Read And Kept" in text(client, "/later")


def test_it_clears_only_the_readers_own_history(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author)
    client_for(reader).get(work.get_absolute_url())
    client_for(author).get(work.get_absolute_url())

    assert clear_history(by=reader) == 1

    assert list(Reading.objects.values_list("user__username", flat=True)) == ["alice"]


# --------------------------------------------------------------------- the history page


def test_the_history_page_lists_the_chapter_reached_and_the_visits(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, title="Harbour Lights", chapters=FIVE)
    client = client_for(reader)
    client.get(f"/works/{work.pk}/chapters/3/")
    client.get(f"/works/{work.pk}/chapters/1/")

    page = text(client, "/history")

    assert "Harbour Lights" in page
    assert f'<a href="/works/{work.pk}/chapters/3/">Chapter 3 of 5</a>' in page
    assert "Visited 2 times" in page
    assert "Last visited:" in page
    assert "Turn history off" in page and "Clear history" in page


def test_the_history_page_offers_to_turn_history_back_on(reader: User, client_for: Callable[[User], Client]) -> None:
    set_history_enabled(by=reader, enabled=False)

    page = text(client_for(reader), "/history")

    assert "Turn history on" in page
    assert "Your history is off" in page


def test_the_history_page_leaves_out_works_the_reader_may_no_longer_see(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    hidden = make_work(author, title="Hidden Later")
    unposted = make_work(author, title="Back To Draft")
    visible = make_work(author, title="Still Here")
    client = client_for(reader)
    for work in (hidden, unposted, visible):
        client.get(work.get_absolute_url())
        mark_for_later(by=reader, work=work)
    Work.objects.filter(pk=hidden.pk).update(hidden=True)
    Work.objects.filter(pk=unposted.pk).update(draft=True)

    for url in ("/history", "/later"):
        page = text(client, url)
        assert "Still Here" in page
        assert "Hidden Later" not in page
        assert "Back To Draft" not in page


def test_the_history_page_needs_a_login() -> None:
    for url in ("/history", "/later"):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/login" in response["Location"]


def test_the_history_page_is_paginated(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    client = client_for(reader)
    for n in range(22):
        client.get(make_work(author, title=f"Work {n:02}").get_absolute_url())

    first = text(client, "/history")
    second = text(client, "/history?page=2")

    assert "Work 21" in first and "Work 02" in first and "Work 01" not in first
    assert "Work 01" in second and "Work 00" in second
    assert "Page 1 of 2" in first


def test_the_history_page_costs_the_same_queries_for_two_or_ten_works(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    client = client_for(reader)
    for n in range(2):
        client.get(make_work(author, title=f"Work {n}").get_absolute_url())
    client.get("/history")
    two = queries_for(client, "/history")
    for n in range(2, 10):
        client.get(make_work(author, title=f"Work {n}").get_absolute_url())

    assert queries_for(client, "/history") == two


# --------------------------------------------------------------------- marked for later


def test_it_toggles_marked_for_later(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, title="Someday")
    client = client_for(reader)

    # Back to the Marked for Later page: following to the work page would read the work.
    on = client.post(f"/works/{work.pk}/later", {"next": "/later"}, follow=True)
    assert "“Someday” is marked for later." in html.unescape(on.content.decode())
    assert reading_of(reader, work).marked_for_later
    assert "Someday" in text(client, "/later")

    off = client.post(f"/works/{work.pk}/later", {"next": "/later"}, follow=True)
    assert "“Someday” is no longer marked for later." in html.unescape(off.content.decode())
    assert "Someday" not in text(client, "/later")
    # Nothing but the mark kept the row.
    assert not Reading.objects.exists()


def test_a_double_click_on_mark_for_later_leaves_it_marked(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author)
    client = client_for(reader)

    client.post(f"/works/{work.pk}/later", {"marked": "1"})
    client.post(f"/works/{work.pk}/later", {"marked": "1"})

    assert reading_of(reader, work).marked_for_later


def test_unmarking_a_work_that_was_read_keeps_its_history(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, chapters=FIVE)
    client = client_for(reader)
    client.get(f"/works/{work.pk}/chapters/2/")

    mark_for_later(by=reader, work=work)
    client.get(f"/works/{work.pk}/chapters/4/")
    mark_for_later(by=reader, work=work, marked=False)

    reading = reading_of(reader, work)
    assert not reading.marked_for_later and reading.marked_at is None
    assert reading.chapter_position == 4 and reading.visits == 2


def test_marking_for_later_works_while_history_is_off(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, title="Kept Anyway")
    set_history_enabled(by=reader, enabled=False)
    client = client_for(reader)

    client.post(f"/works/{work.pk}/later")
    client.get(work.get_absolute_url())

    reading = reading_of(reader, work)
    assert reading.marked_for_later and reading.visits == 0
    assert "Kept Anyway" in text(client, "/later")


def test_it_404s_marking_a_work_the_reader_may_not_see(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, draft=True)

    assert client_for(reader).post(f"/works/{work.pk}/later").status_code == 404
    assert not Reading.objects.exists()


def test_marking_for_later_needs_a_login(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    response = Client().post(f"/works/{work.pk}/later")

    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_work_page_shows_the_later_button_to_readers_only(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author)
    client = client_for(reader)

    assert "Mark for later" not in text(Client(), work.get_absolute_url())
    assert "Mark for later</button>" in text(client, work.get_absolute_url())
    client.post(f"/works/{work.pk}/later", {"next": f"/works/{work.pk}/"})
    assert "Marked for later ✓ (remove)</button>" in text(client, work.get_absolute_url())


def test_marking_for_later_goes_back_to_the_page_it_came_from_but_not_elsewhere(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author)
    client = client_for(reader)

    back = client.post(f"/works/{work.pk}/later", {"next": "/later"})
    away = client.post(f"/works/{work.pk}/later", {"next": "https://evil.example/"})

    assert back["Location"] == "/later"
    assert away["Location"] == work.get_absolute_url()
