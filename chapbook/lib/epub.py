"""EPUB 3 downloads, written with the standard library only.

A `Book` (or an `Omnibus` of them) becomes a zip that EPUBCheck accepts without
errors or warnings: the mimetype entry first and stored, a container, a package
document with full Dublin Core metadata, a navigation document, an SVG cover,
a title page, a preface, one XHTML file per chapter and the end notes.

Work HTML is sanitized HTML5 (or, in old rows and tests, tag soup), but EPUB
content documents must be well-formed XHTML that also validates against the HTML
schema EPUBCheck uses. `to_xhtml` rebuilds a fragment as such: it closes what
was left open, fixes the few content-model mistakes browsers silently repair
(a table inside a <p>, an <li> outside a list), renames elements HTML5 made
obsolete and drops only what cannot be made valid.

Nothing is ever fetched: an image becomes its alt text (an image that cannot be
fetched must become its alt text anyway, and EPUBCheck warns about remote
resources), so downloads never depend on, or leak readers to, image hosts.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Final
from urllib.parse import quote, urlsplit

from chapbook.downloads.book import Book, BookChapter, Omnibus
from chapbook.lib.sanitize import DROPPED_WITH_CONTENT, html_to_text

__all__ = ["render_epub", "render_series_epub", "to_xhtml"]

# --------------------------------------------------------------------- escaping

# XML 1.0 forbids C0 controls, surrogates and U+FFFE/FFFF; the HTML checker also
# rejects C1 controls and noncharacters, so all of them go.
_BAD_CHARS: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff"
    "\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff"
    "\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff\U000cfffe\U000cffff"
    "\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)
_TEXT_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ESCAPES: Final = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)


def _clean(text: str) -> str:
    return _BAD_CHARS.sub("", text)


def _esc(text: str) -> str:
    """Text content, safe inside an XML element."""
    return _clean(text).translate(_TEXT_ESCAPES)


def _attr(text: str) -> str:
    """Text safe inside a double-quoted XML attribute."""
    return _clean(text).translate(_ATTR_ESCAPES)


# ------------------------------------------------------------- HTML5 -> XHTML

# HTML5 made these obsolete; EPUBCheck's schema rejects them, so they are renamed
# to their modern equivalent (with a class the stylesheet knows) instead of dropped.
_RENAMED: Final[dict[str, tuple[str, str]]] = {
    "center": ("div", "center"),
    "big": ("span", "big"),
    "tt": ("code", ""),
    "strike": ("s", ""),
    "acronym": ("abbr", ""),
    "address": ("div", "address"),
    # figcaption must be the first or last child of its figure; divs keep the text
    # without a position rule that tag soup would break.
    "figure": ("div", "figure"),
    "figcaption": ("div", "figcaption"),
}

_PHRASING: Final = frozenset(
    {
        "span", "em", "strong", "i", "b", "u", "small", "cite", "abbr", "dfn", "q", "code",
        "kbd", "samp", "var", "s", "del", "ins", "sub", "sup", "ruby", "rt", "rp", "a", "br",
    }
)  # fmt: skip
_HEADINGS: Final = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Block elements that may only hold phrasing content.
_PHRASING_BLOCKS: Final = frozenset({"p", "pre", "dt", "caption"}) | _HEADINGS
# Elements that may hold both blocks and phrasing content.
_FLOW_CONTAINERS: Final = frozenset(
    {"#root", "div", "blockquote", "li", "dd", "td", "th"}
)
_FLOW: Final = (
    frozenset({"p", "div", "hr", "pre", "blockquote", "ul", "ol", "dl", "table"})
    | _HEADINGS
)
_VOID: Final = frozenset({"br", "hr"})
_KNOWN: Final = (
    _PHRASING
    | _FLOW
    | _PHRASING_BLOCKS
    | frozenset({"li", "dd", "td", "th", "tr", "tbody", "thead", "tfoot", "img"})
)

# Elements that only make sense inside a particular parent.
_PARENTS: Final[dict[str, frozenset[str]]] = {
    "li": frozenset({"ul", "ol"}),
    "dt": frozenset({"dl"}),
    "dd": frozenset({"dl"}),
    "tr": frozenset({"tbody", "thead", "tfoot"}),
    "td": frozenset({"tr"}),
    "th": frozenset({"tr"}),
    "caption": frozenset({"table"}),
    "thead": frozenset({"table"}),
    "tbody": frozenset({"table"}),
    "tfoot": frozenset({"table"}),
    "rt": frozenset({"ruby"}),
    "rp": frozenset({"ruby"}),
}
_TABLE_PARTS: Final = frozenset(
    {"table", "caption", "thead", "tbody", "tfoot", "tr", "td", "th"}
)
# While looking for an element's parent, these are never closed on the way.
_BARRIERS: Final[dict[str, frozenset[str]]] = {
    "li": frozenset({"blockquote", "dl", "dd", "dt"}) | _TABLE_PARTS,
    "dt": frozenset({"blockquote", "ul", "ol", "li"}) | _TABLE_PARTS,
    "dd": frozenset({"blockquote", "ul", "ol", "li"}) | _TABLE_PARTS,
    "tr": frozenset({"table"}),
    "td": frozenset({"table", "tbody", "thead", "tfoot"}),
    "th": frozenset({"table", "tbody", "thead", "tfoot"}),
    "caption": frozenset(),
    "thead": frozenset(),
    "tbody": frozenset(),
    "tfoot": frozenset(),
    "rt": _FLOW | _FLOW_CONTAINERS | _PHRASING_BLOCKS,
    "rp": _FLOW | _FLOW_CONTAINERS | _PHRASING_BLOCKS,
}
# What to open inside a structural element to hold content it cannot take itself.
_WRAPPERS: Final[dict[str, str]] = {
    "ul": "li", "ol": "li", "dl": "dd", "table": "tbody", "tbody": "tr", "thead": "tr",
    "tfoot": "tr", "tr": "td",
}  # fmt: skip
# What to open around a structural element found outside its parent.
_IMPLIED_PARENT: Final[dict[str, str]] = {
    "li": "ul", "dt": "dl", "dd": "dl", "tr": "table", "td": "table", "th": "table",
    "caption": "table", "thead": "table", "tbody": "table", "tfoot": "table",
}  # fmt: skip
_STRUCTURAL: Final = frozenset(_WRAPPERS)
_NO_SELF_NESTING: Final = frozenset({"a", "dfn"})
_ALIGN: Final = frozenset({"left", "center", "right", "justify"})
_LANG: Final = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_HOST: Final = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.?"
)
_PERCENT: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Characters a URL may carry unescaped; everything else is percent-encoded.
_URL_SAFE: Final = "-._~:/?#[]@!$&'()*+,;=%"


def _safe_url(url: str, schemes: frozenset[str]) -> str | None:
    """``url`` percent-encoded so the HTML checker accepts it, or None if it can't be kept.

    Relative and fragment links are dropped: nothing they point to is in the EPUB.
    """
    url = _clean(url).strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port the checker would reject too
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        return None
    if scheme == "mailto":
        if not parts.path or "@" not in parts.path:
            return None
    else:
        host = parts.hostname or ""
        if (
            not _HOST.fullmatch(host)
            or parts.username is not None
            or parts.password is not None
        ):
            return None
    encoded = quote(_PERCENT.sub("%25", url), safe=_URL_SAFE)
    # A fragment may not contain another "#".
    head, sep, fragment = encoded.partition("#")
    return head + sep + fragment.replace("#", "%23")


def _positive(value: str, highest: int, lowest: int = 1) -> str | None:
    value = value.strip()
    return (
        str(int(value)) if value.isdigit() and lowest <= int(value) <= highest else None
    )


def _attributes(
    tag: str, attrs: list[tuple[str, str | None]], css_class: str
) -> list[tuple[str, str]]:
    """The attributes of ``tag`` that are valid HTML5, in a fixed order."""
    given = {name.lower(): (value or "") for name, value in attrs}
    out: list[tuple[str, str]] = []
    classes = [css_class] if css_class else []
    align = given.get("align", "").strip().lower()
    if align in _ALIGN:
        classes.append(f"align-{align}")
    if classes:
        out.append(("class", " ".join(classes)))
    if "title" in given:
        out.append(("title", given["title"]))
    direction = given.get("dir", "").strip().lower()
    if direction in {"ltr", "rtl", "auto"}:
        out.append(("dir", direction))
    lang = given.get("lang", "").strip()
    if _LANG.fullmatch(lang):
        out.append(("lang", lang))
        out.append(("xml:lang", lang))
    if tag == "a" and "href" in given:
        href = _safe_url(given["href"], frozenset({"http", "https", "mailto"}))
        if href:
            out.append(("href", href))
    elif tag in {"blockquote", "q"} and "cite" in given:
        cite = _safe_url(given["cite"], frozenset({"http", "https"}))
        if cite:
            out.append(("cite", cite))
    elif tag == "ol":
        start = given.get("start", "").strip()
        if re.fullmatch(r"-?[0-9]{1,9}", start):
            out.append(("start", str(int(start))))
        if given.get("type", "").strip() in {"1", "a", "A", "i", "I"}:
            out.append(("type", given["type"].strip()))
        if "reversed" in given:
            out.append(("reversed", "reversed"))
    elif tag in {"td", "th"}:
        colspan = _positive(given.get("colspan", ""), 1000)
        if colspan:
            out.append(("colspan", colspan))
        rowspan = _positive(given.get("rowspan", ""), 65534, 0)
        if rowspan:
            out.append(("rowspan", rowspan))
        scope = given.get("scope", "").strip().lower()
        if tag == "th" and scope in {"row", "col", "rowgroup", "colgroup"}:
            out.append(("scope", scope))
    return out


@dataclass(eq=False)
class _Node:
    tag: str
    attrs: list[tuple[str, str]] = field(default_factory=list)
    children: list[_Node | str] = field(default_factory=list)
    source: str | None = (
        None  # the tag name an end tag must use to close it; None if implied
    )

    def child_tags(self) -> Iterator[str]:
        return (child.tag for child in self.children if isinstance(child, _Node))


class _XhtmlBuilder(HTMLParser):
    """Builds a tree that satisfies the HTML content models EPUBCheck enforces."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root")
        self.stack: list[_Node] = [self.root]
        self.skipping: str | None = None  # inside <script> & co: content is dropped

    # -- content-model rules

    def _accepts(self, parent: _Node, tag: str) -> bool:
        """May ``tag`` ("#text" for text) be a child of ``parent`` right now?"""
        ptag = parent.tag
        if tag in _NO_SELF_NESTING and any(node.tag == tag for node in self.stack):
            return False  # links inside links, definitions inside definitions
        if ptag in _STRUCTURAL:
            if ptag in {"ul", "ol"}:
                return tag == "li"
            if ptag == "dl":
                return tag in {"dt", "dd"}
            if ptag == "tr":
                return tag in {"td", "th"}
            if ptag in {"tbody", "thead", "tfoot"}:
                return tag == "tr"
            # table: caption first, thead before bodies, one tfoot last
            seen = list(parent.child_tags())
            if tag == "caption":
                return not seen
            if tag == "thead":
                return not any(t in {"thead", "tbody", "tfoot"} for t in seen)
            if tag == "tbody":
                return "tfoot" not in seen
            if tag == "tfoot":
                return "tfoot" not in seen
            return False
        if tag in _PARENTS:
            return ptag in _PARENTS[tag]
        if ptag == "ruby" and tag == "ruby":
            return False
        if ptag == "rp":
            return tag == "#text"  # a fallback parenthesis holds text only
        if tag == "#text" or tag in _PHRASING:
            return (
                ptag in _FLOW_CONTAINERS
                or ptag in _PHRASING_BLOCKS
                or ptag in _PHRASING
            )
        if tag in _FLOW:
            return ptag in _FLOW_CONTAINERS
        return False

    def _parent_in_scope(self, tag: str) -> bool:
        parents = _PARENTS.get(tag)
        if parents is None:
            return False
        barriers = _BARRIERS[tag]
        for node in reversed(self.stack):
            if node.tag in parents:
                return True
            if node.tag in barriers or node.tag == "#root":
                return False
        return False

    def _pop(self) -> None:
        node = self.stack.pop()
        if node.tag in _HEADINGS and not _has_text(node):
            node.tag = (
                "p"  # EPUBCheck rejects empty headings; an empty paragraph is harmless
            )
        elif node.tag == "ruby":
            _fix_ruby(node, self.stack[-1])
        elif node.tag == "dl":
            _fix_definition_list(node)

    def _push(self, node: _Node) -> None:
        self.stack[-1].children.append(node)
        if node.tag in _VOID:
            return
        self.stack.append(node)

    def _place(self, tag: str) -> str:
        """Close or open elements until ``tag`` may be added; returns the tag to add."""
        if tag in {"rt", "rp"} and not self._parent_in_scope(tag):
            tag = "span"
        while True:
            current = self.stack[-1]
            if self._accepts(current, tag):
                return tag
            if (
                tag in _PARENTS
                and current.tag not in _PARENTS[tag]
                and self._parent_in_scope(tag)
            ):
                self._pop()
            elif current.tag == "table" and tag == "caption":
                tag = "td"  # a late caption: keep its text as a cell
            elif current.tag == "table" and tag == "thead":
                tag = "tbody"  # a late head: a body like the others
            elif current.tag == "table" and not self._accepts(current, "tbody"):
                # Rows after the table's foot: go on in a new table.
                source = current.source
                self._pop()
                self._push(_Node("table", source=source))
            elif current.tag in _STRUCTURAL and not (
                tag in _PARENTS and current.tag in _PARENTS[tag]
            ):
                # Implied elements can still be closed by an end tag of their name.
                wrapper = _WRAPPERS[current.tag]
                self._push(_Node(wrapper, source=wrapper))
            elif tag in _IMPLIED_PARENT and current.tag in _FLOW_CONTAINERS:
                implied = _IMPLIED_PARENT[tag]
                self._push(_Node(implied, source=implied))
            elif current.tag == "#root":
                return tag  # cannot happen for known tags; keeps the loop finite
            else:
                self._pop()

    # -- parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            return
        if tag in DROPPED_WITH_CONTENT:
            self.skipping = tag
            return
        source = tag
        tag, css_class = _RENAMED.get(tag, (tag, ""))
        if tag == "img":
            alt = " ".join((dict(attrs).get("alt") or "").split())
            self._place("span")
            self._push(
                _Node(
                    "span",
                    [("class", "image-alt")],
                    [f"[Image: {alt}]" if alt else "[Image]"],
                )
            )
            self._pop()
            return
        if tag not in _KNOWN:
            return  # unknown element: its content stays, the tag goes
        if tag == "a":
            attributes = _attributes(tag, attrs, css_class)
            if not any(name == "href" for name, _ in attributes):
                tag = "span"  # a link that can't work in the book: keep its text
        else:
            attributes = _attributes(tag, attrs, css_class)
        tag = self._place(tag)
        self._push(_Node(tag, attributes, source=None if tag in _VOID else source))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and tag != "img":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping:
                self.skipping = None
            return
        if tag in _VOID or tag == "img":
            return
        for index in range(len(self.stack) - 1, 0, -1):
            node = self.stack[index]
            if node.source == tag:
                while len(self.stack) > index:
                    self._pop()
                return
            if node.tag in _TABLE_PARTS and tag not in _TABLE_PARTS:
                return  # an end tag may not close a table from inside a cell
        # A stray end tag (nothing of that name is open) is ignored, as browsers mostly do.

    def handle_data(self, data: str) -> None:
        if self.skipping or not data:
            return
        current = self.stack[-1]
        if not data.strip(" \t\n\r\f"):
            if self._accepts(current, "#text"):
                current.children.append(data)
            return
        self._place("#text")
        self.stack[-1].children.append(data)

    def close(self) -> None:
        super().close()
        while len(self.stack) > 1:
            self._pop()


