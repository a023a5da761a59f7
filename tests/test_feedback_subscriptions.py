"""Subscriptions to works, series and creators, and the notifications they bring."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.http import Http404
from django.test import Client

from chapbook.feedback.models import Notification, Subscription
from chapbook.feedback.subscriptions import subscribe, unsubscribe
from chapbook.people.models import User
from chapbook.works.models import Series, Work
from chapbook.works.services import ChapterInput, add_chapter
from tests.conftest import make_user

MakeWork = Callable[..., Work]
ClientFor = Callable[[User], Client]


def chapter_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "chapter_title": "",
        "chapter_notes": "",
        "text": "<p>The storm came in over the harbour at last.</p>",
        "format": "html",
        "chapter_end_notes": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def inbox_texts(user: User) -> list[str]:
    return [n.text for n in Notification.objects.filter(user=user)]


# ------------------------------------------------------------ subscribing


def test_it_subscribes_to_a_work_from_its_page_and_back(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, title="Tidewater")
    client = client_for(reader)

    response = client.post(f"/works/{work.pk}/subscribe", {"next": f"/works/{work.pk}/"})

    assert response.status_code == 302
    assert response["Location"] == f"/works/{work.pk}/"
    assert Subscription.objects.filter(user=reader, work=work).count() == 1
    work.refresh_from_db()
    assert work.subscriptions_count == 1
    page = client.get(f"/works/{work.pk}/").content.decode()
    assert "You are subscribed to Tidewater." in page
    assert "Unsubscribe" in page

    client.post(f"/works/{work.pk}/subscribe")

    assert not Subscription.objects.filter(user=reader, work=work).exists()
    work.refresh_from_db()
    assert work.subscriptions_count == 0


def test_it_subscribes_to_a_series_and_to_a_creator(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, series_title="Harbour Tales")
    series = Series.objects.get(parts__work=work)
    client = client_for(reader)

    assert "Subscribe" in client.get(f"/series/{series.pk}/").content.decode()
    client.post(f"/series/{series.pk}/subscribe")
    client.post("/users/alice/subscribe")

    assert Subscription.objects.filter(user=reader, series=series).exists()
    assert Subscription.objects.filter(user=reader, creator=author).exists()
    assert "Unsubscribe" in client.get("/users/alice").content.decode()

    client.post(f"/series/{series.pk}/subscribe", {"action": "unsubscribe"})
    client.post("/users/alice/subscribe", {"action": "unsubscribe"})

    assert not Subscription.objects.filter(user=reader).exists()


def test_it_returns_the_same_subscription_when_subscribing_twice(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)

    first = subscribe(by=reader, work=work)
    second = subscribe(by=reader, work=work)
    client_for(reader).post(f"/works/{work.pk}/subscribe", {"action": "subscribe"})

    assert first.pk == second.pk
    assert Subscription.objects.filter(user=reader, work=work).count() == 1
    work.refresh_from_db()
    assert work.subscriptions_count == 1


def test_it_refuses_subscribing_to_ones_own_work_series_or_self(
    author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, series_title="Mine")
    series = Series.objects.get(parts__work=work)
    client = client_for(author)

    response = client.post(f"/works/{work.pk}/subscribe", follow=True)
    client.post(f"/series/{series.pk}/subscribe")
    client.post("/users/alice/subscribe")

    assert "You cannot subscribe to your own work." in response.content.decode()
    assert not Subscription.objects.exists()


def test_it_shows_no_subscribe_button_to_guests_or_on_ones_own_work(
    author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)

    assert "subscribe" not in Client().get(f"/works/{work.pk}/").content.decode().lower()
    assert f"/works/{work.pk}/subscribe" not in client_for(author).get(f"/works/{work.pk}/").content.decode()
    assert "/users/alice/subscribe" not in client_for(author).get("/users/alice").content.decode()


def test_it_answers_404_for_a_work_the_reader_may_not_see(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    draft = make_work(author, draft=True)

    response = client_for(reader).post(f"/works/{draft.pk}/subscribe")

    assert response.status_code == 404
    with pytest.raises(Http404):
        subscribe(by=reader, work=draft)
    assert not Subscription.objects.exists()


def test_it_sends_a_guest_to_log_in_before_subscribing(author: User, make_work: MakeWork) -> None:
    work = make_work(author)

    response = Client().post(f"/works/{work.pk}/subscribe")

    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_it_lets_only_the_owner_unsubscribe(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    subscription = subscribe(by=reader, work=work)

    with pytest.raises(Exception, match="not yours"):
        unsubscribe(subscription, by=author)
    unsubscribe(subscription, by=reader)
    unsubscribe(subscription, by=reader)  # already gone: nothing happens

    work.refresh_from_db()
    assert work.subscriptions_count == 0


def test_it_lists_my_subscriptions_grouped_with_unsubscribe_buttons(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, title="Tidewater", series_title="Harbour Tales")
    series = Series.objects.get(parts__work=work)
    subscribe(by=reader, work=work)
    subscribe(by=reader, series=series)
    creator = subscribe(by=reader, creator=author)
    client = client_for(reader)

    page = client.get("/subscriptions").content.decode()

    assert "Tidewater" in page and "Harbour Tales" in page and "alice" in page
    assert page.count("Unsubscribe") == 3

    response = client.post(f"/subscriptions/{creator.pk}/delete")

    assert response["Location"] == "/subscriptions"
    assert Subscription.objects.filter(user=reader).count() == 2
    assert client_for(author).post(f"/subscriptions/{Subscription.objects.first().pk}/delete").status_code == 404


def test_it_keeps_a_hidden_works_subscription_listed_without_its_title(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, title="Soon Hidden")
    subscribe(by=reader, work=work)
    Work.objects.filter(pk=work.pk).update(hidden=True)

    page = client_for(reader).get("/subscriptions").content.decode()

    assert "Soon Hidden" not in page
    assert "no longer available" in page


def test_it_returns_the_winners_row_when_another_subscribe_won_the_race(
    author: User, reader: User, make_work: MakeWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two clicks both pass the "already subscribed?" check; the unique constraint stops the
    second insert, which answers with the first one's row instead of a 500."""
    from chapbook.feedback import subscriptions

    work = make_work(author)
    winner = subscribe(by=reader, work=work)
    monkeypatch.setattr(subscriptions, "subscription_for", lambda *args, **kwargs: None)

    loser = subscribe(by=reader, work=work)

    assert loser.pk == winner.pk
    assert Subscription.objects.filter(user=reader, work=work).count() == 1
    assert Work.objects.get(pk=work.pk).subscriptions_count == 1


