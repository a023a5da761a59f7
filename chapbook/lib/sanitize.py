"""Allow-list HTML sanitizing for everything users write, and its plain-text twin.

nh3 (ammonia, an html5ever-based parser) does the actual cleaning: it parses the
way browsers do, so obfuscated markup cannot slip past a regex. A second, much
simpler pass walks the *input* with the standard library parser only to tell
authors what was taken out, so the preview can say "your <script> element was
removed" instead of silently eating it.

Decisions (the allow-lists follow AO3's, narrowed where noted):

* No ``style`` attribute anywhere: CSS can exfiltrate, overlay the site chrome
  or hide text, and a CSS sanitizer is a second attack surface.
* No ``class`` attribute: Chapbook has no work skins, so classes could only be
  used to borrow the site's own classes and spoof its UI (fake notices, hidden
  text). If skins arrive, allow classes with a per-work prefix, as AO3 does.
* ``<center>`` and ``align`` are kept: without ``style`` they are the only way
  authors can centre a scene break, and both are harmless.
* Links: http, https, mailto and *relative* URLs (in-archive links and
  ``#fn1`` footnotes), always with ``rel="nofollow noopener"`` forced on.
* Images: absolute http/https only. Relative sources would let a work make
  every reader's browser issue same-origin GETs to archive URLs.
* ``name`` on ``<a>`` is kept for footnote anchors (AO3 parity); it can shadow
  undeclared ``window`` globals, so site JavaScript must not rely on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Final

import nh3

__all__ = [
    "COMMENT_TAGS",
    "DROPPED_WITH_CONTENT",
    "SanitizeFn",
    "Sanitized",
    "WORK_TAGS",
    "html_to_text",
    "sanitize_comment_html",
    "sanitize_work_html",
    "strip_tags",
    "url_scheme",
]


@dataclass(frozen=True)
class Sanitized:
    """Cleaned HTML plus what was taken out, in order of first appearance."""

    html: str
    removed: list[str] = field(default_factory=list)


# Elements whose *content* is dropped along with the tag: their text is code,
# metadata or fallback that was never meant to be read (AO3 drops the same set,
# plus template, title and textarea, which only turn up in pasted pages and
# whose markup-looking content would otherwise be shown to readers as text).
DROPPED_WITH_CONTENT: Final = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "iframe",
        "noembed",
        "noframes",
        "xmp",
        "plaintext",
        "svg",
        "math",
        "title",
        "textarea",
    }
)

# A scheme-less (relative) URL; used as a member of the per-attribute sets below.
RELATIVE: Final = ""

_HEADINGS: Final = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

WORK_TAGS: Final = frozenset(
    {
        # text blocks and line breaks
        "p", "br", "div", "span", "center", "address", "hr", "pre", "blockquote",
        "figure", "figcaption",
        # phrase-level emphasis
        "em", "strong", "i", "b", "u", "small", "big", "cite", "abbr", "acronym",
        "dfn", "q", "code", "kbd", "samp", "var", "tt",
        # edits and strike-through
        "s", "strike", "del", "ins",
        "sub", "sup",
        # furigana, common in Japanese-language works
        "ruby", "rt", "rp",
        # lists
        "ul", "ol", "li", "dl", "dt", "dd",
        # tables (chat logs and letters are often laid out as tables)
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "col", "colgroup",
        "a", "img",
    }
    | _HEADINGS
)  # fmt: skip

_WORK_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = {
    "*": frozenset({"title", "dir", "lang", "align"}),
    "a": frozenset({"href", "name"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "blockquote": frozenset({"cite"}),
    "q": frozenset({"cite"}),
    "ol": frozenset({"start", "type", "reversed"}),
    "ul": frozenset({"type"}),
    "table": frozenset({"summary", "border", "width"}),
    "td": frozenset({"colspan", "rowspan", "abbr", "width", "height"}),
    "th": frozenset({"colspan", "rowspan", "abbr", "scope", "width", "height"}),
    "col": frozenset({"span", "width"}),
    "colgroup": frozenset({"span", "width"}),
    "hr": frozenset({"width"}),
}

# Comments sit many to a page under someone else's work: inline emphasis,
# quoting and links only, so nobody can post images, tables or giant headings.
COMMENT_TAGS: Final = frozenset(
    {
        "p", "br", "em", "strong", "i", "b", "u", "s", "strike", "del", "ins",
        "blockquote", "q", "cite", "abbr", "a", "code", "sub", "sup", "small", "big",
    }
)  # fmt: skip

_COMMENT_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = {
    # No align (layout) and no name (anchors would collide between comments).
    "*": frozenset({"title", "dir", "lang"}),
    "a": frozenset({"href"}),
}

_LINK_SCHEMES: Final = frozenset({"http", "https", "mailto", RELATIVE})
_IMAGE_SCHEMES: Final = frozenset({"http", "https"})
_CITE_SCHEMES: Final = frozenset({"http", "https", RELATIVE})

_URL_ATTRIBUTES: Final[Mapping[tuple[str, str], frozenset[str]]] = {
    ("a", "href"): _LINK_SCHEMES,
    ("img", "src"): _IMAGE_SCHEMES,
    # ammonia does not treat cite as a URL, so without this filter
    # cite="javascript:..." would survive (inert, but not something to store).
    ("blockquote", "cite"): _CITE_SCHEMES,
    ("q", "cite"): _CITE_SCHEMES,
}

# ammonia needs the union; the per-attribute sets are enforced by the filter.
_NH3_URL_SCHEMES: Final = {"http", "https", "mailto"}
_LINK_REL: Final = "nofollow noopener"


# --------------------------------------------------------------------------- URLs

# Browsers strip leading/trailing C0 controls and spaces, and delete tabs and
# newlines anywhere, before reading the scheme; "jav\tascript:" is javascript:.
_C0_AND_SPACE: Final = "".join(chr(code) for code in range(0x21))
_TAB_OR_NEWLINE: Final = re.compile(r"[\t\n\r]")
_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def url_scheme(url: str) -> str | None:
    """The lower-cased scheme a browser would see in ``url``, or None if relative."""
    cleaned = _TAB_OR_NEWLINE.sub("", url.strip(_C0_AND_SPACE))
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


def _url_allowed(url: str, allowed: frozenset[str]) -> bool:
    scheme = url_scheme(url)
    return (RELATIVE if scheme is None else scheme) in allowed


_URL_KINDS: Final[Mapping[tuple[str, str], str]] = {("a", "href"): "link", ("img", "src"): "image source"}


def _url_removal_note(tag: str, attribute: str, url: str) -> str:
    """E.g. "javascript: link", "data: image source", "relative image source"."""
    kind = _URL_KINDS.get((tag, attribute), f"address in {attribute} attribute on <{tag}>")
    scheme = url_scheme(url)
    return f"relative {kind}" if scheme is None else f"{scheme}: {kind}"


# ------------------------------------------------------------------------ policies


@dataclass(frozen=True)
class _Policy:
    tags: frozenset[str]
    attributes: Mapping[str, frozenset[str]]

    def allows_attribute(self, tag: str, attribute: str) -> bool:
        return attribute in self.attributes.get(tag, frozenset()) or attribute in self.attributes["*"]


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3 attribute_filter: enforce the per-attribute URL schemes nh3 can't express."""
    allowed = _URL_ATTRIBUTES.get((tag, attribute))
    if allowed is None or _url_allowed(value, allowed):
        return value
    return None