def _has_text(node: _Node) -> bool:
    pending = [node]
    while pending:  # iterative: tag soup nests deeper than the recursion limit
        for child in pending.pop().children:
            if isinstance(child, str):
                if child.strip():
                    return True
            else:
                pending.append(child)
    return False


def _fix_ruby(node: _Node, parent: _Node) -> None:
    """A ruby needs an annotation, and each fallback parenthesis must pair up as rp, rt, rp."""
    if "rt" not in node.child_tags():
        node.tag = "span"
        for child in node.children:
            if isinstance(child, _Node) and child.tag == "rp":
                child.tag = "span"
        return
    tokens = [
        c.tag if isinstance(c, _Node) else "#text"
        for c in node.children
        if not isinstance(c, str) or c.strip()
    ]
    paired = all(
        tokens[i + 1 : i + 3] == ["rt", "rp"]
        or (i >= 2 and tokens[i - 2 : i] == ["rp", "rt"])
        for i, token in enumerate(tokens)
        if token == "rp"
    )
    if not paired:
        # Parentheses are only a fallback for readers without ruby support.
        node.children = [
            c for c in node.children if not (isinstance(c, _Node) and c.tag == "rp")
        ]
    # A ruby ends with its annotation: whatever follows the last one moves out, after it.
    last = max(
        i
        for i, c in enumerate(node.children)
        if isinstance(c, _Node) and c.tag in {"rt", "rp"}
    )
    trailing = node.children[last + 1 :]
    if trailing:
        del node.children[last + 1 :]
        at = parent.children.index(node) + 1
        parent.children[at:at] = trailing


