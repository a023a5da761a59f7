"""OPDS 1.2 catalog documents: navigation feeds, acquisition feeds and OpenSearch.

OPDS catalogs are Atom feeds with a profile in their media type, a few link relations
of their own, Dublin Core metadata and OpenSearch paging; the entries themselves are
the Atom entries of `feeds.atom`, plus acquisition links.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Page

from chapbook.feeds.atom import (
    FeedHead,
    Link,
    absolute,
    add_link,
    feed_element,
    rfc3339,
    sub,
    work_entry,
)
from chapbook.works.models import Work

DC_NS = "http://purl.org/dc/terms/"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
# The extension namespaces of catalog feeds, by the prefix the documents use.
CATALOG_NAMESPACES = {"dc": DC_NS, "opensearch": OPENSEARCH_NS}

NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPENSEARCH_TYPE = "application/opensearchdescription+xml"
REL_ACQUISITION = "http://opds-spec.org/acquisition"
REL_SORT_NEW = "http://opds-spec.org/sort/new"
EPUB = "application/epub+zip"
PDF = "application/pdf"


@dataclass
class NavigationItem:
    """One entry of a navigation feed: a link to another catalog feed."""

    id: str
    title: str
    href: str
    type: str
    updated: datetime
    rel: str = "subsection"
    content: str = ""


def catalog_links(*, self_href: str, self_type: str, up: str | None = None) -> list[Link]:
    """The links every catalog feed carries: itself, the root, the search, its parent."""
    links = [
        Link(rel="self", href=self_href, type=self_type),
        Link(rel="start", href=absolute("/opds/"), type=NAVIGATION, title=settings.SITE_NAME),
        Link(rel="search", href=absolute("/opds/opensearch.xml"), type=OPENSEARCH_TYPE, title="Search works"),
    ]
    if up is not None:
        links.append(Link(rel="up", href=up, type=NAVIGATION))
    return links


@dataclass
class PageUrl:
    """Absolute URL of page N of a feed, keeping its other query parameters (a search's q)."""

    path: str
    params: dict[str, str]
    acquisition: bool = True

    def __call__(self, number: int) -> str:
        query = urlencode({**self.params, "page": number} if number > 1 else self.params)
        return absolute(self.path) + (f"?{query}" if query else "")


def paging_links(page: Page, url_for_page: PageUrl) -> list[Link]:
    """first/previous/next/last links of one page of a catalog feed."""
    kind = ACQUISITION if url_for_page.acquisition else NAVIGATION
    links = [Link(rel="first", href=url_for_page(1), type=kind)]
    if page.has_previous():
        links.append(Link(rel="previous", href=url_for_page(page.previous_page_number()), type=kind))
    if page.has_next():
        links.append(Link(rel="next", href=url_for_page(page.next_page_number()), type=kind))
    links.append(Link(rel="last", href=url_for_page(page.paginator.num_pages), type=kind))
    return links


def add_opensearch_counts(feed: ET.Element, page: Page) -> None:
    sub(feed, "opensearch:totalResults", str(page.paginator.count))
    sub(feed, "opensearch:itemsPerPage", str(page.paginator.per_page))
    # 1-based, as OpenSearch counts; an empty feed starts at 1 too.
    sub(feed, "opensearch:startIndex", str(max(page.start_index(), 1)))


def navigation_feed(head: FeedHead, items: list[NavigationItem], page: Page | None = None) -> ET.Element:
    feed = feed_element(head, CATALOG_NAMESPACES)
    if page is not None:
        add_opensearch_counts(feed, page)
    for item in items:
        entry = sub(feed, "entry")
        sub(entry, "title", item.title)
        sub(entry, "id", item.id)
        sub(entry, "updated", rfc3339(item.updated))
        add_link(entry, Link(rel=item.rel, href=item.href, type=item.type))
        # RFC 4287 4.1.1.1: an entry without an alternate link needs content.
        sub(entry, "content", item.content or item.title, type="text")
    return feed


def acquisition_entry(work: Work) -> ET.Element:
    """A work's Atom entry with Dublin Core language and links to its downloads."""
    entry = work_entry(work)
    # dc:language before the links reads better in a catalog dump; order is free in Atom.
    sub(entry, "dc:language", work.language)
    if work.published_at:
        sub(entry, "dc:issued", work.published_at.date().isoformat())
    for kind, media_type in (("epub", EPUB), ("pdf", PDF)):
        add_link(entry, Link(rel=REL_ACQUISITION, href=absolute(f"/works/{work.pk}/download/{kind}"), type=media_type))
    return entry


def acquisition_feed(head: FeedHead, works: list[Work], page: Page) -> ET.Element:
    feed = feed_element(head, CATALOG_NAMESPACES)
    add_opensearch_counts(feed, page)
    for work in works:
        feed.append(acquisition_entry(work))
    return feed


def opensearch_description() -> ET.Element:
    """The OpenSearch 1.1 description readers fetch to learn how to search the catalog."""
    root = ET.Element("OpenSearchDescription", {"xmlns": OPENSEARCH_NS})
    sub(root, "ShortName", settings.SITE_NAME[:16])
    sub(root, "Description", f"Search the works of {settings.SITE_NAME}.")
    sub(root, "InputEncoding", "UTF-8")
    sub(root, "OutputEncoding", "UTF-8")
    sub(
        root,
        "Url",
        type=ACQUISITION,
        template=absolute("/opds/search?q={searchTerms}"),
    )
    return root
