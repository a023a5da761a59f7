"""The HTML download: one self-contained file that reads offline, and the source of the PDF.

The file must never call home or fetch anything when opened: styles are inline, there is
no script, and every ``<img>`` becomes its alt text. The same template, with print CSS,
is what WeasyPrint lays out for the PDF.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_info

from chapbook.downloads.book import Book

__all__ = ["Field", "build_html", "language_name", "render_html", "source_line", "title_page_fields", "without_images"]


@dataclass(frozen=True)
class Field:
    """One "Key: value" line of the title page; every format lists the same ones."""

    label: str
    values: list[str]

    @property
    def text(self) -> str:
        return ", ".join(self.values)


def _label(singular: str, plural: str, values: list[str]) -> str:
    return singular if len(values) == 1 else plural


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value else ""


def language_name(code: str) -> str:
    """The language's own name ("Deutsch", "日本語"), as AO3 shows it; the code if unknown."""
    try:
        return str(get_language_info(code)["name_local"])
    except KeyError:
        return code


def title_page_fields(book: Book) -> list[Field]:
    """The tag and stats fields of the title page, in AO3's order; empty ones left out."""
    tag_fields = [
        ("Rating", "Ratings", book.ratings),
        ("Archive Warning", "Archive Warnings", book.warnings),
        ("Category", "Categories", book.categories),
        ("Fandom", "Fandoms", book.fandoms),
        ("Relationship", "Relationships", book.relationships),
        ("Character", "Characters", book.characters),
        ("Additional Tags", "Additional Tags", book.freeforms),
    ]
    fields = [Field(_label(one, many, values), list(values)) for one, many, values in tag_fields if values]
    if book.language:
        fields.append(Field("Language", [language_name(book.language)]))
    if book.series:
        fields.append(Field("Series", [f"Part {part} of {title}" for title, part in book.series]))
    if book.collections:
        fields.append(Field(_label("Collection", "Collections", book.collections), list(book.collections)))
    stats = [
        ("Published", _date(book.published)),
        ("Updated", _date(book.updated)),
        ("Words", f"{book.word_count:,}"),
        ("Chapters", book.chapters_display),
    ]
    fields.extend(Field(label, [value]) for label, value in stats if value)
    return fields


def source_line(book: Book) -> str:
    """ "Originally posted on SITE", without the URL; "" for works first posted here."""
    if book.source_site:
        return f"Originally posted on {book.source_site}"
    return "Originally posted elsewhere" if book.source_url else ""


# An <img> start tag; quoted attribute values may hold ">" (serializers don't escape it).
_IMG: Final = re.compile(r"""<img\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_ALT: Final = re.compile(r"""(?<=\s)alt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)


def _image_placeholder(match: re.Match[str]) -> str:
    alt_match = _ALT.search(match.group(0))
    alt = ""
    if alt_match:
        alt = html.unescape(next(group for group in alt_match.groups() if group is not None)).strip()
    label = f"[Image: {alt}]" if alt else "[Image]"
    return f'<span class="image-alt">{html.escape(label, quote=False)}</span>'


def without_images(fragment: str) -> str:
    """``fragment`` with every <img> replaced by its alt text.

    Images are the only remote resource the work sanitizer lets through (no style
    attribute, no <link>, <object> or <iframe>). Fetching them would let any author make
    the server (PDF) or every reader's viewer (HTML) request arbitrary URLs.
    """
    if "<img" not in fragment.lower():
        return fragment
    return _IMG.sub(_image_placeholder, fragment)


def _safe(fragment: str) -> SafeString:
    # Book HTML is already sanitized work HTML (see Book); only images are taken out here.
    return mark_safe(without_images(fragment))


def _context(book: Book, *, for_print: bool) -> dict[str, Any]:
    return {
        "book": book,
        "for_print": for_print,
        "fields": title_page_fields(book),
        "language_code": book.language or "und",
        "source": source_line(book),
        "published": book.published.isoformat() if book.published else "",
        "updated": book.updated.isoformat() if book.updated else "",
        "summary": _safe(book.summary_html),
        "notes": _safe(book.notes_html),
        "end_notes": _safe(book.end_notes_html),
        "chapters": [
            {
                "anchor": f"chapter-{chapter.position}",
                "title": chapter.display_title,
                "notes": _safe(chapter.notes_html),
                "body": _safe(chapter.html),
                "end_notes": _safe(chapter.end_notes_html),
            }
            for chapter in book.chapters
        ],
    }


def build_html(book: Book, *, for_print: bool) -> str:
    """The book as one HTML document; ``for_print`` swaps the screen CSS for page CSS."""
    return render_to_string("downloads/book.html", _context(book, for_print=for_print))


def render_html(book: Book) -> str:
    return build_html(book, for_print=False)