def _fix_definition_list(node: _Node) -> None:
    """A dl must hold dt+ dd+ groups: add an empty term or definition where one is missing."""
    items = [child for child in node.children if isinstance(child, _Node)]
    if not items:
        return
    if items[0].tag == "dd":
        node.children.insert(node.children.index(items[0]), _Node("dt"))
    if items[-1].tag == "dt":
        node.children.append(_Node("dd"))


def _serialize(root: _Node, out: list[str]) -> None:
    # Iterative: tag soup can nest deeper than Python's recursion limit.
    work: list[_Node | str | tuple[str]] = list(reversed(root.children))
    while work:
        item = work.pop()
        if isinstance(item, str):
            out.append(_esc(item))
        elif isinstance(item, tuple):
            out.append(item[0])
        else:
            attrs = "".join(f' {name}="{_attr(value)}"' for name, value in item.attrs)
            if item.tag in _VOID:
                out.append(f"<{item.tag}{attrs}/>")
            else:
                out.append(f"<{item.tag}{attrs}>")
                work.append((f"</{item.tag}>",))
                work.extend(reversed(item.children))


def to_xhtml(fragment_html: str) -> str:
    """A well-formed, EPUB-valid XHTML fragment from sanitized HTML5 (or tag soup).

    Void elements are self-closed, unclosed elements closed, obsolete elements
    renamed, images replaced by their alt text, and links that could not resolve
    inside an EPUB (relative, fragment) reduced to their text.
    """
    builder = _XhtmlBuilder()
    builder.feed(fragment_html)
    builder.close()
    out: list[str] = []
    _serialize(builder.root, out)
    return "".join(out)


