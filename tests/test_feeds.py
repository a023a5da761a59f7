"""Atom feeds of works: recent works, a tag's, a pseud's and a series' works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import feedparser
import pytest
from django.test import Client

from chapbook.people.models import User
from chapbook.works.models import Work
from chapbook.works.services import update_work
from tests.conftest import default_tags, queries_for

BASE = "http://127.0.0.1:8000"
AWKWARD_TITLE = 'Tom & Jerry <3 "quoted" \'single\' 🐭'


@pytest.fixture(autouse=True)
def base_url(settings: Any) -> None:
    settings.BASE_URL = BASE


def feed(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def titles(parsed: Any) -> list[str]:
    return [entry.title for entry in parsed.entries]


def test_it_describes_each_work_like_its_blurb(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(
        author,
        title="Salt and Ink",
        summary="<p>A lighthouse keeper writes letters.</p>",
        tags=default_tags(relationships=["Keeper/Sea"], characters=["The Keeper"], freeforms=["Letters"]),
    )
    parsed = feed(Client(), "/works/feed.atom")

    assert parsed.feed.title.endswith("recent works")
    assert parsed.feed.id == f"{BASE}/works/feed.atom"
    links = {link.rel: link for link in parsed.feed.links}
    assert links["self"].href == f"{BASE}/works/feed.atom"
    assert links["alternate"].href == f"{BASE}/works/"
    [entry] = parsed.entries
    assert entry.title == "Salt and Ink"
    assert entry.id.startswith("tag:127.0.0.1,") and entry.id.endswith(f":works/{work.pk}")
    assert entry.link == f"{BASE}/works/{work.pk}/"
    assert [author.name for author in entry.authors] == ["alice"]
    assert "email" not in entry.authors[0] and "href" not in entry.authors[0]
    assert {tag.term for tag in entry.tags} == {
        "Original Work", "General Audiences", "No Archive Warnings Apply", "Keeper/Sea", "The Keeper", "Letters",
    }
    assert entry.updated_parsed is not None and entry.published_parsed is not None
    content = entry.content[0]
    assert content.type == "text/html"
    for expected in (
        "Original Work", "General Audiences", "No Archive Warnings Apply", "Keeper/Sea", "The Keeper", "Letters",
        "A lighthouse keeper writes letters.", "Words:", "Chapters: 1/?", "English",
    ):
        assert expected in content.value


def test_it_keeps_awkward_titles_well_formed(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title=AWKWARD_TITLE, summary="<p>Cats &amp; mice</p>")
    parsed = feed(Client(), "/works/feed.atom")
    assert titles(parsed) == [AWKWARD_TITLE]
    assert "Cats &amp; mice" in parsed.entries[0].content[0].value


def test_it_drops_characters_xml_cannot_carry(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    Work.objects.filter(pk=work.pk).update(title="Bell\x07 and tab\t", summary="<p>Form\x0cfeed</p>")
    parsed = feed(Client(), "/works/feed.atom")
    assert titles(parsed) == ["Bell and tab"]
    assert "Formfeed" in parsed.entries[0].content[0].value


def test_it_lists_most_recently_updated_first(author: User, make_work: Callable[..., Work]) -> None:
    first = make_work(author, title="First")
    make_work(author, title="Second")
    update_work(first, by=author, draft=None, title="First, revised")  # a revision is not an update
    assert titles(feed(Client(), "/works/feed.atom")) == ["Second", "First, revised"]


def test_it_hides_restricted_and_draft_works_from_guest(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Open")
    make_work(author, title="Members only", restricted=True)
    make_work(author, title="Unfinished", draft=True)
    assert titles(feed(Client(), "/works/feed.atom")) == ["Open"]


def test_it_shows_restricted_works_to_readers_but_never_drafts(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    make_work(author, title="Open")
    make_work(author, title="Members only", restricted=True)
    make_work(author, title="Unfinished", draft=True)
    assert sorted(titles(feed(client_for(reader), "/works/feed.atom"))) == ["Members only", "Open"]
    # Feeds leave drafts out even for their creator: a feed is what the world sees.
    assert sorted(titles(feed(client_for(author), "/works/feed.atom"))) == ["Members only", "Open"]


def test_it_marks_a_logged_in_readers_feed_private(
    reader: User, make_work: Callable[..., Work], author: User, client_for: Callable[[User], Client]
) -> None:
    make_work(author)
    assert "private" in client_for(reader).get("/works/feed.atom")["Cache-Control"]


def test_it_limits_the_number_of_entries(author: User, make_work: Callable[..., Work]) -> None:
    for number in range(22):
        make_work(author, title=f"Work {number}")
    client = Client()
    assert len(feed(client, "/works/feed.atom").entries) == 20
    assert len(feed(client, "/works/feed.atom?limit=3").entries) == 3
    assert len(feed(client, "/works/feed.atom?limit=9999").entries) == 22
    assert len(feed(client, "/works/feed.atom?limit=lots").entries) == 20


def test_tag_feed_lists_the_tags_works(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Tardis", tags=default_tags(fandoms=["Dr. Who & Co"]))
    make_work(author, title="Elsewhere")
    parsed = feed(Client(), "/tags/Dr*d* Who *a* Co/feed.atom")
    assert titles(parsed) == ["Tardis"]
    assert parsed.feed.title == "Works in Dr. Who & Co"
    alternate = next(link for link in parsed.feed.links if link.rel == "alternate")
    # The feed is of the tag listing, so that is its alternate.
    assert alternate.href == f"{BASE}/tags/Dr*d*%20Who%20*a*%20Co/works"


def test_tag_feed_is_404_for_an_unknown_tag(db: None) -> None:
    assert Client().get("/tags/Nothing Here/feed.atom").status_code == 404


def test_tag_feed_is_404_for_a_tag_only_a_restricted_work_carries(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    make_work(author, restricted=True, tags=default_tags(freeforms=["Secret Tag"]))
    assert Client().get("/tags/Secret Tag/feed.atom").status_code == 404
    assert titles(feed(client_for(reader), "/tags/Secret Tag/feed.atom")) == ["A Quiet Harbour"]


def test_pseud_feed_lists_the_pseuds_works(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    make_work(author, title="Alice's")
    make_work(reader, title="Bob's")
    make_work(author, title="Alice's secret", restricted=True)
    parsed = feed(Client(), "/users/alice/pseuds/alice/feed.atom")
    assert titles(parsed) == ["Alice's"]
    assert next(link for link in parsed.feed.links if link.rel == "alternate").href == f"{BASE}/users/alice/pseuds/alice/works"


def test_pseud_feed_is_404_for_an_unknown_pseud_or_user(author: User) -> None:
    assert Client().get("/users/alice/pseuds/nobody/feed.atom").status_code == 404
    assert Client().get("/users/nobody/pseuds/alice/feed.atom").status_code == 404


def test_series_feed_lists_its_visible_parts(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    first = make_work(author, title="Part One", series_title="The Harbour Cycle")
    series = first.series_parts.get().series
    make_work(author, title="Part Two", series=series, restricted=True)
    make_work(author, title="Part Three", series=series, draft=True)
    url = f"/series/{series.pk}/feed.atom"
    assert titles(feed(Client(), url)) == ["Part One"]
    assert sorted(titles(feed(client_for(reader), url))) == ["Part One", "Part Two"]
    assert feed(Client(), url).feed.title == "Series: The Harbour Cycle"


def test_series_feed_is_404_for_an_unknown_series(db: None) -> None:
    assert Client().get("/series/999/feed.atom").status_code == 404


def test_series_feed_is_404_when_its_only_part_is_a_draft(
    author: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    work = make_work(author, series_title="Unposted", draft=True)
    url = f"/series/{work.series_parts.get().series_id}/feed.atom"
    assert Client().get(url).status_code == 404
    assert client_for(author).get(url).status_code == 404


def test_it_answers_an_unchanged_feed_with_304(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    client = Client()
    first = client.get("/works/feed.atom")
    assert first["ETag"] and first["Last-Modified"]

    again = client.get("/works/feed.atom", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert client.get("/works/feed.atom", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304

    update_work(work, by=author, title="A Louder Harbour")
    changed = client.get("/works/feed.atom", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    assert titles(feedparser.parse(changed.content)) == ["A Louder Harbour"]


def test_it_serves_atom_in_the_default_namespace(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author)
    assert b'<feed xmlns="http://www.w3.org/2005/Atom">' in Client().get("/works/feed.atom").content


def test_it_changes_the_etag_when_a_counter_changes(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    before = Client().get("/works/feed.atom")["ETag"]
    Work.objects.filter(pk=work.pk).update(kudos_count=1)
    assert Client().get("/works/feed.atom")["ETag"] != before


def test_it_answers_304_with_two_small_queries(author: User, make_work: Callable[..., Work]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_work(author)
    client = Client()
    etag = client.get("/works/feed.atom")["ETag"]
    with CaptureQueriesContext(connection) as context:
        assert client.get("/works/feed.atom", HTTP_IF_NONE_MATCH=etag).status_code == 304
    # The filter index's freshness stamp, and the entries' ids and versions: no works,
    # tags or creators are loaded.
    assert len(context.captured_queries) == 2


@pytest.mark.parametrize("url", ["/works/feed.atom", "/tags/Original Work/feed.atom", "/users/alice/pseuds/alice/feed.atom"])
def test_its_query_count_does_not_grow_with_the_works(
    author: User, make_work: Callable[..., Work], url: str
) -> None:
    for number in range(2):
        make_work(author, title=f"Work {number}", tags=default_tags(characters=[f"Character {number}"]))
    Client().get(url)  # the filter index catches up with the new works
    two = queries_for(Client(), url)
    for number in range(2, 10):
        make_work(author, title=f"Work {number}", tags=default_tags(characters=[f"Character {number}"]))
    Client().get(url)
    assert queries_for(Client(), url) == two


def test_series_feed_query_count_does_not_grow_with_the_parts(author: User, make_work: Callable[..., Work]) -> None:
    series = make_work(author, series_title="Long").series_parts.get().series
    make_work(author, series=series)
    two = queries_for(Client(), f"/series/{series.pk}/feed.atom")
    for _ in range(8):
        make_work(author, series=series)
    assert queries_for(Client(), f"/series/{series.pk}/feed.atom") == two


def test_alternate_link_partial_renders_an_autodiscovery_link() -> None:
    from django.template.loader import render_to_string

    html = render_to_string("feeds/_link.html", {"href": "/works/feed.atom", "title": "Tom & Jerry"})
    assert html.strip() == '<link rel="alternate" type="application/atom+xml" title="Tom &amp; Jerry" href="/works/feed.atom">'
