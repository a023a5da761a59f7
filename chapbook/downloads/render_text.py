"""The plain-text download: UTF-8, wrapped at 72 columns, readable in any editor."""

from __future__ import annotations

import re
import textwrap
from functools import cache
from typing import Final

from chapbook.downloads.book import Book
from chapbook.downloads.render_html import (
    source_line,
    title_page_fields,
    without_images,
)
from chapbook.lib.sanitize import html_to_text

__all__ = ["WIDTH", "render_text"]

WIDTH: Final = 72
# A field's continuation lines sit under its value, by this much.
_FIELD_INDENT: Final = "    "
# List items as html_to_text writes them; their continuation lines hang under the text.
_LIST_MARKER: Final = re.compile(r"(?:• |\d+\. )")


@cache
def _wrapper(initial_indent: str = "", subsequent_indent: str = "") -> textwrap.TextWrapper:
    # Long words (URLs above all) stay whole on a line of their own rather than being
    # cut where a reader or a terminal could no longer follow them; likewise no breaks
    # at hyphens, which URLs and tag names are full of.
    return textwrap.TextWrapper(
        width=WIDTH,
        initial_indent=initial_indent,
        subsequent_indent=subsequent_indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _wrap_line(line: str) -> list[str]:
    if len(line) <= WIDTH:
        return [line]
    marker = _LIST_MARKER.match(line)
    wrapper = _wrapper("", " " * len(marker.group(0))) if marker else _wrapper()
    return wrapper.wrap(line) or [""]


def _wrap_html(fragment: str) -> list[str]:
    """Paragraphs of ``fragment`` wrapped at WIDTH; blank lines between paragraphs kept."""
    # Table cells come out tab-separated; tabs would expand unpredictably.
    # Images are dropped by html_to_text; their alt text is part of the story.
    text = html_to_text(without_images(fragment)).replace("\t", " | ")
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(_wrap_line(line.rstrip()))
    return lines


def _field(label: str, value: str) -> list[str]:
    return _wrapper("", _FIELD_INDENT).wrap(f"{label}: {value}")


def _heading(text: str, underline: str) -> list[str]:
    lines = _wrapper().wrap(text) or [text]
    return [*lines, underline * max(len(line) for line in lines), ""]


def _section(title: str, fragment: str, underline: str = "-") -> list[str]:
    body = _wrap_html(fragment)
    if not any(body):
        return []
    return [*_heading(title, underline), *body, "", ""]


def _header(book: Book) -> list[str]:
    lines = [*_heading(book.title, "="), *_wrapper().wrap(f"by {book.byline}"), ""]
    for field in title_page_fields(book):
        lines.extend(_field(field.label, field.text))
    source = source_line(book)
    if book.source_url:
        source = f"{source} at {book.source_url}"
    if source:
        lines.extend(_field("Source", source))
    if book.prompt_relationship or book.prompt_text:
        prompt = " ".join(book.prompt_text.split())  # plain text; newlines would break the field
        if book.prompt_relationship:
            prompt = f"({book.prompt_relationship}) {prompt}".rstrip()
        lines.extend(_field("Prompt", prompt))
    for line in book.fill_lines:
        lines.extend(_wrapper().wrap(f"{line}."))
    lines.extend(_field(f"Posted on {book.site_name}", book.url))
    return [*lines, "", ""]


def render_text(book: Book) -> str:
    lines = _header(book)
    lines += _section("Summary", book.summary_html)
    lines += _section("Notes", book.notes_html)
    for chapter in book.chapters:
        lines += ["", *_heading(chapter.display_title, "=")]
        lines += _section("Chapter Notes", chapter.notes_html)
        lines += [*_wrap_html(chapter.html), "", ""]
        lines += _section("Chapter End Notes", chapter.end_notes_html)
    lines += _section("End Notes", book.end_notes_html)
    lines += ["", *_wrapper().wrap(f"{book.title} by {book.byline}. Read it, and leave kudos or comments, at {book.url}")]
    text = "\n".join(line.rstrip() for line in lines)
    text = re.sub(r"\n{4,}", "\n\n\n", text)  # at most two blank lines anywhere
    return text.strip("\n") + "\n"
