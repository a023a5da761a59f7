"""The HTML, PDF and plain-text downloads: what they say, and what they never do. Pure tests."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest

from chapbook.downloads.book import Book
from chapbook.downloads.render_html import render_html, without_images
from chapbook.downloads.render_pdf import (
    RefusingURLFetcher,
    render_document,
    render_pdf,
)
from chapbook.downloads.render_text import WIDTH, render_text
from chapbook.lib.sanitize import html_to_text
from tests.books import ODD_MARKUP, anonymous_book, long_book, sample_book

# Everything the title page of sample_book() must say, in every format.
TITLE_PAGE = [
    "The Long Tide & Other Weather",
    "alice", "Ali Writes (alice)",
    "The Long Meridian (TV)",
    "Teen And Up Audiences",
    "No Archive Warnings Apply",
    "F/M", "Gen",
    "Sefa Arden/Oren Tallis", "Juno Kask & WREN",
    "Sefa Arden", "Oren Tallis",
    "Slow Burn", "Found Family",
    "Part 2 of What the Lantern Keeps",
    "Meridian Prompt Meme",
    "English",
    "1,234", "2/3",
    "2025-01-02", "2025-06-07",
    "Originally posted on tumblr", "https://example.tumblr.com/post/12345",
    "Sefa teaches Oren to navigate by the stars.",
    "http://127.0.0.1:8000/works/42/",
    "A summary.", "Beginning notes.", "End notes.",
    "Chapter notes.", "Chapter end notes.",
    "Chapter 1: The Pier", "Chapter 2",
]  # fmt: skip

ODD_BOOK = sample_book(chapters=[sample_book().chapters[1]], summary_html=ODD_MARKUP, notes_html=ODD_MARKUP)


class _Document(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))

    def meta(self, name: str) -> str | None:
        return next((attrs.get("content") for tag, attrs in self.starts if tag == "meta" and attrs.get("name") == name), None)


def parse(html: str) -> _Document:
    document = _Document()
    document.feed(html)
    document.close()
    return document


def visible_text(html: str) -> str:
    return html_to_text(html)  # drops <style> and <title>


def timed(render: Callable[[Book], Any], book: Book) -> float:
    start = time.perf_counter()
    render(book)
    return time.perf_counter() - start


# ---------------------------------------------------------------------- shared


def test_without_images_leaves_alt_text_only() -> None:
    html = (
        '<p><img src="https://images.invalid/a.png" alt="a &quot;quoted&quot; > view"> and'
        " <IMG SRC='https://images.invalid/b.png'></p>"
    )
    assert without_images(html) == (
        '<p><span class="image-alt">[Image: a "quoted" &gt; view]</span>'
        ' and <span class="image-alt">[Image]</span></p>'
    )


# ---------------------------------------------------------------------- HTML


def test_html_title_page_has_every_field() -> None:
    text = visible_text(render_html(sample_book()))
    for value in TITLE_PAGE:
        assert value in text, value


def test_html_metadata_names_title_byline_and_identifier() -> None:
    document = parse(render_html(sample_book()))
    assert document.meta("author") == "alice, Ali Writes (alice)"
    assert document.meta("dcterms.identifier") == "urn:chapbook:test:work:42"
    assert "<title>The Long Tide &amp; Other Weather - alice, Ali Writes (alice)</title>" in render_html(sample_book())


def test_html_links_back_to_the_work() -> None:
    document = parse(render_html(sample_book()))
    assert ("a", {"href": "http://127.0.0.1:8000/works/42/"}) in document.starts


def test_html_of_anonymous_work_names_nobody() -> None:
    html = render_html(anonymous_book())
    assert "alice" not in html.lower()
    assert "Ali Writes" not in html
    assert parse(html).meta("author") == "Anonymous"
    assert "by Anonymous" in html


def test_html_never_loads_anything() -> None:
    html = render_html(sample_book())
    starts = parse(html).starts
    assert "<img" not in html.lower()
    assert 'src="http' not in html
    assert not [tag for tag, _ in starts if tag in {"img", "script", "link", "iframe", "object", "embed"}]
    assert "[Image: A drawing of the harbour]" in html


def test_html_is_self_contained_with_light_and_dark_styles() -> None:
    html = render_html(sample_book())
    assert html.count("<style>") == 1
    assert "prefers-color-scheme: dark" in html
    assert "@import" not in html and "url(" not in html


def test_html_has_every_chapter_under_its_own_heading() -> None:
    book = long_book(2_000, 5)
    html = render_html(book)
    for chapter in book.chapters:
        assert f'<h2 class="chapter-title">{chapter.display_title}</h2>' in html


def test_html_escapes_metadata() -> None:
    html = render_html(sample_book(title="<script>alert(1)</script>", creators=['"><b>x']))
    assert "<script" not in html
    assert "<b>x" not in html


def test_html_parses_with_balanced_document_structure() -> None:
    document = parse(render_html(sample_book()))
    tags = [tag for tag, _ in document.starts]
    assert tags[:2] == ["html", "head"]
    assert tags.count("body") == 1 and tags.count("h1") == 1


# ---------------------------------------------------------------------- PDF


def test_pdf_is_a_pdf_of_sensible_length() -> None:
    assert render_pdf(sample_book()).startswith(b"%PDF-")
    # Page objects sit in compressed object streams unless asked otherwise.
    pdf = render_document(sample_book()).write_pdf(uncompressed_pdf=True)
    assert 3 <= len(re.findall(rb"/Type\s*/Page\b", pdf)) <= 12


def test_pdf_starts_each_chapter_at_the_top_of_a_new_page() -> None:
    book = long_book(3_000, 4)
    pages = render_document(book).pages
    assert len(pages) >= len(book.chapters) + 1
    first_pages: dict[str, tuple[int, float]] = {}  # anchor: (page, top of the section)
    for number, page in enumerate(pages):
        for anchor, (_, top, *_) in page.anchors.items():
            if anchor.startswith("chapter-"):
                first_pages.setdefault(anchor, (number, top))
    assert len(first_pages) == len(book.chapters)
    assert len({number for number, _ in first_pages.values()}) == len(book.chapters)
    # Each section begins near the top margin (20mm = 76px, plus the heading's margin).
    assert all(top < 120 for _, top in first_pages.values())


def test_pdf_renders_odd_markup(caplog: pytest.LogCaptureFixture) -> None:
    pages = render_document(ODD_BOOK).pages
    assert "Ignored" not in caplog.text  # our print CSS is all understood
    # The 40-cell table is squeezed onto the page instead of running off it.
    tables = 0
    for page in pages:
        box = page._page_box  # WeasyPrint's layout tree: the only place widths are known
        right_edge = box.margin_width() - box.margin_right
        for table in (child for child in box.descendants() if type(child).__name__ == "TableBox"):
            tables += 1
            assert table.position_x + table.margin_width() <= right_edge + 0.01
    assert tables == 3  # summary, notes and the chapter


def test_pdf_never_fetches_images(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def spy(self: RefusingURLFetcher, url: str, headers: Any = None) -> Any:
        asked.append(url)
        raise ValueError("refused")

    monkeypatch.setattr(RefusingURLFetcher, "fetch", spy)
    pdf = render_pdf(ODD_BOOK)
    assert pdf.startswith(b"%PDF-")
    assert asked == []


def test_pdf_fetcher_refuses_every_url() -> None:
    fetcher = RefusingURLFetcher()
    for url in ["https://images.invalid/gone.png", "http://127.0.0.1/admin/", "file:///etc/passwd", "data:,x"]:
        with pytest.raises(ValueError):
            fetcher(url)


def test_pdf_metadata_of_anonymous_work_names_nobody() -> None:
    """Body text is the HTML's (tested above); the PDF adds only metadata, from <meta>."""
    pdf = render_document(anonymous_book()).write_pdf(uncompressed_pdf=True)
    assert b"/Author (Anonymous)" in pdf
    assert b"alice" not in pdf.lower()
    assert b"Ali Writes" not in pdf