def _cleaner(policy: _Policy) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(policy.tags),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in policy.attributes.items()},
        attribute_filter=_keep_attribute,
        url_schemes=set(_NH3_URL_SCHEMES),
        link_rel=_LINK_REL,
        strip_comments=True,
    )


_WORK_POLICY: Final = _Policy(WORK_TAGS, _WORK_ATTRIBUTES)
_COMMENT_POLICY: Final = _Policy(COMMENT_TAGS, _COMMENT_ATTRIBUTES)
_WORK_CLEANER: Final = _cleaner(_WORK_POLICY)
_COMMENT_CLEANER: Final = _cleaner(_COMMENT_POLICY)


# --------------------------------------------------------------- stdlib parsing

# Only SVG and MathML honour "<x/>"; HTML ignores the slash, so "<script/>"
# still swallows everything up to "</script>".
_FOREIGN_ROOTS: Final = frozenset({"svg", "math"})


def _opens_subtree(tag: str) -> bool:
    """Whether a self-closed ``<tag/>`` of a dropped element still hides what follows."""
    return tag in DROPPED_WITH_CONTENT and tag not in _FOREIGN_ROOTS


class _LenientParser(HTMLParser):
    """HTMLParser nudged towards how browsers (and nh3) read broken comments.

    * The stdlib treats "<![" as an SGML marked section and raises
      AssertionError on keywords it doesn't know ("<![foo["): a typo in a
      chapter would become a server error. HTML reads it as a bogus comment.
    * An unterminated comment, processing instruction or tag runs to the end
      of the input in HTML and is dropped; the stdlib would hand it back as
      text. Our parsers are always fed a whole document in one go, so
      "unterminated" really means "until the end".
    """

    def parse_html_declaration(self, i: int) -> int:
        if self.rawdata.startswith("<![", i):
            return self.parse_bogus_comment(i)
        return super().parse_html_declaration(i)

    def parse_comment(self, i: int, report: bool = True) -> int:
        end = super().parse_comment(i, report)
        return end if end >= 0 else self._comment_to_end(i + 4)

    def parse_bogus_comment(self, i: int, report: bool = True) -> int:
        end = super().parse_bogus_comment(i, report)
        return end if end >= 0 else self._comment_to_end(i + 2)

    def _comment_to_end(self, start: int) -> int:
        self.handle_comment(self.rawdata[start:])
        return len(self.rawdata)

    def parse_pi(self, i: int) -> int:
        end = super().parse_pi(i)
        return end if end >= 0 else len(self.rawdata)

    def parse_starttag(self, i: int) -> int:
        end = super().parse_starttag(i)
        return end if end >= 0 else self._unterminated_tag(i)

    def parse_endtag(self, i: int) -> int:
        end = super().parse_endtag(i)
        return end if end >= 0 else self._unterminated_tag(i)

    def _unterminated_tag(self, i: int) -> int:
        # Only when no ">" follows is the tag truly cut off; otherwise keep the
        # stdlib's own recovery (it returns -1 for some odd but closed tags).
        # A bare "</" at the very end is text to a browser, too.
        if self.rawdata.find(">", i) >= 0 or self.rawdata[i:] == "</":
            return -1
        return len(self.rawdata)


