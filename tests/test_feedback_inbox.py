"""The notifications inbox, its unread count in the header, and the preferences page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chapbook.feedback.context_processors import inbox as inbox_context
from chapbook.feedback.models import Notification, Preferences
from chapbook.feedback.notifications import notify, notify_kudos
from chapbook.people.models import User
from chapbook.works.models import Work

MakeWork = Callable[..., Work]
ClientFor = Callable[[User], Client]


def note(user: User, text: str, *, url: str = "/works/", actor: str = "bob", **fields: Any) -> Notification:
    (row,) = notify(users=[user], kind="comment", text=text, url=url, actor=actor)
    if fields:
        Notification.objects.filter(pk=row.pk).update(**fields)
        row.refresh_from_db()
    return row


def header_count(page: str) -> str | None:
    found = re.search(r'class="inbox-link">Inbox \((\d+)<span class="visually-hidden"> unread</span>\)', page)
    return found.group(1) if found else None


# ------------------------------------------------------------------ the inbox


def test_it_shows_my_notifications_newest_first_with_actor_link_and_time(
    author: User, client_for: ClientFor
) -> None:
    now = timezone.now()
    note(author, "commented on Old News", created_at=now - timedelta(days=2))
    newest = note(author, "commented on Fresh News", created_at=now)

    page = client_for(author).get("/inbox").content.decode()

    assert page.index("bob commented on Fresh News") < page.index("bob commented on Old News")
    assert f'href="/inbox/{newest.pk}/go"' in page
    assert "<time" in page and "just now</time>" in page


def test_it_marks_unread_notifications_with_text_not_colour_alone(author: User, client_for: ClientFor) -> None:
    note(author, "commented on Unseen")
    note(author, "commented on Seen", read_at=timezone.now())

    page = client_for(author).get("/inbox").content.decode()

    assert page.count("<strong>Unread</strong>") == 1
    assert "<strong>bob commented on Unseen</strong>" in page


def test_it_summarises_kudos_with_a_count(author: User, make_work: MakeWork, client_for: ClientFor) -> None:
    work = make_work(author, title="Tidewater")
    for name in ("erin", "frank", "grace", "heidi", "alice2"):
        notify_kudos(users=[author], work=work, actor=name, url=f"/works/{work.pk}/")

    page = client_for(author).get("/inbox").content.decode()

    assert "alice2 and 4 others left kudos on Tidewater" in page
    assert Notification.objects.filter(user=author).count() == 1


def test_it_shows_only_my_own_notifications(author: User, reader: User, client_for: ClientFor) -> None:
    note(author, "commented on Alice Work")
    note(reader, "commented on Bob Work")

    page = client_for(reader).get("/inbox").content.decode()

    assert "Bob Work" in page
    assert "Alice Work" not in page


def test_it_paginates_the_inbox(author: User, client_for: ClientFor) -> None:
    notify(users=[author], kind="comment", text="first of all", actor="bob")
    for number in range(30):
        notify(users=[author], kind="comment", text=f"later note {number}", actor="bob")
    client = client_for(author)

    first = client.get("/inbox").content.decode()
    second = client.get("/inbox?page=2").content.decode()

    assert "first of all" not in first and "Page 1 of 2" in first
    assert "first of all" in second


def test_it_filters_to_unread_notifications(author: User, client_for: ClientFor) -> None:
    note(author, "commented on Unseen")
    note(author, "commented on Seen", read_at=timezone.now())

    page = client_for(author).get("/inbox?unread=1").content.decode()

    assert "Unseen" in page
    assert "commented on Seen" not in page


def test_it_asks_guests_to_log_in(db: None) -> None:
    response = Client().get("/inbox")

    assert response.status_code == 302
    assert "/login" in response["Location"]


# ----------------------------------------------------------------- mark read


def test_it_marks_selected_notifications_read(author: User, client_for: ClientFor) -> None:
    one, two, three = (note(author, f"commented on Work {n}") for n in range(3))

    response = client_for(author).post("/inbox/read", {"ids": [one.pk, three.pk], "next": "/inbox?unread=1"})

    assert response["Location"] == "/inbox?unread=1"
    unread = set(Notification.objects.filter(read_at__isnull=True).values_list("pk", flat=True))
    assert unread == {two.pk}


def test_it_marks_all_read(author: User, client_for: ClientFor) -> None:
    for n in range(3):
        note(author, f"commented on Work {n}")

    client_for(author).post("/inbox/read", {"all": "1"})

    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_it_never_marks_someone_elses_notifications_read(
    author: User, reader: User, client_for: ClientFor
) -> None:
    theirs = note(author, "commented on Alice Work")

    client_for(reader).post("/inbox/read", {"ids": [theirs.pk]})
    client_for(reader).post("/inbox/read", {"all": "1"})

    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_it_refuses_an_off_site_next_after_marking_read(author: User, client_for: ClientFor) -> None:
    response = client_for(author).post("/inbox/read", {"all": "1", "next": "https://evil.example/"})

    assert response["Location"] == "/inbox"


# ------------------------------------------------------------------ following


def test_it_marks_a_notification_read_when_its_link_is_followed(author: User, client_for: ClientFor) -> None:
    row = note(author, "commented on Tidewater", url="/works/12/#comment-3")

    response = client_for(author).get(f"/inbox/{row.pk}/go")

    assert response.status_code == 302
    assert response["Location"] == "/works/12/#comment-3"
    row.refresh_from_db()
    assert row.read_at is not None


@pytest.mark.parametrize(
    "url", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)", ""]
)
def test_it_never_redirects_off_the_site(author: User, client_for: ClientFor, url: str) -> None:
    row = note(author, "commented on Tidewater", url=url)

    response = client_for(author).get(f"/inbox/{row.pk}/go")

    assert response.status_code == 302
    assert response["Location"] == "/inbox"
    row.refresh_from_db()
    assert row.read_at is not None


def test_it_answers_404_for_someone_elses_notification_link(
    author: User, reader: User, client_for: ClientFor
) -> None:
    theirs = note(author, "commented on Tidewater")

    assert client_for(reader).get(f"/inbox/{theirs.pk}/go").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


# ------------------------------------------------------------ header count


def test_it_shows_the_unread_count_in_the_header(author: User, client_for: ClientFor) -> None:
    client = client_for(author)
    assert header_count(client.get("/works/").content.decode()) == "0"

    rows = [note(author, f"commented on Work {n}") for n in range(3)]
    assert header_count(client.get("/works/").content.decode()) == "3"

    client.post("/inbox/read", {"ids": [rows[0].pk]})
    assert header_count(client.get("/works/").content.decode()) == "2"


def test_it_counts_unread_in_one_query_and_only_when_shown(author: User) -> None:
    note(author, "commented on Work")
    request = RequestFactory().get("/")
    request.user = author

    with CaptureQueriesContext(connection) as unused:
        inbox_context(request)
    with CaptureQueriesContext(connection) as shown:
        assert str(inbox_context(request)["inbox_unread"]) == "1"

    assert len(unused.captured_queries) == 0
    assert len(shown.captured_queries) == 1


def test_it_caps_the_header_count(author: User, client_for: ClientFor) -> None:
    notify(users=[author], kind="comment", text="commented", actor="bob")
    Notification.objects.bulk_create(
        [Notification(user=author, kind="comment", text=f"commented {n}", actor="bob") for n in range(120)]
    )

    page = client_for(author).get("/works/").content.decode()

    assert 'Inbox (99+<span class="visually-hidden"> unread</span>)' in page


def test_it_costs_guests_no_query_and_shows_them_no_inbox(
    db: None, django_assert_num_queries: Any
) -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    with django_assert_num_queries(0):
        assert inbox_context(request) == {}
    assert "Inbox" not in Client().get("/works/").content.decode()


# -------------------------------------------------------------- preferences


def test_it_saves_preferences(author: User, client_for: ClientFor) -> None:
    client = client_for(author)
    page = client.get("/preferences").content.decode()
    assert "Kudos on my works" in page
    assert not Preferences.objects.filter(user=author).exists()

    response = client.post(
        "/preferences", {"email_comments": "on", "email_replies": "on", "email_subscriptions": "on"}, follow=True
    )

    assert "Preferences saved." in response.content.decode()
    prefs = Preferences.objects.get(user=author)
    assert (prefs.email_comments, prefs.email_replies, prefs.email_kudos, prefs.email_subscriptions) == (
        True, True, False, True,
    )
    assert prefs.history_enabled is False


def test_it_keeps_the_last_digest_time_when_preferences_are_saved(author: User, client_for: ClientFor) -> None:
    sent = timezone.now() - timedelta(minutes=5)
    Preferences.objects.create(user=author, last_digest_at=sent)

    client_for(author).post("/preferences", {"history_enabled": "on"})

    prefs = Preferences.objects.get(user=author)
    assert prefs.last_digest_at == sent
    assert prefs.history_enabled is True
    assert prefs.email_kudos is False
