"""Profile pages: bio and links, editing, and the works a viewer may see."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from tests.conftest import listed_titles
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from chapbook.people.models import User
from chapbook.people.services import create_pseud
from chapbook.works.models import Work

ClientFor = Callable[[User], Client]
MakeWork = Callable[..., Work]


def profile_url(user: User) -> str:
    return reverse("people:profile", args=[user.username])


def test_profile_shows_bio_and_links(author: User, client: Client) -> None:
    author.bio = "Writes about lighthouses.\nAnd gulls."
    author.links = "@harbourlight\ntumblr: @tidewatch\nhttps://example.org/alice\nsomewhere else"
    author.save()

    html = client.get(profile_url(author)).content.decode()

    assert "<p>Writes about lighthouses.<br>And gulls.</p>" in html
    assert "<li>@harbourlight</li>" in html
    assert '<a href="https://tidewatch.tumblr.com/" rel="nofollow noopener me">tumblr: @tidewatch</a>' in html
    assert '<a href="https://example.org/alice" rel="nofollow noopener me">example.org/alice</a>' in html
    assert "<li>somewhere else</li>" in html


def test_profile_escapes_html_in_the_bio(author: User, client: Client) -> None:
    author.bio = '<script>alert("hi")</script><b>bold</b>'
    author.save()

    html = client.get(profile_url(author)).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html


def test_profile_lists_the_users_pseuds(author: User, client: Client) -> None:
    create_pseud(user=author, name="Harbour Light")

    response = client.get(profile_url(author))

    assert [p.name for p in response.context["pseuds"]] == ["alice", "Harbour Light"]
    assert reverse("people:pseud", args=["alice", "Harbour Light"]) in response.content.decode()


def test_profile_url_ignores_the_case_of_the_username(author: User, client: Client) -> None:
    response = client.get("/users/ALICE")

    assert response.status_code == 301
    assert response["Location"] == profile_url(author)


def test_profile_of_an_unknown_user_is_404(db: None, client: Client) -> None:
    assert client.get("/users/nobody").status_code == 404


def test_owner_edits_bio_and_links(author: User, client_for: ClientFor) -> None:
    response = client_for(author).post(
        reverse("people:profile_edit", args=["alice"]), {"bio": "New bio", "links": " @alice \n\n"}
    )

    assert response["Location"] == profile_url(author)
    author.refresh_from_db()
    assert (author.bio, author.links) == ("New bio", "@alice")


def test_someone_else_cannot_edit_a_profile(author: User, reader: User, client_for: ClientFor) -> None:
    client = client_for(reader)

    assert client.get(reverse("people:profile_edit", args=["alice"])).status_code == 403
    assert client.post(reverse("people:profile_edit", args=["alice"]), {"bio": "pwned"}).status_code == 403
    author.refresh_from_db()
    assert author.bio == ""


def test_a_guest_editing_a_profile_is_sent_to_log_in(author: User, client: Client) -> None:
    response = client.get(reverse("people:profile_edit", args=["alice"]))

    assert response["Location"].startswith(reverse("people:login"))


@pytest.fixture
def three_works(author: User, make_work: MakeWork) -> None:
    make_work(author, title="Posted For All")
    make_work(author, title="Members Only", restricted=True)
    make_work(author, title="Still Drafting", draft=True)


def titles(response: Any) -> list[str]:
    return listed_titles(response)


@pytest.mark.usefixtures("three_works")
def test_guest_sees_neither_restricted_nor_draft_works_on_a_profile(author: User, client: Client) -> None:
    response = client.get(profile_url(author))

    assert titles(response) == ["Posted For All"]
    assert "Members Only" not in response.content.decode()
    assert "Still Drafting" not in response.content.decode()


@pytest.mark.usefixtures("three_works")
def test_reader_sees_restricted_works_but_not_drafts_on_a_profile(
    author: User, reader: User, client_for: ClientFor
) -> None:
    response = client_for(reader).get(profile_url(author))

    assert sorted(titles(response)) == ["Members Only", "Posted For All"]
    assert response.context["page"].paginator.count == 2


@pytest.mark.usefixtures("three_works")
def test_author_sees_own_drafts_on_the_profile(author: User, client_for: ClientFor) -> None:
    response = client_for(author).get(profile_url(author))

    assert sorted(titles(response)) == ["Members Only", "Posted For All", "Still Drafting"]


def test_works_page_lists_works_of_every_pseud_once(author: User, make_work: MakeWork, client: Client) -> None:
    second = create_pseud(user=author, name="Harbour Light")
    make_work(author, title="Under the Username")
    make_work(author, title="Under the Pseud", pseuds=[second])
    make_work(author, title="Under Both", pseuds=[author.default_pseud, second])

    response = client.get(reverse("people:works", args=["alice"]))

    assert sorted(titles(response)) == ["Under Both", "Under the Pseud", "Under the Username"]


def test_profile_does_not_list_a_work_whose_invitation_is_pending(
    author: User, co_author: User, make_work: MakeWork, client: Client
) -> None:
    make_work(author, title="Shared Tide", co_creators=[co_author.default_pseud])

    assert titles(client.get(profile_url(co_author))) == []
    assert titles(client.get(profile_url(author))) == ["Shared Tide"]


@override_settings(WORKS_PER_PAGE=2)
def test_profile_paginates_works(author: User, make_work: MakeWork, client: Client) -> None:
    for number in range(3):
        make_work(author, title=f"Work {number}")

    first, second = client.get(profile_url(author)), client.get(profile_url(author) + "?page=2")

    assert len(titles(first)) == 2 and len(titles(second)) == 1
    assert first.context["page"].paginator.count == 3


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_profile_page_query_count_does_not_grow_with_works(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    client = client_for(reader)
    for number in range(2):
        make_work(author, title=f"Early {number}")
    with_two = count_queries(client, profile_url(author))
    for number in range(6):
        make_work(author, title=f"Later {number}", restricted=number % 2 == 0)

    assert count_queries(client, profile_url(author)) == with_two
