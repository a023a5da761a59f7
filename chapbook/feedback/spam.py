"""Cheap signs that a guest comment is spam, so it waits for a creator instead of going up.

Nothing here refuses a comment: a false positive only delays it until a creator approves
it, which is why the rules can stay blunt.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.conf import settings

# Guests' comments with this many distinct links or more are held, as spam almost always
# carries several and a reader's comment rarely more than one.
DEFAULT_GUEST_LINK_LIMIT = 3

# Bare addresses in the text count too: spammers paste them without markup, and a
# reader's browser or mail client will still make them clickable.
_BARE_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)


def _normalised(url: str) -> str:
    # "https://Example.org/x/" and "example.org/x" are the same link to a spammer.
    url = url.strip().rstrip(".,;:!?)]}'\"/").lower()
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", url)


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.add(_normalised(href))

    def handle_data(self, data: str) -> None:
        self.links.update(_normalised(match) for match in _BARE_URL.findall(data))


def link_count(html: str) -> int:
    """How many distinct links a sanitized comment holds, linked or pasted as bare text."""
    collector = _LinkCollector()
    collector.feed(html)
    collector.close()
    collector.links.discard("")
    return len(collector.links)


def guest_link_limit() -> int:
    return int(getattr(settings, "CHAPBOOK_COMMENT_GUEST_LINK_LIMIT", DEFAULT_GUEST_LINK_LIMIT))


def should_hold_guest_comment(html: str) -> bool:
    """Whether a guest's (sanitized) comment looks like link spam and must wait for approval."""
    return link_count(html) >= guest_link_limit()


# The honeypot: a field people never see (hidden by CSS, aria-hidden, out of the tab
# order, no autofill) but form-filling bots do. Its name reads like a real field to them.
HONEYPOT_FIELD = "website"


def is_honeypot_filled(data: object) -> bool:
    """Whether a POST filled the honeypot; `data` is a QueryDict or a plain mapping."""
    get = getattr(data, "get", None)
    return bool(get and str(get(HONEYPOT_FIELD, "") or "").strip())
