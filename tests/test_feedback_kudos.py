"""Kudos: once per reader, guest or chapter; never on one's own work or a draft; shown on the work page."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from chapbook.feedback import kudos as service
from chapbook.feedback.kudos import chapter_kudos_counts, kudos_names, leave_kudos
from chapbook.feedback.models import Kudos, Notification, NotificationKind
from chapbook.people.models import User
from chapbook.works.models import Chapter, Creatorship, Work
from chapbook.works.services import answer_co_creator_invitation
from tests.conftest import make_user

THREE = ["<p>One.</p>", "<p>Two.</p>", "<p>Three.</p>"]


def kudos_count(work: Work) -> int:
    work.refresh_from_db()
    return work.kudos_count


def chapter(work: Work, position: int) -> Chapter:
    return work.chapters.get(position=position)


def accept_co_creator(work: Work, co_author: User) -> None:
    invitation = Creatorship.objects.get(work=work, pseud__user=co_author)
    answer_co_creator_invitation(invitation, by=co_author, accept=True)


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def page_of(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return text(response)


# --------------------------------------------------------------------- once only


def test_it_counts_a_readers_kudos_once(author: User, reader: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    leave_kudos(work=work, user=reader)
    with pytest.raises(ValidationError, match="You have already left kudos here."):
        leave_kudos(work=work, user=reader)

    assert Kudos.objects.filter(work=work).count() == 1
    assert kudos_count(work) == 1


def test_it_tells_a_reader_who_clicks_twice_that_they_already_left_kudos(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author)
    client = client_for(reader)

    first = client.post(f"/works/{work.pk}/kudos", follow=True)
    second = client.post(f"/works/{work.pk}/kudos", follow=True)

    assert "Thank you for leaving kudos!" in text(first)
    assert "You have already left kudos here." in text(second)
    assert kudos_count(work) == 1


def test_it_turns_a_racing_duplicate_into_the_same_message(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    """Two clicks at once both pass the check; the unique constraint stops the second."""
    work = make_work(author)
    leave_kudos(work=work, user=reader)

    with (
        mock.patch.object(QuerySet, "exists", return_value=False),
        pytest.raises(ValidationError, match="You have already left kudos here."),
    ):
        leave_kudos(work=work, user=reader)

    assert Kudos.objects.filter(work=work).count() == 1
    assert kudos_count(work) == 1
    assert Notification.objects.get(user=author).count == 1


def test_it_takes_kudos_on_each_chapter_once_and_apart_from_the_work(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, chapters=THREE)

    leave_kudos(work=work, user=reader, chapter=chapter(work, 2))
    leave_kudos(work=work, user=reader, chapter=chapter(work, 3))
    leave_kudos(work=work, user=reader)
    with pytest.raises(ValidationError, match="already left kudos"):
        leave_kudos(work=work, user=reader, chapter=chapter(work, 2))

    assert chapter_kudos_counts(work) == {2: 1, 3: 1}
    # Only kudos on the work itself count in the work's figure.
    assert kudos_count(work) == 1


def test_it_refuses_a_chapter_of_another_work(author: User, reader: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=THREE)
    other = make_work(author, title="Other", chapters=THREE)

    with pytest.raises(ValidationError, match="not part of this work"):
        leave_kudos(work=work, user=reader, chapter=chapter(other, 2))


# --------------------------------------------------------------------- refused


def test_it_refuses_kudos_on_ones_own_work(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    with pytest.raises(ValidationError, match="You can't leave kudos on your own work."):
        leave_kudos(work=work, user=author)

    assert kudos_count(work) == 0


def test_it_refuses_kudos_from_an_accepted_co_creator_but_not_from_an_invited_one(
    author: User, co_author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, co_creators=[co_author.default_pseud])

    # Still only invited: not a creator yet.
    leave_kudos(work=work, user=co_author)
    Kudos.objects.all().delete()
    accept_co_creator(work, co_author)

    with pytest.raises(ValidationError, match="your own work"):
        leave_kudos(work=work, user=co_author)


def test_it_refuses_kudos_on_a_draft(author: User, reader: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, draft=True)

    with pytest.raises(ValidationError, match="You can't leave kudos on a draft."):
        leave_kudos(work=work, user=reader)


def test_it_tells_the_creator_on_the_page_that_they_cannot_give_kudos(
    author: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author)

    response = client_for(author).post(f"/works/{work.pk}/kudos", follow=True)

    assert "You can't leave kudos on your own work." in text(response)
    assert kudos_count(work) == 0


def test_it_404s_kudos_on_a_draft_for_anyone_but_its_creators(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, draft=True)

    assert client_for(reader).post(f"/works/{work.pk}/kudos").status_code == 404


def test_it_404s_a_guests_kudos_on_a_restricted_work(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, restricted=True)

    response = Client().post(f"/works/{work.pk}/kudos")

    assert response.status_code == 404
    assert kudos_count(work) == 0
    assert service.GUEST_COOKIE not in response.cookies


def test_it_lets_a_logged_in_reader_leave_kudos_on_a_restricted_work(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, restricted=True)

    assert client_for(reader).post(f"/works/{work.pk}/kudos").status_code == 302
    assert kudos_count(work) == 1


def test_it_404s_kudos_on_a_chapter_that_does_not_exist(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=THREE)

    assert Client().post(f"/works/{work.pk}/chapters/9/kudos").status_code == 404


def test_it_only_takes_kudos_by_post(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    assert Client().get(f"/works/{work.pk}/kudos").status_code == 405


# --------------------------------------------------------------------- guests


def test_it_gives_a_guest_a_long_lived_signed_http_only_cookie(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    response = Client(REMOTE_ADDR="10.0.0.1").post(f"/works/{work.pk}/kudos")

    cookie = response.cookies[service.GUEST_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) > 365 * 24 * 3600
    # Signed: the value carries a signature after the token.
    assert ":" in cookie.value
    stored = Kudos.objects.get(work=work)
    assert stored.user is None
    assert stored.ip == "10.0.0.1"
    assert len(stored.guest_key) == 64 and stored.guest_key not in cookie.value


def test_it_counts_a_guests_kudos_once_by_cookie(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    guest = Client(REMOTE_ADDR="10.0.0.1")
    guest.post(f"/works/{work.pk}/kudos")

    # Same browser, new address (a phone moving between networks).
    guest.defaults["REMOTE_ADDR"] = "10.0.0.2"
    response = guest.post(f"/works/{work.pk}/kudos", follow=True)

    assert "You have already left kudos here." in text(response)
    assert kudos_count(work) == 1


def test_it_refuses_a_second_guest_kudos_from_the_same_address_without_the_cookie(
    author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author)
    Client(REMOTE_ADDR="10.0.0.1").post(f"/works/{work.pk}/kudos")

    response = Client(REMOTE_ADDR="10.0.0.1").post(f"/works/{work.pk}/kudos", follow=True)

    assert "You have already left kudos here." in text(response)
    assert kudos_count(work) == 1


def test_it_takes_kudos_from_two_guests_on_different_addresses(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    Client(REMOTE_ADDR="10.0.0.1").post(f"/works/{work.pk}/kudos")
    Client(REMOTE_ADDR="10.0.0.2").post(f"/works/{work.pk}/kudos")

    assert kudos_count(work) == 2
    assert kudos_names(work).guests == 2


def test_it_ignores_a_tampered_guest_cookie(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    guest = Client(REMOTE_ADDR="10.0.0.3")
    guest.cookies[service.GUEST_COOKIE] = "forged-token:bad-signature"

    response = guest.post(f"/works/{work.pk}/kudos")

    assert response.status_code == 302
    assert service.GUEST_COOKIE in response.cookies  # a fresh, properly signed one
    assert Kudos.objects.get().guest_key != service.guest_key_for("forged-token")


def test_it_takes_a_guests_kudos_on_each_chapter_once(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=THREE)
    guest = Client(REMOTE_ADDR="10.0.0.1")

    guest.post(f"/works/{work.pk}/chapters/2/kudos")
    guest.post(f"/works/{work.pk}/chapters/3/kudos")
    guest.post(f"/works/{work.pk}/chapters/2/kudos")
    Client(REMOTE_ADDR="10.0.0.1").post(f"/works/{work.pk}/chapters/3/kudos")

    assert chapter_kudos_counts(work) == {2: 1, 3: 1}
    assert kudos_count(work) == 0


# --------------------------------------------------------------------- JSON


def test_it_answers_the_pages_script_with_json(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, chapters=THREE)
    client = client_for(reader)
    headers = {"X-Requested-With": "fetch"}

    first = client.post(f"/works/{work.pk}/kudos", headers=headers)
    again = client.post(f"/works/{work.pk}/kudos", headers={"Accept": "application/json"})
    on_chapter = client.post(f"/works/{work.pk}/chapters/2/kudos", headers=headers)

    assert first.status_code == 200
    names = '<span data-kudos-count="work">1</span> kudos: <a href="/users/bob">bob</a>'
    assert first.json() == {"kudos": 1, "message": "Thank you for leaving kudos!", "names_html": names}
    assert again.status_code == 400
    assert again.json() == {"kudos": 1, "message": "You have already left kudos here.", "names_html": names}
    assert on_chapter.json()["kudos"] == 1


def test_it_sets_the_guest_cookie_on_a_json_answer_too(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    response = Client().post(f"/works/{work.pk}/kudos", headers={"X-Requested-With": "fetch"})

    assert response.json()["kudos"] == 1
    assert service.GUEST_COOKIE in response.cookies


# --------------------------------------------------------------------- notifications


def test_it_tells_every_creator_about_kudos(
    author: User, co_author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, co_creators=[co_author.default_pseud])
    accept_co_creator(work, co_author)

    leave_kudos(work=work, user=reader)
    leave_kudos(work=work, user=None, guest_key="k" * 64, ip="10.0.0.9")

    for creator in (author, co_author):
        note = Notification.objects.get(user=creator)
        assert note.kind == NotificationKind.KUDOS
        assert note.work == work
        # Kudos are summarised in one unread row; the latest giver is named.
        assert note.count == 2
        assert note.actor == "A guest"
        assert note.url == work.get_absolute_url()
    assert not Notification.objects.filter(user=reader).exists()


def test_it_names_the_reader_and_links_the_chapter_in_a_chapter_kudos_notification(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, chapters=THREE)

    leave_kudos(work=work, user=reader, chapter=chapter(work, 2))

    note = Notification.objects.get(user=author)
    assert note.actor == "bob"
    assert note.url == f"/works/{work.pk}/chapters/2/"


# --------------------------------------------------------------------- the work page


def test_it_lists_who_left_kudos_on_the_work_page(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author)
    dave = make_user("dave")
    leave_kudos(work=work, user=reader)
    leave_kudos(work=work, user=dave)
    for n in range(3):
        leave_kudos(work=work, user=None, guest_key=f"{n}" * 64, ip=f"10.0.0.{n}")

    page = page_of(Client(), work.get_absolute_url())

    assert '<span data-kudos-count="work">5</span> kudos:' in page
    assert '<a href="/users/dave">dave</a>, <a href="/users/bob">bob</a> and 3 guests' in page
    assert "Kudos ♥</button>" in page


def test_it_says_so_when_more_users_left_kudos_than_are_named(
    author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author)
    for n in range(4):
        leave_kudos(work=work, user=make_user(f"fan{n}"))

    names = kudos_names(work, limit=2)

    assert names.usernames == ["fan3", "fan2"]
    assert names.more_users == 2
    assert names.total == 4


def test_it_shows_a_chapters_kudos_and_the_most_loved_chapters(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, chapters=[f"<p>{n}</p>" for n in range(1, 6)])
    fans = [reader, make_user("dave"), make_user("erin")]
    for position, how_many in {1: 1, 2: 3, 4: 2, 5: 1}.items():
        for fan in fans[:how_many]:
            leave_kudos(work=work, user=fan, chapter=chapter(work, position))

    page = page_of(Client(), f"/works/{work.pk}/chapters/4/")

    assert "Kudos ♥ for this chapter</button>" in page
    assert 'Chapter 4: <span data-kudos-count="chapter">2</span> kudos' in page
    loved = page.split("Most loved chapters")[1].split("</ol>")[0]
    assert [line.split('">')[1] for line in loved.split("</a>")[:-1]] == ["Chapter 2", "Chapter 4", "Chapter 1"]
    assert "Chapter 2</a>: 3 kudos" in loved


def test_it_shows_one_button_on_a_one_chapter_work(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    page = page_of(Client(), work.get_absolute_url())

    assert "for this chapter" not in page
    assert "Most loved chapters" not in page


def test_it_shows_no_kudos_button_to_the_creator(
    author: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author)

    page = page_of(client_for(author), work.get_absolute_url())

    assert "Kudos ♥" not in page
    assert '<span data-kudos-count="work">0</span> kudos' in page


def test_it_marks_the_button_for_a_reader_who_already_left_kudos(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, chapters=THREE)
    leave_kudos(work=work, user=reader, chapter=chapter(work, 2))

    on_two = page_of(client_for(reader), f"/works/{work.pk}/chapters/2/")
    on_three = page_of(client_for(reader), f"/works/{work.pk}/chapters/3/")

    assert "Kudos ♥ for this chapter ✓</button>" in on_two
    assert "Kudos ♥ for this chapter</button>" in on_three
    assert "Kudos ♥</button>" in on_two


def test_the_guest_page_shows_new_kudos_at_once(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, chapters=THREE)
    guest = Client()
    page_of(guest, f"/works/{work.pk}/chapters/2/")  # now cached for guests

    leave_kudos(work=work, user=reader)
    assert '<a href="/users/bob">bob</a>' in page_of(guest, f"/works/{work.pk}/chapters/2/")

    # Chapter kudos leave the work's counter alone but still renew the cached page.
    leave_kudos(work=work, user=reader, chapter=chapter(work, 2))
    assert 'Chapter 2: <span data-kudos-count="chapter">1</span>' in page_of(guest, f"/works/{work.pk}/chapters/2/")


def test_the_guest_page_is_the_same_for_a_guest_who_left_kudos(author: User, make_work: Callable[..., Work]) -> None:
    """The cached guest page must not depend on the guest's cookie."""
    work = make_work(author)
    giver = Client(REMOTE_ADDR="10.0.0.1")
    giver.post(f"/works/{work.pk}/kudos")
    giver.cookies.pop("messages", None)

    theirs = page_of(giver, work.get_absolute_url())
    fresh = page_of(Client(), work.get_absolute_url())

    assert "Kudos ♥</button>" in theirs
    def box(page: str) -> str:
        # Each guest's CSRF token is their own; everything else must match.
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page.split('id="kudos"')[1].split("</div>")[0])

    assert box(theirs) == box(fresh)