# ---------------------------------------------------------------------- text


def test_text_has_every_field() -> None:
    text = render_text(sample_book())
    unwrapped = " ".join(text.split())
    for value in TITLE_PAGE:
        assert value in unwrapped, value
    assert "Fandom: The Long Meridian (TV)" in text
    assert "[Image: A drawing of the harbour]" in text


def test_text_wraps_at_72_columns_but_keeps_urls_whole() -> None:
    long_url = "https://example.org/" + "very-long-path-segment/" * 5
    book = sample_book(source_url=long_url, summary_html=ODD_MARKUP + "<p>" + "word " * 200 + "</p>")
    lines = render_text(book).split("\n")
    assert any(long_url in line for line in lines)
    for line in lines:
        assert len(line) <= WIDTH or len(line.split()) == 1, line


def test_text_underlines_chapter_headings_and_labels_notes() -> None:
    lines = render_text(sample_book()).split("\n")
    heading = lines.index("Chapter 1: The Pier")
    assert lines[heading + 1] == "=" * len("Chapter 1: The Pier")
    assert lines[lines.index("Chapter 2") + 1] == "========="
    assert "Chapter Notes" in lines and "Chapter End Notes" in lines and "End Notes" in lines


def test_text_of_anonymous_work_names_nobody() -> None:
    text = render_text(anonymous_book())
    assert "alice" not in text.lower()
    assert "Ali Writes" not in text
    assert "by Anonymous" in text


def test_text_is_utf8_with_unix_line_ends_and_one_final_newline() -> None:
    text = render_text(sample_book())
    assert "café — “quotes” ‘single’ <not a tag> 日本語 🙂" in text
    assert "\r" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    text.encode("utf-8")


# ---------------------------------------------------------------------- speed


@pytest.mark.parametrize(
    ("render", "limit"),
    [(render_html, 2.0), (render_text, 2.0), (render_pdf, 10.0)],
    ids=["html", "text", "pdf"],
)
def test_a_5000_word_book_renders_quickly(render: Callable[[Book], Any], limit: float) -> None:
    seconds = timed(render, long_book(5_000, 1))
    print(f"{render.__name__}: 5,000 words in {seconds:.2f}s")
    assert seconds < limit


@pytest.mark.parametrize(("render", "limit"), [(render_html, 5.0), (render_text, 10.0)], ids=["html", "text"])
def test_a_500000_word_book_renders_in_seconds(render: Callable[[Book], Any], limit: float) -> None:
    """The PDF of this book takes minutes: measured by hand, not in the suite."""
    seconds = timed(render, long_book())
    print(f"{render.__name__}: 500,000 words in {seconds:.2f}s")
    assert seconds < limit
