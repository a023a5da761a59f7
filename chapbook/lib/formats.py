"""Turn what an author typed, in the format they chose, into safe HTML."""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Final, Literal, get_args

from markdown_it import MarkdownIt

from chapbook.lib.sanitize import Sanitized, SanitizeFn, sanitize_work_html

__all__ = ["FORMATS", "Format", "plain_to_html", "render"]

Format = Literal["html", "markdown", "text"]
FORMATS: Final[tuple[Format, ...]] = get_args(Format)

# A line holding only whitespace still ends a paragraph: authors can't see it.
_PARAGRAPH_BREAK: Final = re.compile(r"\n[ \t\f\v\u00a0]*\n\s*")


@cache
def _markdown() -> MarkdownIt:
    # CommonMark so that documented syntax behaves as documented; raw HTML is
    # let through on purpose because the sanitizer runs on the result anyway,
    # and authors moving between formats keep their <center> and <u>.
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def markdown_to_html(text: str) -> str:
    """Unsanitized CommonMark rendering (tables and ~~strike~~ enabled)."""
    return _markdown().render(text)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def plain_to_html(text: str) -> str:
    """Plain text to paragraphs: a blank line starts a <p>, a single newline is a <br>.

    Everything is HTML-escaped, so "<b>" shows up as the characters typed.
    """
    stripped = _normalise_newlines(text).strip("\n")
    if not stripped.strip():
        return ""
    paragraphs = _PARAGRAPH_BREAK.split(stripped)
    return "\n".join(_paragraph(block) for block in paragraphs if block.strip())


def _paragraph(block: str) -> str:
    lines = [html.escape(line.rstrip(), quote=False) for line in block.split("\n")]
    return "<p>" + "<br>\n".join(lines) + "</p>"


def render(text: str, fmt: Format, *, sanitizer: SanitizeFn = sanitize_work_html) -> Sanitized:
    """Safe HTML for ``text`` written in ``fmt``, plus what the sanitizer removed.

    ``sanitizer`` defaults to the work allow-list; pass
    ``sanitize_comment_html`` for comments.
    """
    if fmt == "html":
        return sanitizer(text)
    if fmt == "markdown":
        return sanitizer(markdown_to_html(text))
    if fmt == "text":
        return sanitizer(plain_to_html(text))
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
