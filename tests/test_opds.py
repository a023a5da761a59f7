"""The OPDS 1.2 catalog: navigation, acquisition feeds, paging, OpenSearch and sign-in."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import feedparser
import pytest
from django.test import Client

from chapbook.people.models import ApiToken, User
from chapbook.works.models import Work
from tests.conftest import PASSWORD, build_work, default_tags, queries_for

BASE = "http://127.0.0.1:8000"
ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
DC = "{http://purl.org/dc/terms/}"
NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
AWKWARD_TITLE = 'Tom & Jerry <3 "quoted" \'single\' 🐭'


@pytest.fixture(autouse=True)
def base_url(settings: Any) -> None:
    settings.BASE_URL = BASE


@pytest.fixture
def make_work(db: None, django_capture_on_commit_callbacks: Any) -> Callable[..., Work]:
    """The shared builder, with each work indexed for search at once: posting queues the
    indexing for after the commit, which a test never reaches."""

    def build(*args: Any, **kwargs: Any) -> Work:
        with django_capture_on_commit_callbacks(execute=True):
            return build_work(*args, **kwargs)

    return build


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def catalog(url: str, kind: str = ACQUISITION, **headers: str) -> ET.Element:
    response = Client().get(url, **headers)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith(kind)
    assert "Authorization" in response["Vary"]
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return ET.fromstring(response.content)


def links(element: ET.Element) -> dict[str, ET.Element]:
    return {link.get("rel", ""): link for link in element.findall(f"{ATOM}link")}


def entry_titles(feed: ET.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title", "") for entry in feed.findall(f"{ATOM}entry")]


def entry_by_title(feed: ET.Element, title: str) -> ET.Element:
    return next(entry for entry in feed.findall(f"{ATOM}entry") if entry.findtext(f"{ATOM}title") == title)


def test_root_links_to_the_catalogs_sections(db: None) -> None:
    root = catalog("/opds/", NAVIGATION)
    feed_links = links(root)
    assert feed_links["self"].get("href") == f"{BASE}/opds/"
    assert feed_links["start"].get("type") == NAVIGATION
    assert feed_links["search"].get("href") == f"{BASE}/opds/opensearch.xml"
    assert feed_links["search"].get("type") == "application/opensearchdescription+xml"
    assert entry_titles(root) == ["Recent works", "Fandoms", "Series", "Collections"]

    recent = links(entry_by_title(root, "Recent works"))["http://opds-spec.org/sort/new"]
    assert (recent.get("href"), recent.get("type")) == (f"{BASE}/opds/recent", ACQUISITION)
    fandoms = links(entry_by_title(root, "Fandoms"))["subsection"]
    assert (fandoms.get("href"), fandoms.get("type")) == (f"{BASE}/opds/fandoms", NAVIGATION)
    series = links(entry_by_title(root, "Series"))["subsection"]
    assert (series.get("href"), series.get("type")) == (f"{BASE}/opds/series", NAVIGATION)


def test_acquisition_entries_link_to_both_downloads_and_the_work(
    author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, title="Salt and Ink", language="fr", tags=default_tags(freeforms=["Letters"]))
    feed = catalog("/opds/recent")
    entry = entry_by_title(feed, "Salt and Ink")
    acquisitions = {
        link.get("type"): link.get("href")
        for link in entry.findall(f"{ATOM}link")
        if link.get("rel") == "http://opds-spec.org/acquisition"
    }
    assert acquisitions == {
        "application/epub+zip": f"{BASE}/works/{work.pk}/download/epub",
        "application/pdf": f"{BASE}/works/{work.pk}/download/pdf",
    }
    alternate = links(entry)["alternate"]
    assert (alternate.get("type"), alternate.get("href")) == ("text/html", f"{BASE}/works/{work.pk}/")
    assert entry.findtext(f"{DC}language") == "fr"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "alice"
    assert entry.find(f"{ATOM}updated") is not None and entry.find(f"{ATOM}id") is not None
    assert "Letters" in {category.get("term") for category in entry.findall(f"{ATOM}category")}
    content = entry.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html" and "Words:" in (content.text or "")
    assert links(feed)["up"].get("href") == f"{BASE}/opds/"


def test_it_keeps_awkward_titles_well_formed(author: User, make_work: Callable[..., Work]) -> None:
    fandom = 'Tom & Jerry "quoted" 🐭'  # tags may not contain < or >
    make_work(author, title=AWKWARD_TITLE, series_title=AWKWARD_TITLE, tags=default_tags(fandoms=[fandom]))
    assert entry_titles(catalog("/opds/recent")) == [AWKWARD_TITLE]
    assert entry_titles(catalog("/opds/fandoms", NAVIGATION)) == [fandom]
    assert entry_titles(catalog("/opds/series", NAVIGATION)) == [AWKWARD_TITLE]
    assert entry_titles(catalog("/opds/search?q=jerry <3")) == [AWKWARD_TITLE]


def test_acquisition_feeds_are_paged(author: User, make_work: Callable[..., Work]) -> None:
    for number in range(25):
        make_work(author, title=f"Work {number:02}")
    first = catalog("/opds/recent")
    assert len(entry_titles(first)) == 20
    assert first.findtext(f"{OPENSEARCH}totalResults") == "25"
    assert first.findtext(f"{OPENSEARCH}itemsPerPage") == "20"
    assert first.findtext(f"{OPENSEARCH}startIndex") == "1"
    first_links = links(first)
    assert "previous" not in first_links
    assert first_links["next"].get("href") == f"{BASE}/opds/recent?page=2"
    assert first_links["first"].get("href") == f"{BASE}/opds/recent"
    assert first_links["start"].get("href") == f"{BASE}/opds/"
    assert first_links["up"].get("href") == f"{BASE}/opds/"

    second = catalog("/opds/recent?page=2")
    assert len(entry_titles(second)) == 5
    assert second.findtext(f"{OPENSEARCH}startIndex") == "21"
    second_links = links(second)
    assert "next" not in second_links
    assert second_links["previous"].get("href") == f"{BASE}/opds/recent"
    assert second_links["self"].get("href") == f"{BASE}/opds/recent?page=2"
    assert set(entry_titles(first)).isdisjoint(entry_titles(second))


def test_fandoms_lead_to_each_fandoms_works(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Tardis", tags=default_tags(fandoms=["Dr. Who"]))
    make_work(author, title="Hidden", restricted=True, tags=default_tags(fandoms=["Secret Fandom"]))
    fandoms = catalog("/opds/fandoms", NAVIGATION)
    assert entry_titles(fandoms) == ["Dr. Who"]
    link = links(entry_by_title(fandoms, "Dr. Who"))["subsection"]
    assert (link.get("href"), link.get("type")) == (f"{BASE}/opds/tags/Dr*d*%20Who", ACQUISITION)
    assert entry_titles(catalog("/opds/tags/Dr*d* Who")) == ["Tardis"]
    assert Client().get("/opds/tags/Secret Fandom").status_code == 404


def test_series_lead_to_their_parts_in_reading_order(author: User, make_work: Callable[..., Work]) -> None:
    series = make_work(author, title="Part One", series_title="Cycle").series_parts.get().series
    make_work(author, title="Part Two", series=series)
    make_work(author, title="Part Three", series=series, draft=True)
    make_work(author, title="Only Draft", series_title="Unposted", draft=True)
    index = catalog("/opds/series", NAVIGATION)
    assert entry_titles(index) == ["Cycle"]
    assert links(entry_by_title(index, "Cycle"))["subsection"].get("href") == f"{BASE}/opds/series/{series.pk}"
    assert entry_titles(catalog(f"/opds/series/{series.pk}")) == ["Part One", "Part Two"]


def test_opensearch_description_has_the_search_template(db: None) -> None:
    response = Client().get("/opds/opensearch.xml")
    assert response["Content-Type"].startswith("application/opensearchdescription+xml")
    # The default namespace, as readers that match element names literally expect.
    assert b'<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">' in response.content
    description = ET.fromstring(response.content)
    assert description.tag == f"{OPENSEARCH}OpenSearchDescription"
    assert description.findtext(f"{OPENSEARCH}ShortName")
    url = description.find(f"{OPENSEARCH}Url")
    assert url is not None
    assert url.get("type") == ACQUISITION
    assert url.get("template") == f"{BASE}/opds/search?q={{searchTerms}}"


def test_search_is_the_full_text_search(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="The Keeper", chapters=["<p>A silver dragon slept under the pier.</p>"])
    make_work(author, title="Harbour Dragons")
    make_work(author, title="Sea Shanties")
    make_work(author, title="Dragon, restricted", restricted=True)
    feed = catalog("/opds/search?q=DRAGON")
    assert sorted(entry_titles(feed)) == ["Harbour Dragons", "The Keeper"]
    assert links(feed)["search"].get("type") == "application/opensearchdescription+xml"
    assert entry_titles(catalog("/opds/search?q=")) == []


def test_search_pages_keep_the_query(author: User, make_work: Callable[..., Work]) -> None:
    for number in range(21):
        make_work(author, title=f"Tide {number}")
    assert links(catalog("/opds/search?q=tide"))["next"].get("href") == f"{BASE}/opds/search?q=tide&page=2"


@pytest.mark.parametrize("url", ["/opds/", "/opds/recent", "/opds/fandoms", "/opds/series", "/opds/search?q=a"])
def test_every_catalog_feed_links_to_search(db: None, url: str) -> None:
    kind = NAVIGATION if url in ("/opds/", "/opds/fandoms", "/opds/series") else ACQUISITION
    assert links(catalog(url, kind))["search"].get("href") == f"{BASE}/opds/opensearch.xml"


def test_guest_never_sees_restricted_or_draft_works(author: User, make_work: Callable[..., Work]) -> None:
    series = make_work(author, title="Open", series_title="Cycle").series_parts.get().series
    make_work(author, title="Members only", restricted=True, series=series)
    make_work(author, title="Unfinished", draft=True, series=series)
    for url in ("/opds/recent", "/opds/tags/Original Work", f"/opds/series/{series.pk}", "/opds/search?q=harbour"):
        assert entry_titles(catalog(url)) == ["Open"], url


def test_basic_auth_shows_my_works_and_restricted_works(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    make_work(author, title="Members only", restricted=True)
    make_work(reader, title="Bob's own")
    make_work(reader, title="Bob's draft", draft=True)
    root = catalog("/opds/", NAVIGATION, **basic("bob"))
    assert entry_titles(root)[-3:] == ["My works", "My bookmarks", "Marked for later"]
    mine = links(entry_by_title(root, "My works"))["subsection"]
    assert (mine.get("href"), mine.get("type")) == (f"{BASE}/opds/mine", ACQUISITION)
    assert entry_titles(catalog("/opds/mine", **basic("bob"))) == ["Bob's own"]
    assert "Members only" in entry_titles(catalog("/opds/recent", **basic("bob")))


def test_bearer_token_shows_my_works_and_restricted_works(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    make_work(author, title="Members only", restricted=True)
    _, raw = ApiToken.issue(reader)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert "My works" in entry_titles(catalog("/opds/", NAVIGATION, **headers))
    assert "Members only" in entry_titles(catalog("/opds/recent", **headers))
    assert "private" in Client().get("/opds/recent", **headers)["Cache-Control"]


@pytest.mark.parametrize(
    "authorization",
    ["Basic " + base64.b64encode(b"bob:wrong").decode(), "Basic not-base64!", "Bearer cb_wrong", "Digest whatever"],
)
def test_a_wrong_credential_is_401(reader: User, authorization: str) -> None:
    response = Client().get("/opds/", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Chapbook"'


def test_login_prompts_guests_for_credentials(reader: User) -> None:
    assert Client().get("/opds/?login=1").status_code == 401
    assert Client().get("/opds/mine").status_code == 401
    assert Client().get("/opds/?login=1", **basic("bob")).status_code == 200


def test_it_ignores_the_session_cookie(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    """The catalog is for e-book readers: only the Authorization header identifies anyone."""
    make_work(author, title="Members only", restricted=True)
    response = client_for(reader).get("/opds/recent")
    assert entry_titles(ET.fromstring(response.content)) == []


def test_acquisition_feeds_answer_unchanged_requests_with_304(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author)
    etag = Client().get("/opds/recent")["ETag"]
    response = Client().get("/opds/recent", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response.content == b""


@pytest.mark.parametrize("url", ["/opds/recent", "/opds/fandoms", "/opds/search?q=work"])
def test_catalog_query_count_does_not_grow_with_the_works(
    author: User, make_work: Callable[..., Work], url: str
) -> None:
    for number in range(2):
        make_work(author, title=f"Work {number}", tags=default_tags(fandoms=[f"Fandom {number}"]))
    Client().get(url)  # the filter index catches up with the new works
    two = queries_for(Client(), url)
    for number in range(2, 10):
        make_work(author, title=f"Work {number}", tags=default_tags(fandoms=[f"Fandom {number}"]))
    Client().get(url)
    assert queries_for(Client(), url) == two


def test_collections_lead_to_each_collections_works(author: User, make_work: Callable[..., Work]) -> None:
    from chapbook.collections import services as collections

    fest = collections.create_collection(by=author, name="fest", title="Winter Fest")
    hidden = collections.create_collection(by=author, name="hidden", title="Hidden Fest", unrevealed=True)
    collections.add_work(fest, by=author, work=make_work(author, title="Snow"))
    collections.add_work(hidden, by=author, work=make_work(author, title="Not yet"))
    root = catalog("/opds/", NAVIGATION)
    assert links(entry_by_title(root, "Collections"))["subsection"].get("href") == f"{BASE}/opds/collections"
    index = catalog("/opds/collections", NAVIGATION)
    assert entry_titles(index) == ["Hidden Fest", "Winter Fest"]
    assert links(entry_by_title(index, "Winter Fest"))["subsection"].get("href") == f"{BASE}/opds/collections/fest"
    assert entry_titles(catalog("/opds/collections/fest")) == ["Snow"]
    # Unrevealed works are in no catalog, not even their creator's.
    assert entry_titles(catalog("/opds/collections/hidden", **basic("alice"))) == []


def test_shelves_show_only_the_readers_own_bookmarks_and_marks(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    from chapbook.feedback.bookmarks import save_bookmark
    from chapbook.feedback.history import mark_for_later

    save_bookmark(by=reader, work=make_work(author, title="Loved"))
    save_bookmark(by=reader, work=make_work(author, title="Secretly loved"), private=True)
    save_bookmark(by=author, work=make_work(author, title="Alice's own pick"))
    mark_for_later(by=reader, work=make_work(author, title="Tomorrow"))
    assert sorted(entry_titles(catalog("/opds/bookmarks", **basic("bob")))) == ["Loved", "Secretly loved"]
    assert entry_titles(catalog("/opds/later", **basic("bob"))) == ["Tomorrow"]
    assert entry_titles(catalog("/opds/bookmarks", **basic("alice"))) == ["Alice's own pick"]
    for url in ("/opds/bookmarks", "/opds/later"):
        assert Client().get(url).status_code == 401