# ------------------------------------------------------------------ removal report


class _RemovalReporter(_LenientParser):
    """Lists what the policy will remove from the input, for the author's preview.

    This is a report only; nh3 decides what is removed. The two parsers can
    disagree on mangled markup, so the list is best-effort, never a guarantee.
    """

    def __init__(self, policy: _Policy) -> None:
        super().__init__(convert_charrefs=True)
        self._policy = policy
        self._dropping: list[str] = []  # open elements whose whole content goes
        self._notes: dict[str, None] = {}  # an ordered set

    @property
    def notes(self) -> list[str]:
        return list(self._notes)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._inspect(tag, attrs)
        if tag in DROPPED_WITH_CONTENT:
            self._dropping.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if _opens_subtree(tag):
            self.handle_starttag(tag, attrs)
        else:
            self._inspect(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._dropping:
            del self._dropping[len(self._dropping) - 1 - self._dropping[::-1].index(tag)]

    def handle_comment(self, data: str) -> None:
        # Worth reporting: authors sometimes hide notes to themselves in comments.
        if not self._dropping:
            self._note("HTML comment")

    def _note(self, text: str) -> None:
        self._notes.setdefault(text, None)

    def _inspect(self, tag: str, attrs: Iterable[tuple[str, str | None]]) -> None:
        if self._dropping:
            return  # already reported as part of the dropped ancestor
        if tag not in self._policy.tags:
            self._note(f"<{tag}> element")
            return
        seen: set[str] = set()
        for name, value in attrs:
            if name in seen:
                continue  # browsers (and nh3) keep only the first of duplicates
            seen.add(name)
            if tag == "a" and name == "rel":
                continue  # replaced by our own rel, not lost
            if not self._policy.allows_attribute(tag, name):
                self._note(f"{name} attribute on <{tag}>")
                continue
            allowed = _URL_ATTRIBUTES.get((tag, name))
            if allowed is not None and value is not None and not _url_allowed(value, allowed):
                self._note(_url_removal_note(tag, name, value))


def _removed(html: str, policy: _Policy) -> list[str]:
    reporter = _RemovalReporter(policy)
    reporter.feed(html)
    reporter.close()
    return reporter.notes


# Mis-nested input (<h1><a><h1></a>) can leave a tree whose serialisation a
# parser reads back differently, so cleaning it again would change it. Saved
# HTML must be a fixed point, or every edit would silently rewrite the work.
# In our fuzzing a second pass always settled it; the cap is only a backstop.
_MAX_PASSES: Final = 4


def _clean_until_stable(cleaner: nh3.Cleaner, html: str) -> str:
    cleaned = cleaner.clean(html)
    for _ in range(_MAX_PASSES - 1):
        again = cleaner.clean(cleaned)
        if again == cleaned:
            break
        cleaned = again
    return cleaned


def _sanitize(html: str, policy: _Policy, cleaner: nh3.Cleaner) -> Sanitized:
    if not html:
        return Sanitized("", [])
    return Sanitized(_clean_until_stable(cleaner, html), _removed(html, policy))


# Either sanitizer, for callers that pick one per context.
SanitizeFn = Callable[[str], Sanitized]


def sanitize_work_html(html: str) -> Sanitized:
    """Clean work text, notes and summaries against the work allow-list."""
    return _sanitize(html, _WORK_POLICY, _WORK_CLEANER)


def sanitize_comment_html(html: str) -> Sanitized:
    """Clean a comment against the smaller comment allow-list.

    Blocks the comment list doesn't allow (headings, list items, table cells)
    would otherwise run together as "TitleFirst item"; they are turned into
    line breaks first, on the work cleaner's canonical output where every
    literal ``<`` starts a tag. The final nh3 pass is what makes it safe.
    """
    if not html:
        return Sanitized("", [])
    canonical = _WORK_CLEANER.clean(html)
    cleaned = _clean_until_stable(_COMMENT_CLEANER, _blocks_to_breaks(canonical))
    return Sanitized(cleaned, _removed(html, _COMMENT_POLICY))


# Blocks whose end is a line end when flattened for comments; cells end in a space.
_FLATTENED_LINE_ENDS: Final = _HEADINGS | {
    "div", "center", "address", "pre", "figure", "figcaption", "li", "dt", "dd", "tr", "caption",
}  # fmt: skip
_FLATTEN: Final = re.compile(
    r"</(?P<line>" + "|".join(sorted(_FLATTENED_LINE_ENDS)) + r")>"
    r"|<(?P<rule>hr)\b[^>]*>"
    r"|</(?P<cell>td|th)>"
)


def _blocks_to_breaks(canonical_html: str) -> str:
    def replace(match: re.Match[str]) -> str:
        return " " if match.group("cell") else "<br>"

    return _FLATTEN.sub(replace, canonical_html)


# ---------------------------------------------------------------------- plain text

# Blocks that browsers set apart with a margin: a blank line in plain text.
_PARAGRAPH_BLOCKS: Final = (
    frozenset(
        {
            "p", "blockquote", "pre", "ul", "ol", "dl", "table", "figure",
            "section", "article", "aside", "header", "footer", "main", "nav", "details",
        }
    )
    | _HEADINGS
)  # fmt: skip
# Blocks without a margin: they only start a new line.
_LINE_BLOCKS: Final = frozenset(
    {"div", "center", "address", "li", "dt", "dd", "tr", "caption", "figcaption", "summary", "form", "fieldset"}
)
_LISTS: Final = frozenset({"ul", "ol"})
# Everything HTML treats as inter-word space; NBSP too, because plain-text
# consumers (search, feeds, word counts) want it to separate words, not glue them.
_COLLAPSIBLE_SPACE: Final = re.compile("[ \t\n\r\f\v\u00a0]+")


class _TextExtractor(_LenientParser):
    """Renders HTML to readable plain text, roughly as a browser lays it out."""

    def __init__(self, *, decorate: bool) -> None:
        super().__init__(convert_charrefs=True)
        self._decorate = decorate  # bullets and scene-break markers for humans
        self._chunks: list[str] = []
        self._owed_newlines = 0  # block boundaries wait until text follows them
        self._owed_space = False
        self._skipping: list[str] = []
        self._pre_depth = 0
        self._pre_just_opened = False
        self._lists: list[list[int]] = []  # per open list: [is_ordered, next number]
        self._cells_in_row = 0

    # -- output primitives

    def _trailing_newlines(self) -> int:
        count = 0
        for chunk in reversed(self._chunks):
            stripped = chunk.rstrip("\n")
            count += len(chunk) - len(stripped)
            if stripped:
                break
        return count

    def _flush_newlines(self) -> None:
        if self._owed_newlines and self._chunks:
            missing = self._owed_newlines - self._trailing_newlines()
            if missing > 0:
                self._chunks.append("\n" * missing)
        self._owed_newlines = 0

    def _at_line_start(self) -> bool:
        return not self._chunks or self._owed_newlines > 0 or self._chunks[-1].endswith("\n")

    def _write(self, text: str) -> None:
        if self._owed_space and not self._at_line_start():
            self._chunks.append(" ")
        self._flush_newlines()
        self._owed_space = False
        self._chunks.append(text)

    def _block_break(self, newlines: int) -> None:
        self._owed_newlines = max(self._owed_newlines, newlines)
        self._owed_space = False

    def _hard_newline(self) -> None:
        if self._chunks:
            self._flush_newlines()
            self._chunks.append("\n")
        self._owed_space = False

    # -- parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._skipping.append(tag)
            return
        if self._skipping:
            return
        if tag == "br":
            self._hard_newline()
        elif tag == "hr":
            self._block_break(2)
            if self._decorate:
                self._write("* * *")
                self._block_break(2)
        elif tag == "li":
            self._block_break(1)
            if self._decorate:
                self._write(self._bullet())
        elif tag == "tr":
            self._block_break(1)
            self._cells_in_row = 0
        elif tag in ("td", "th"):
            if self._cells_in_row:
                self._write("\t")
            self._cells_in_row += 1
        elif tag in _LISTS:
            # Nested lists sit tight under their parent item.
            self._block_break(1 if self._lists else 2)
            self._lists.append([tag == "ol", _list_start(attrs)])
        elif tag in _PARAGRAPH_BLOCKS:
            self._block_break(2)
        elif tag in _LINE_BLOCKS:
            self._block_break(1)
        if tag == "pre":
            self._pre_depth += 1
            self._pre_just_opened = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if _opens_subtree(tag):
            self.handle_starttag(tag, attrs)
        elif tag not in DROPPED_WITH_CONTENT:
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            if tag in self._skipping:
                del self._skipping[len(self._skipping) - 1 - self._skipping[::-1].index(tag)]
            return
        if self._skipping:
            return
        if tag in _LISTS:
            if self._lists:
                self._lists.pop()
            self._block_break(1 if self._lists else 2)
        elif tag in _PARAGRAPH_BLOCKS:
            self._block_break(2)
        elif tag in _LINE_BLOCKS:
            self._block_break(1)
        if tag == "pre" and self._pre_depth:
            self._pre_depth -= 1

    def handle_data(self, data: str) -> None:
        data = data.replace("\x00", "")  # browsers ignore NUL in text
        if self._skipping or not data:
            return
        if self._pre_depth:
            if self._pre_just_opened and data.startswith("\n"):
                data = data[1:]  # HTML ignores a newline right after <pre>
            self._pre_just_opened = False
            if data:
                self._write(data)
            return
        collapsed = _COLLAPSIBLE_SPACE.sub(" ", data)
        core = collapsed.strip(" ")
        if not core:
            self._owed_space = True
            return
        if collapsed.startswith(" "):
            self._owed_space = True
        self._write(core)
        self._owed_space = collapsed.endswith(" ")

    def _bullet(self) -> str:
        if not self._lists or not self._lists[-1][0]:
            return "• "
        number = self._lists[-1][1]
        self._lists[-1][1] += 1
        return f"{number}. "

    def text(self) -> str:
        return "".join(self._chunks).rstrip()


def _list_start(attrs: list[tuple[str, str | None]]) -> int:
    for name, value in attrs:
        if name == "start" and value is not None:
            try:
                return int(value.strip())
            except ValueError:
                return 1
    return 1


def html_to_text(html: str, *, decorate: bool = True) -> str:
    """Plain text of ``html``; ``decorate`` adds list bullets and ``* * *`` for <hr>."""
    extractor = _TextExtractor(decorate=decorate)
    extractor.feed(html)
    extractor.close()
    return extractor.text()


def strip_tags(html: str) -> str:
    """Readable plain text of ``html``, for TXT downloads, search and feeds.

    Entities are decoded, script/style-like content is dropped, paragraphs are
    separated by a blank line and line-level blocks (list items, table rows,
    <br>) by a newline. Runs of whitespace, NBSP included, collapse to one
    space outside <pre>.
    """
    return html_to_text(html, decorate=True)


# ------------------------------------------------------------ comments (threads)

# What a comment under a work may contain: paragraphs, emphasis, quotes of the
# work, lists and code, and links. Smaller than the work list on purpose: no
# images (a comment must not make readers' browsers fetch anything), no
# headings or tables (a comment must not outshout the work), and no
# presentational attributes at all.
COMMENT_BODY_TAGS: Final = frozenset(
    {
        "p", "br", "em", "i", "strong", "b", "u", "s", "del",
        "a", "blockquote", "ul", "ol", "li", "code", "pre",
    }
)  # fmt: skip
_COMMENT_BODY_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = {"*": frozenset(), "a": frozenset({"href"})}
# "ugc" tells search engines the link was written by a visitor, not vouched for by
# the archive: links in comments are where spam goes.
_COMMENT_LINK_REL: Final = "nofollow ugc noopener"
_COMMENT_BODY_CLEANER: Final = nh3.Cleaner(
    tags=set(COMMENT_BODY_TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in _COMMENT_BODY_ATTRIBUTES.items()},
    attribute_filter=_keep_attribute,
    url_schemes=set(_NH3_URL_SCHEMES),
    link_rel=_COMMENT_LINK_REL,
    strip_comments=True,
)

# Markup that lays out blocks itself: its author wrote HTML, so their line breaks are
# source formatting, not paragraphs.
_BLOCK_MARKUP: Final = re.compile(
    r"<\s*/?\s*(?:p|br|div|blockquote|pre|ul|ol|li|h[1-6]|table|tr|hr)\b", re.IGNORECASE
)
_BLANK_LINE: Final = re.compile(r"\n[ \t\u00a0]*\n\s*")

# Blocks outside the comment list, which would run together as "TitleFirst row" once
# their tags went: each ends a line instead. Applied to the work cleaner's canonical
# output, in which every literal "<" starts a tag.
_COMMENT_FLATTENED: Final = (_FLATTENED_LINE_ENDS - COMMENT_BODY_TAGS) | {"dl"}
_COMMENT_FLATTEN: Final = re.compile(
    r"</(?P<line>" + "|".join(sorted(_COMMENT_FLATTENED)) + r")>"
    r"|<(?P<rule>hr)\b[^>]*>"
    r"|</(?P<cell>td|th)>"
)


def _text_to_paragraphs(text: str) -> str:
    """Plain text as typed in a textarea: a blank line starts a paragraph, a newline breaks a line."""
    paragraphs = [chunk.strip() for chunk in _BLANK_LINE.split(text.strip())]
    return "".join(f"<p>{chunk.replace(chr(10), '<br>')}</p>" for chunk in paragraphs if chunk)


def _comment_pass(html: str) -> str:
    canonical = _WORK_CLEANER.clean(html)
    flattened = _COMMENT_FLATTEN.sub(lambda m: " " if m.group("cell") else "<br>", canonical)
    cleaned = _clean_until_stable(_COMMENT_BODY_CLEANER, flattened)
    if not cleaned.strip():
        return ""
    if not _BLOCK_MARKUP.search(cleaned):
        # Markup that flattened to inline text only (a lone table, say) would be read as
        # plain text next time and gain a paragraph then: it gets it now.
        cleaned = _clean_until_stable(_COMMENT_BODY_CLEANER, f"<p>{cleaned}</p>")
    return cleaned


def sanitize_comment(html: str) -> str:
    """Clean a comment as typed: plain text (line breaks become paragraphs) or HTML.

    Text without any block markup is read the way people type in a textarea, so
    "Loved it!\n\nMore please" becomes two paragraphs; inline tags in it still work.
    The result is a fixed point: cleaning it again changes nothing, so an edit that
    changes nothing stores the same HTML. (Whole passes repeat because HTML parsing is
    not quite idempotent: a newline opening a <pre> is dropped each time it is read.)
    """
    text = html.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return ""
    if not _BLOCK_MARKUP.search(text):
        text = _text_to_paragraphs(text)
    cleaned = _comment_pass(text)
    for _ in range(_MAX_PASSES - 1):
        again = _comment_pass(cleaned)
        if again == cleaned:
            break
        cleaned = again
    return cleaned