# ---------------------------------------------------------- notifications


def test_it_notifies_every_work_subscriber_once_when_chapter_two_of_a_one_of_unknown_work_is_posted(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, title="Tidewater", expected_chapters=None)
    dave = make_user("dave")
    for user in (reader, co_author, dave):
        subscribe(by=user, work=work)
    subscribe(by=reader, creator=author)

    response = client_for(author).post(f"/works/{work.pk}/chapters/new", chapter_data())

    assert response.status_code == 302
    for user in (reader, co_author, dave):
        assert inbox_texts(user) == ["Tidewater: Chapter 2 posted"]
    row = Notification.objects.get(user=reader)
    assert row.kind == "subscription"
    assert row.url == f"/works/{work.pk}/chapters/2/"
    assert not Notification.objects.filter(user=author).exists()


def test_it_never_notifies_the_creators_themselves(
    author: User, co_author: User, reader: User, make_work: MakeWork
) -> None:
    work = make_work(author)
    subscribe(by=co_author, work=work)
    subscribe(by=reader, work=work)
    # Carol subscribed as a reader, then became a co-creator.
    from chapbook.works.models import Creatorship

    Creatorship.objects.create(work=work, pseud=co_author.pseuds.get(), accepted=True, position=1)

    add_chapter(work, by=author, chapter=ChapterInput(text="<p>More.</p>"))

    assert not Notification.objects.filter(user__in=[author, co_author]).exists()
    assert Notification.objects.filter(user=reader).count() == 1


def test_it_notifies_creator_subscribers_when_a_draft_is_published(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    draft = make_work(author, title="Quiet Draft", draft=True)
    subscribe(by=reader, creator=author)

    assert not Notification.objects.exists()
    client_for(author).post(f"/works/{draft.pk}/post")

    row = Notification.objects.get(user=reader)
    assert (row.actor, row.text, row.url) == ("alice", "posted a new work: Quiet Draft", f"/works/{draft.pk}/")


def test_it_says_nothing_about_a_draft_or_a_draft_gaining_chapters(
    author: User, reader: User, make_work: MakeWork
) -> None:
    subscribe(by=reader, creator=author)
    draft = make_work(author, draft=True)
    add_chapter(draft, by=author, chapter=ChapterInput(text="<p>More.</p>"))

    assert not Notification.objects.exists()


def test_it_tells_series_subscribers_about_a_new_part_and_each_subscriber_once(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    first = make_work(author, title="Part One", series_title="Harbour Tales")
    series = Series.objects.get(parts__work=first)
    subscribe(by=reader, series=series)
    subscribe(by=reader, creator=author)
    subscribe(by=co_author, creator=author)

    second = make_work(author, title="Part Two", series=series)

    assert inbox_texts(reader) == ["New part in Harbour Tales: Part Two"]
    assert inbox_texts(co_author) == ["posted a new work: Part Two"]
    assert Notification.objects.get(user=reader).work == second


def test_it_notifies_logged_in_subscribers_of_a_restricted_work(
    author: User, reader: User, make_work: MakeWork
) -> None:
    subscribe(by=reader, creator=author)

    work = make_work(author, title="Members Only", restricted=True)
    add_chapter(work, by=author, chapter=ChapterInput(text="<p>More.</p>"))

    assert inbox_texts(reader) == ["posted a new work: Members Only"]


def test_it_notifies_no_one_of_a_hidden_work(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    subscribe(by=reader, work=work)
    work.hidden = True
    work.save()

    add_chapter(work, by=author, chapter=ChapterInput(text="<p>More.</p>"))

    assert not Notification.objects.exists()


def test_it_announces_a_chapter_in_a_fixed_number_of_queries(
    author: User, make_work: MakeWork, django_assert_max_num_queries: Any
) -> None:
    from chapbook.feedback.subscriptions import chapter_posted

    work = make_work(author)
    for number in range(30):
        subscribe(by=make_user(f"reader{number}"), work=work)
    chapter = work.chapters.get()

    with django_assert_max_num_queries(4):
        chapter_posted(work, chapter)

    assert Notification.objects.count() == 30


def test_each_button_costs_a_reader_one_query_and_a_guest_none(
    author: User, reader: User, make_work: MakeWork, django_assert_num_queries: Any
) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.template import Context, Template
    from django.test import RequestFactory

    work = make_work(author, series_title="Harbour Tales")
    series = Series.objects.get(parts__work=work)
    template = Template(
        "{% load subscription_tags %}{% subscribe_button work %}"
        "{% subscribe_series_button series %}{% subscribe_creator_button creator %}"
    )
    request = RequestFactory().get("/")

    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert not template.render(Context({"request": request, "work": work, "series": series, "creator": author})).strip()
    request.user = reader
    with django_assert_num_queries(3):
        html = template.render(Context({"request": request, "work": work, "series": series, "creator": author}))
    assert html.count("Subscribe<span") == 3