def test_the_kudos_box_costs_a_logged_in_reader_two_queries(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, chapters=THREE)
    for n in range(5):
        fan = make_user(f"fan{n}")
        leave_kudos(work=work, user=fan)
        leave_kudos(work=work, user=fan, chapter=chapter(work, 1 + n % 3))
    leave_kudos(work=work, user=None, guest_key="g" * 64, ip="10.0.0.1")
    request = RequestFactory().get(f"/works/{work.pk}/chapters/2/")
    request.user = reader
    template = Template("{% load kudos_tags %}{% kudos_box work 2 %}")

    with CaptureQueriesContext(connection) as queries:
        box = template.render(Context({"work": work, "request": request, "is_creator": False}))

    assert len(queries.captured_queries) <= 2
    assert "fan4" in box and "1 guest" in box


# --------------------------------------------------------------------- at once


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory SQLite test database answers concurrent writers with 'table is locked' "
    "instead of waiting (the site's file database waits on busy_timeout)",
)
@pytest.mark.django_db(transaction=True)
def test_readers_clicking_at_once_leave_exactly_one_kudos_each(author: User, make_work: Callable[..., Work]) -> None:
    """Each reader double-clicks while the others click too: one kudos per reader, no error."""
    import threading

    from django.db import close_old_connections

    work = make_work(author)
    fans = [make_user(f"fan{n}") for n in range(12)]
    start = threading.Barrier(len(fans) * 2)
    outcomes: list[str] = []

    def click(fan: User) -> None:
        start.wait()
        try:
            leave_kudos(work=work, user=fan)
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=click, args=(fan,)) for fan in fans for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("ok") == len(fans)
    assert outcomes.count(service.ALREADY) == len(fans)
    assert Kudos.objects.filter(work=work).count() == len(fans)
    assert kudos_count(work) == len(fans)