# ------------------------------------------------------------------ documents

_CSS: Final = """\
body { margin: 0 5%; line-height: 1.5; font-family: serif; }
h1, h2, h3 { line-height: 1.2; text-align: center; page-break-after: avoid; }
h1 { font-size: 1.6em; margin: 1.5em 0 0.5em; }
h2 { font-size: 1.3em; margin: 1.5em 0 1em; }
h3 { font-size: 1.1em; margin: 1.2em 0 0.5em; }
p { margin: 0 0 0.8em; }
blockquote { margin: 1em 2em; }
hr { border: 0; border-top: 1px solid #888; margin: 1.5em 25%; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #aaa; padding: 0.2em 0.4em; vertical-align: top; }
.byline { text-align: center; font-style: italic; }
.meta dt { font-weight: bold; margin-top: 0.4em; }
.meta dd { margin: 0 0 0 1.5em; }
.notes, .end-notes { border-left: 3px solid #ccc; padding-left: 1em; margin: 1em 0 2em; }
.image-alt { font-style: italic; color: #555; }
.center, .align-center { text-align: center; }
.align-left { text-align: left; }
.align-right { text-align: right; }
.align-justify { text-align: justify; }
.big { font-size: larger; }
.cover { text-align: center; margin: 0; padding: 0; }
.cover img { max-width: 100%; max-height: 100%; }
.toc ol { list-style: none; }
"""

