"""Atom 1.0 (RFC 4287) documents built with ElementTree, so any title is well-formed XML.

Pure builders: they take works already loaded with their tags and creators (see
`works.selectors.with_blurb`) and never query the database themselves.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlparse

from django.conf import settings
from django.template.loader import render_to_string

from chapbook.works.models import Work

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"



def absolute(path: str) -> str:
    """An absolute URL on this archive: feeds are read far from the site, so no relative links."""
    return settings.BASE_URL + path


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def work_entry_id(work: Work) -> str:
    """A tag: URI (RFC 4151) for the work, stable across renames and feed URLs.

    The date is the day the work was created, when this archive's host surely named it.
    """
    host = urlparse(settings.BASE_URL).hostname or "localhost"
    return f"tag:{host},{work.created_at:%Y-%m-%d}:works/{work.pk}"


@dataclass
class Link:
    rel: str
    href: str
    type: str = ""
    title: str = ""


@dataclass
class FeedHead:
    """What the <feed> element says about itself."""

    id: str
    title: str
    updated: datetime
    links: list[Link] = field(default_factory=list)
    subtitle: str = ""


# Characters XML 1.0 cannot carry even escaped. ElementTree writes them anyway, and one
# control character pasted into a title would make the whole feed unreadable.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child element; `name` is an Atom name ("entry") or a prefixed one ("dc:language")
    whose prefix the document's root declares. Empty attributes are left out."""
    element = ET.SubElement(parent, name, {k: xml_text(v) for k, v in attrs.items() if v})
    if text is not None:
        element.text = xml_text(text)
    return element


def add_link(parent: ET.Element, link: Link) -> ET.Element:
    return sub(parent, "link", rel=link.rel, href=link.href, type=link.type, title=link.title)


def feed_element(head: FeedHead, namespaces: dict[str, str] | None = None) -> ET.Element:
    """A <feed> with its head; `namespaces` maps the prefixes its extension elements use."""
    # Namespaces are declared by hand and names written as the document shows them:
    # ElementTree's own prefix map is global to the process (another app registering a
    # default namespace would turn <feed> into <ns0:feed>), and its default_namespace
    # option refuses unprefixed attributes such as rel and href.
    feed = ET.Element("feed", {"xmlns": ATOM_NS} | {f"xmlns:{p}": uri for p, uri in (namespaces or {}).items()})
    sub(feed, "id", head.id)
    sub(feed, "title", head.title)
    if head.subtitle:
        sub(feed, "subtitle", head.subtitle)
    sub(feed, "updated", rfc3339(head.updated))
    # RFC 4287 4.1.1: a feed needs an author unless every entry has one; every entry does,
    # but the generator names the software for readers that show it.
    sub(feed, "generator", settings.SITE_NAME)
    for link in head.links:
        add_link(feed, link)
    return feed


def entry_content_html(work: Work) -> str:
    """The blurb's information as HTML: fandoms, rating, warnings, tags, stats, summary."""
    return render_to_string("feeds/_entry_content.html", {"work": work, "base_url": settings.BASE_URL})


def work_entry(work: Work) -> ET.Element:
    """An <entry> for one work, with everything a blurb shows."""
    entry = ET.Element("entry")
    sub(entry, "id", work_entry_id(work))
    sub(entry, "title", work.title)
    updated = work.updated_at or work.revised_at
    sub(entry, "updated", rfc3339(updated))
    if work.published_at:
        sub(entry, "published", rfc3339(work.published_at))
    # Atom needs an author: an anonymous work's (or one whose every credit is still a
    # pending invitation) is "Anonymous".
    for name in work.byline_names:
        sub(sub(entry, "author"), "name", name)
    add_link(entry, Link(rel="alternate", type="text/html", href=absolute(work.get_absolute_url())))
    scheme = absolute("/tags/")
    for tag in work.tags.all():
        sub(entry, "category", term=tag.name, scheme=scheme, label=tag.name)
    content = sub(entry, "content", entry_content_html(work))
    content.set("type", "html")
    return entry


def serialize(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def newest(moments: list[datetime | None], fallback: datetime) -> datetime:
    present = [moment for moment in moments if moment is not None]
    return max(present) if present else fallback
