"""Feeds of listings: a tag's (with its synonyms and sub-tags), any filtered listing, a
user's and a collection's works, and the feed link every listing page shows."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import feedparser
import pytest
from django.test import Client
from django.utils import timezone

from chapbook.collections import services as collections
from chapbook.collections.models import Collection
from chapbook.people.models import User
from chapbook.tags import services as wrangling
from chapbook.tags.models import Tag
from chapbook.works.models import Work
from chapbook.works.services import update_work
from tests.conftest import default_tags

BASE = "http://127.0.0.1:8000"
MakeWork = Callable[..., Work]


@pytest.fixture(autouse=True)
def base_url(settings: Any) -> None:
    settings.BASE_URL = BASE


def feed(client: Client, url: str, params: dict[str, Any] | None = None) -> Any:
    response = client.get(url, params or {})
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def titles(parsed: Any) -> list[str]:
    return [entry.title for entry in parsed.entries]


def collection(by: User, name: str = "winter-fest", **fields: Any) -> Collection:
    fields.setdefault("title", name.replace("-", " ").title())
    return collections.create_collection(by=by, name=name, **fields)


# --- tag feeds ---------------------------------------------------------------------------


def test_a_tag_feed_has_its_synonyms_and_sub_tags_works(author: User, staff: User, make_work: MakeWork) -> None:
    make_work(author, title="Thunder", tags=default_tags(freeforms=["Stormy Weather"]))
    make_work(author, title="Lightning", tags=default_tags(freeforms=["Storms"]))
    make_work(author, title="Hail", tags=default_tags(freeforms=["Hailstorms"]))
    make_work(author, title="Calm", tags=default_tags(freeforms=["Calm Seas"]))
    storms, synonym, hail = (Tag.objects.get(name=name) for name in ("Storms", "Stormy Weather", "Hailstorms"))
    wrangling.make_canonical([storms, hail], by=staff)
    wrangling.make_synonym([synonym], of=storms, by=staff)
    wrangling.add_parents([hail], parents=[storms], by=staff)

    assert sorted(titles(feed(Client(), "/tags/Storms/feed.atom"))) == ["Hail", "Lightning", "Thunder"]


def test_a_synonyms_feed_redirects_to_its_canonical_tags_feed(author: User, make_work: MakeWork) -> None:
    make_work(author, tags=default_tags(freeforms=["Storms"]))
    storms = Tag.objects.get(name="Storms")
    Tag.objects.filter(pk=storms.pk).update(canonical=True, wrangled_at=timezone.now())
    Tag.objects.create(name="Stormy Weather", type=storms.type, synonym_of=storms)

    response = Client().get("/tags/stormy weather/feed.atom", {"complete": "on"})
    assert response.status_code == 302
    assert response["Location"] == "/tags/Storms/feed.atom?complete=on"


def test_a_tag_feed_takes_the_listings_filters(author: User, make_work: MakeWork) -> None:
    make_work(author, title="Gentle", tags=default_tags(freeforms=["Storms"]))
    make_work(author, title="Fierce", tags=default_tags(freeforms=["Storms"], ratings=["Explicit"]))
    parsed = feed(Client(), "/tags/Storms/feed.atom", {"rating": "Explicit"})
    assert titles(parsed) == ["Fierce"]
    assert parsed.feed.title == "Works in Storms (filtered)"
    alternate = next(link for link in parsed.feed.links if link.rel == "alternate")
    assert alternate.href == f"{BASE}/tags/Storms/works?rating=Explicit"


# --- filtered listing feeds --------------------------------------------------------------


@pytest.fixture
def shelf(author: User, co_author: User, make_work: MakeWork) -> dict[str, Work]:
    works = {
        "Short": make_work(author, title="Short", tags=default_tags(freeforms=["Fluff"])),
        "Long": make_work(author, title="Long", chapters=["<p>" + "word " * 3000 + "</p>"], expected_chapters=1),
        "French": make_work(co_author, title="French", language="fr", tags=default_tags(freeforms=["Fluff"])),
        "Secret": make_work(author, title="Secret", restricted=True, tags=default_tags(freeforms=["Fluff"])),
        "Draft": make_work(author, title="Draft", draft=True, tags=default_tags(freeforms=["Fluff"])),
    }
    return works


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, ["French", "Long", "Short"]),
        ({"include": "Fluff"}, ["French", "Short"]),
        ({"exclude": "Fluff"}, ["Long"]),
        ({"language": "fr"}, ["French"]),
        ({"words_min": "1000"}, ["Long"]),
        ({"complete": "on"}, ["Long"]),
        ({"sort": "title"}, ["French", "Long", "Short"]),
    ],
)
def test_the_works_feed_takes_the_listings_filters(
    shelf: dict[str, Work], params: dict[str, str], expected: list[str]
) -> None:
    found = titles(feed(Client(), "/works/feed.atom", params))
    assert (found if "sort" in params else sorted(found)) == expected


def test_the_works_feed_sorts_as_the_listing_does(shelf: dict[str, Work]) -> None:
    assert titles(feed(Client(), "/works/feed.atom", {"sort": "title", "order": "desc"})) == ["Short", "Long", "French"]


def test_restricted_works_are_in_a_readers_filtered_feed_but_never_a_guests(
    shelf: dict[str, Work], reader: User, client_for: Callable[[User], Client]
) -> None:
    assert sorted(titles(feed(Client(), "/works/feed.atom", {"include": "Fluff"}))) == ["French", "Short"]
    assert sorted(titles(feed(client_for(reader), "/works/feed.atom", {"include": "Fluff"}))) == [
        "French", "Secret", "Short",
    ]  # fmt: skip


def test_a_filter_with_a_mistake_is_a_400(db: None) -> None:
    response = Client().get("/works/feed.atom", {"include": "No Such Tag"})
    assert response.status_code == 400
    assert "No tag named" in response.content.decode()


def test_a_filtered_feed_answers_a_repeat_with_304_and_changes_with_its_works(
    shelf: dict[str, Work], author: User
) -> None:
    client = Client()
    first = client.get("/works/feed.atom", {"include": "Fluff"})
    again = client.get("/works/feed.atom", {"include": "Fluff"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    # Another filter is another feed, with an ETag of its own.
    assert client.get("/works/feed.atom", {"exclude": "Fluff"})["ETag"] != first["ETag"]
    update_work(shelf["Short"], by=author, title="Shorter")
    changed = client.get("/works/feed.atom", {"include": "Fluff"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and "Shorter" in titles(feedparser.parse(changed.content))


def test_a_users_feed_lists_every_pseuds_works_but_no_anonymous_ones(
    author: User, reader: User, make_work: MakeWork
) -> None:
    make_work(author, title="Signed")
    masked = collection(reader, name="masked-fest", anonymous=True)
    collections.add_work(masked, by=author, work=make_work(author, title="Unsigned"))
    make_work(reader, title="Someone else's")
    parsed = feed(Client(), "/users/alice/works/feed.atom")
    assert titles(parsed) == ["Signed"]
    assert parsed.feed.title == "Works by alice"
    assert Client().get("/users/nobody/works/feed.atom").status_code == 404


# --- collection feeds --------------------------------------------------------------------


def test_a_collection_feed_lists_its_approved_visible_works(
    author: User, reader: User, make_work: MakeWork, client_for: Callable[[User], Client]
) -> None:
    fest = collection(author, moderated=True)
    inside = make_work(author, title="Inside")
    members = make_work(author, title="Members inside", restricted=True)
    outside = make_work(author, title="Outside")
    for work in (inside, members):
        item = collections.add_work(fest, by=author, work=work)
        assert item.status == "approved"
    pending = make_work(reader, title="Pending")
    collections.add_work(fest, by=reader, work=pending)
    assert outside.pk  # never added

    assert titles(feed(Client(), "/collections/winter-fest/feed.atom")) == ["Inside"]
    assert sorted(titles(feed(client_for(reader), "/collections/winter-fest/feed.atom"))) == [
        "Inside", "Members inside",
    ]  # fmt: skip
    assert Client().get("/collections/nothing-here/feed.atom").status_code == 404


def test_a_collection_feed_never_lists_unrevealed_works_and_names_anonymous_ones_anonymous(
    author: User, make_work: MakeWork, client_for: Callable[[User], Client]
) -> None:
    hidden = collection(author, name="hidden-fest", unrevealed=True)
    masked = collection(author, name="masked-fest", anonymous=True)
    collections.add_work(hidden, by=author, work=make_work(author, title="Not yet"))
    collections.add_work(masked, by=author, work=make_work(author, title="Whose?"))

    # Not even the moderator, who may read it, finds an unrevealed work in a feed.
    assert titles(feed(client_for(author), "/collections/hidden-fest/feed.atom")) == []
    [entry] = feed(Client(), "/collections/masked-fest/feed.atom").entries
    assert [a.name for a in entry.authors] == ["Anonymous"]
    assert "alice" not in Client().get("/collections/masked-fest/feed.atom").content.decode()


# --- the links on listing pages --------------------------------------------------------------


def feed_links(page: str) -> tuple[list[str], list[str]]:
    head = [html.unescape(href) for href in re.findall(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]*)"', page)]
    visible = [html.unescape(href) for href in re.findall(r'<a class="feed-link" href="([^"]*)"[^>]*>Feed of this list</a>', page)]
    return head, visible


@pytest.mark.parametrize(
    "page_url, feed_url",
    [
        ("/works/", "/works/feed.atom"),
        ("/tags/Fluff/works", "/tags/Fluff/feed.atom"),
        ("/users/alice/works", "/users/alice/works/feed.atom"),
        ("/users/alice/pseuds/alice/works", "/users/alice/pseuds/alice/feed.atom"),
        ("/collections/winter-fest", "/collections/winter-fest/feed.atom"),
    ],
)
def test_every_listing_page_links_its_feed_with_its_filter(
    author: User, make_work: MakeWork, page_url: str, feed_url: str
) -> None:
    fest = collection(author)
    collections.add_work(fest, by=author, work=make_work(author, tags=default_tags(freeforms=["Fluff"])))
    page = Client().get(page_url, {"rating": "General Audiences", "sort": "title", "page": "1"}).content.decode()
    head, visible = feed_links(page)
    expected = f"{feed_url}?rating=General+Audiences&sort=title"
    assert head == [expected] and visible == [expected]
    # The feed it names works and has the page's work.
    assert titles(feed(Client(), expected)) == ["A Quiet Harbour"]


def test_an_unfiltered_listing_links_the_plain_feed(author: User, make_work: MakeWork) -> None:
    make_work(author)
    assert feed_links(Client().get("/works/").content.decode()) == (["/works/feed.atom"], ["/works/feed.atom"])