_PAGE: Final = """\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="{lang}" xml:lang="{lang}">
<head>
<meta charset="UTF-8"/>
<title>{title}</title>
<link rel="stylesheet" type="text/css" href="style.css"/>
</head>
<body{body_attrs}>
"""

_CONTAINER: Final = """\
<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles>
<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
</rootfiles>
</container>
"""


def _page(lang: str, title: str, body: Iterable[str], body_type: str = "") -> str:
    body_attrs = f' epub:type="{body_type}"' if body_type else ""
    return "".join(
        [
            _PAGE.format(lang=_attr(lang), title=_esc(title), body_attrs=body_attrs),
            *body,
            "\n</body>\n</html>\n",
        ]
    )


def _language(code: str) -> str:
    code = code.strip()
    return code if _LANG.fullmatch(code) else "und"


def _utc(moment: datetime) -> datetime:
    return (
        moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    )


def _w3c(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d")


def _creators(creators: list[str]) -> list[str]:
    # An anonymous work names nobody: if "Anonymous" is among the creators, any
    # other name would be a leak, whatever the caller passed.
    names = [name for name in creators if name.strip()]
    return ["Anonymous"] if not names or "Anonymous" in names else names


def _link(url: str, text: str) -> str:
    href = _safe_url(url, frozenset({"http", "https"}))
    return f'<a href="{_attr(href)}">{_esc(text)}</a>' if href else _esc(text)


@dataclass(frozen=True)
class _Item:
    """One file of the publication."""

    id: str
    href: str  # relative to OEBPS/
    media_type: str
    content: str
    properties: str = ""
    in_spine: bool = True


@dataclass
class _NavEntry:
    label: str
    href: str
    children: list[_NavEntry] = field(default_factory=list)


@dataclass
class _Parts:
    items: list[_Item] = field(default_factory=list)
    nav: list[_NavEntry] = field(default_factory=list)
    title_page: str = ""
    first_chapter: str = ""


def _definition(label: str, values: Iterable[str]) -> str:
    joined = ", ".join(_esc(value) for value in values if value)
    return f"<dt>{_esc(label)}</dt><dd>{joined}</dd>\n" if joined else ""


def _title_page(book: Book, heading_level: int = 1) -> list[str]:
    h = f"h{heading_level}"
    creators = _creators(book.creators)
    meta = [
        _definition("Rating", book.ratings),
        _definition("Archive Warnings", book.warnings),
        _definition("Categories", book.categories),
        _definition("Fandoms", book.fandoms),
        _definition("Relationships", book.relationships),
        _definition("Characters", book.characters),
        _definition("Additional Tags", book.freeforms),
        _definition(
            "Series", [f"Part {part} of {title}" for title, part in book.series]
        ),
        _definition("Collections", book.collections),
        _definition("Language", [book.language]),
        _definition("Words", [f"{book.word_count:,}"]),
        _definition("Chapters", [book.chapters_display]),
        _definition("Published", [_day(book.published)] if book.published else []),
        _definition("Updated", [_day(book.updated)] if book.updated else []),
    ]
    parts = [
        f'<section epub:type="titlepage" class="title-page">\n<{h}>{_esc(book.title)}</{h}>\n',
        f'<p class="byline">by {_esc(", ".join(creators))}</p>\n',
        '<dl class="meta">\n', *meta, "</dl>\n",
    ]  # fmt: skip
    if book.source_site or book.source_url:
        where = _esc(book.source_site) if book.source_site else "another site"
        at = f" at {_link(book.source_url, book.source_url)}" if book.source_url else ""
        parts.append(f"<p>Originally posted on {where}{at}.</p>\n")
    if book.prompt_text or book.prompt_relationship:
        prompt = _esc(book.prompt_text)
        if book.prompt_relationship:
            prompt += (
                f" ({_esc(book.prompt_relationship)})"
                if prompt
                else _esc(book.prompt_relationship)
            )
        parts.append(f"<p>In response to a prompt: {prompt}</p>\n")
    parts.extend(f"<p>{_esc(line)}.</p>\n" for line in book.fill_lines)
    parts.append(f"<p>Read this work online: {_link(book.url, book.url)}</p>\n")
    parts.append(f"<p>Downloaded from {_esc(book.site_name)}.</p>\n</section>\n")
    return parts


def _notes_section(heading: str, html: str, css_class: str, level: int) -> str:
    if not html.strip():
        return ""
    return f'<section class="{css_class}">\n<h{level}>{_esc(heading)}</h{level}>\n{to_xhtml(html)}\n</section>\n'


def _book_parts(book: Book, prefix: str, nested: bool) -> _Parts:
    """The title page, preface, chapters and end notes of one work."""
    lang = _language(book.language)
    parts = _Parts()
    level = 2 if nested else 1

    def add(name: str, label: str, title: str, body: list[str], body_type: str) -> str:
        href = f"{prefix}{name}.xhtml"
        parts.items.append(
            _Item(
                f"{prefix}{name}",
                href,
                "application/xhtml+xml",
                _page(lang, title, body, body_type),
            )
        )
        parts.nav.append(_NavEntry(label, href))
        return href

    parts.title_page = add(
        "title", "Title Page", book.title, _title_page(book, level), "frontmatter"
    )
    if book.summary_html.strip() or book.notes_html.strip():
        add(
            "preface", "Preface", f"{book.title}: Preface",
            [
                f'<section epub:type="preface">\n<h{level}>Preface</h{level}>\n',
                _notes_section("Summary", book.summary_html, "summary", level + 1),
                _notes_section("Notes", book.notes_html, "notes", level + 1),
                "</section>\n",
            ],
            "frontmatter",
        )  # fmt: skip
    for chapter in book.chapters:
        href = add(
            f"chapter-{chapter.position:04d}", chapter.display_title, chapter.display_title,
            _chapter_body(chapter, level), "bodymatter",
        )  # fmt: skip
        parts.first_chapter = parts.first_chapter or href
    if book.end_notes_html.strip():
        add(
            "endnotes", "End Notes", f"{book.title}: End Notes",
            [f'<section class="end-notes">\n<h{level}>End Notes</h{level}>\n{to_xhtml(book.end_notes_html)}\n</section>\n'],
            "backmatter",
        )  # fmt: skip
    return parts


def _chapter_body(chapter: BookChapter, level: int) -> list[str]:
    return [
        f'<section epub:type="chapter">\n<h{level}>{_esc(chapter.display_title)}</h{level}>\n',
        _notes_section("Chapter Notes", chapter.notes_html, "notes", level + 1),
        f'<div class="userstuff">\n{to_xhtml(chapter.html)}\n</div>\n',
        _notes_section(
            "Chapter End Notes", chapter.end_notes_html, "end-notes", level + 1
        ),
        "</section>\n",
    ]


def _cover_svg(title: str, byline: str) -> str:
    """A cover image drawn from the title alone: no raster libraries, no fonts shipped."""
    lines = _wrap(title, 18)[:6]
    size = 64 if len(lines) <= 3 else 52
    first = 600 - (len(lines) - 1) * size * 1.2 / 2
    tspans = "".join(
        f'<tspan x="600" y="{first + i * size * 1.2:.0f}">{_esc(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    by = _esc(" ".join(_wrap(byline, 40)[:1]))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 1200 1600" width="1200" height="1600">\n'
        f"<title>{_esc(title)}</title>\n"
        '<rect width="1200" height="1600" fill="#f4efe6"/>\n'
        '<rect x="60" y="60" width="1080" height="1480" fill="none" stroke="#7a2e2e" stroke-width="8"/>\n'
        f'<text text-anchor="middle" font-family="serif" font-size="{size}" fill="#222">{tspans}</text>\n'
        f'<text x="600" y="1100" text-anchor="middle" font-family="serif" font-size="40" fill="#444">{by}</text>\n'
        "</svg>\n"
    )


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        while len(word) > width:  # CJK and long words have no spaces to break at
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines or [""]


def _nav_list(entries: list[_NavEntry]) -> str:
    out = ["<ol>\n"]
    for entry in entries:
        out.append(f'<li><a href="{_attr(entry.href)}">{_esc(entry.label)}</a>')
        if entry.children:
            out.append("\n" + _nav_list(entry.children))
        out.append("</li>\n")
    out.append("</ol>\n")
    return "".join(out)


def _nav(
    lang: str,
    title: str,
    entries: list[_NavEntry],
    landmarks: list[tuple[str, str, str]],
) -> str:
    marks = "".join(
        f'<li><a epub:type="{kind}" href="{_attr(href)}">{_esc(label)}</a></li>\n'
        for kind, href, label in landmarks
    )
    body = [
        f'<nav epub:type="toc" id="toc" class="toc">\n<h1>{_esc(title)}</h1>\n',
        _nav_list(entries),
        "</nav>\n",
        f'<nav epub:type="landmarks" id="landmarks" hidden="hidden">\n<h2>Landmarks</h2>\n<ol>\n{marks}</ol>\n</nav>\n',
    ]
    return _page(lang, "Contents", body)


@dataclass(frozen=True)
class _Metadata:
    identifier: str
    title: str
    creators: list[str]
    language: str
    subjects: list[str]
    description: str
    published: datetime | None
    modified: datetime
    source: str
    publisher: str


def _opf(meta: _Metadata, items: list[_Item]) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="book-id" xml:lang="{meta.language}">\n',
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n',
        f'<dc:identifier id="book-id">{_esc(meta.identifier)}</dc:identifier>\n',
        f"<dc:title>{_esc(meta.title)}</dc:title>\n",
    ]
    lines += [
        f'<dc:creator id="creator-{i}">{_esc(name)}</dc:creator>\n'
        for i, name in enumerate(meta.creators, 1)
    ]
    lines.append(f"<dc:language>{meta.language}</dc:language>\n")
    lines += [
        f"<dc:subject>{_esc(subject)}</dc:subject>\n"
        for subject in meta.subjects
        if subject.strip()
    ]
    if meta.description.strip():
        lines.append(
            f"<dc:description>{_esc(meta.description.strip())}</dc:description>\n"
        )
    if meta.published:
        lines.append(f"<dc:date>{_w3c(meta.published)}</dc:date>\n")
    if meta.source.strip():
        lines.append(f"<dc:source>{_esc(meta.source)}</dc:source>\n")
    if meta.publisher.strip():
        lines.append(f"<dc:publisher>{_esc(meta.publisher)}</dc:publisher>\n")
    lines.append(
        f'<meta property="dcterms:modified">{_w3c(meta.modified)}</meta>\n</metadata>\n<manifest>\n'
    )
    for item in items:
        props = f' properties="{item.properties}"' if item.properties else ""
        lines.append(
            f'<item id="{item.id}" href="{_attr(item.href)}" media-type="{item.media_type}"{props}/>\n'
        )
    lines.append("</manifest>\n<spine>\n")
    lines += [f'<itemref idref="{item.id}"/>\n' for item in items if item.in_spine]
    lines.append("</spine>\n</package>\n")
    return "".join(lines)


# Deterministic zips: a fixed date and system for every entry.
_ZIP_DATE: Final = (1980, 1, 1, 0, 0, 0)


def _zip(files: list[tuple[str, str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        mimetype = zipfile.ZipInfo("mimetype", _ZIP_DATE)
        mimetype.compress_type = zipfile.ZIP_STORED
        mimetype.create_system = 3
        mimetype.external_attr = 0o644 << 16
        archive.writestr(mimetype, "application/epub+zip")
        for name, content in files:
            info = zipfile.ZipInfo(name, _ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, content.encode("utf-8"), compresslevel=6)
    return buffer.getvalue()


def _package(
    meta: _Metadata,
    content_items: list[_Item],
    nav: list[_NavEntry],
    title_page: str,
    first: str,
) -> bytes:
    cover_title = meta.title
    items = [
        _Item("style", "style.css", "text/css", _CSS, in_spine=False),
        _Item("cover-image", "cover.svg", "image/svg+xml", _cover_svg(cover_title, ", ".join(meta.creators)),
              "cover-image", in_spine=False),
        _Item("cover", "cover.xhtml", "application/xhtml+xml", _page(
            meta.language, cover_title,
            [f'<section epub:type="cover" class="cover"><img src="cover.svg" alt="{_attr(cover_title)}"/></section>'],
        )),
        *content_items,
    ]  # fmt: skip
    landmarks = [
        ("cover", "cover.xhtml", "Cover"),
        ("titlepage", title_page, "Title Page"),
    ]
    if first:
        landmarks.append(("bodymatter", first, "Start of Content"))
    items.append(
        _Item(
            "nav",
            "nav.xhtml",
            "application/xhtml+xml",
            _nav(meta.language, meta.title, nav, landmarks),
            "nav",
            in_spine=False,
        )
    )
    files = [
        ("META-INF/container.xml", _CONTAINER),
        ("OEBPS/content.opf", _opf(meta, items)),
    ]
    files += [(f"OEBPS/{item.href}", item.content) for item in items]
    return _zip(files)


def _text(html: str) -> str:
    return " ".join(html_to_text(html, decorate=False).split()) if html.strip() else ""


def _titled(book: Book) -> Book:
    # An empty dc:title, <title> or heading is an EPUBCheck error.
    return book if book.title.strip() else replace(book, title="Untitled")


def render_epub(book: Book) -> bytes:
    """The work as an EPUB 3 file."""
    book = _titled(book)
    parts = _book_parts(book, "", nested=False)
    meta = _Metadata(
        identifier=book.identifier,
        title=book.title,
        creators=_creators(book.creators),
        language=_language(book.language),
        subjects=list(dict.fromkeys(book.subjects)),
        description=_text(book.summary_html),
        published=book.published,
        modified=book.revised,
        source=book.url,
        publisher=book.site_name,
    )
    return _package(meta, parts.items, parts.nav, parts.title_page, parts.first_chapter)


def render_series_epub(omnibus: Omnibus) -> bytes:
    """Every work of a series in one EPUB; the contents nest each work's chapters under its title."""
    if not omnibus.title.strip():
        omnibus = replace(omnibus, title="Untitled Series")
    omnibus = replace(omnibus, books=[_titled(book) for book in omnibus.books])
    lang = _language(omnibus.language)
    creators = _creators(omnibus.creators)
    listing = "".join(
        f"<li>{_esc(book.title)} by {_esc(', '.join(_creators(book.creators)))}</li>\n"
        for book in omnibus.books
    )
    intro = [
        f'<section epub:type="titlepage" class="title-page">\n<h1>{_esc(omnibus.title)}</h1>\n',
        f'<p class="byline">by {_esc(", ".join(creators))}</p>\n',
        f'<div class="summary">{to_xhtml(omnibus.summary_html)}</div>\n'
        if omnibus.summary_html.strip()
        else "",
        f"<ol>\n{listing}</ol>\n" if listing else "",
        f"<p>Read this series online: {_link(omnibus.url, omnibus.url)}</p>\n",
        f"<p>Downloaded from {_esc(omnibus.site_name)}.</p>\n</section>\n",
    ]
    items = [
        _Item(
            "series-title",
            "series-title.xhtml",
            "application/xhtml+xml",
            _page(lang, omnibus.title, intro, "frontmatter"),
        )
    ]
    nav = [_NavEntry(omnibus.title, "series-title.xhtml")]
    first = ""
    for number, book in enumerate(omnibus.books, 1):
        parts = _book_parts(book, f"work-{number:03d}-", nested=True)
        items += parts.items
        nav.append(_NavEntry(book.title, parts.title_page, parts.nav))
        first = first or parts.first_chapter
    published = [book.published for book in omnibus.books if book.published]
    revised = [_utc(book.revised) for book in omnibus.books]
    meta = _Metadata(
        identifier=omnibus.identifier,
        title=omnibus.title,
        creators=creators,
        language=lang,
        subjects=list(
            dict.fromkeys(
                subject for book in omnibus.books for subject in book.subjects
            )
        ),
        description=_text(omnibus.summary_html),
        published=min(published, key=_utc) if published else None,
        modified=max(revised) if revised else datetime(1980, 1, 1, tzinfo=UTC),
        source=omnibus.url,
        publisher=omnibus.site_name,
    )
    return _package(meta, items, nav, "series-title.xhtml", first)
