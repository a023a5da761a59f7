"""The PDF download: the HTML download's template laid out by WeasyPrint on A5 pages."""

from __future__ import annotations

from typing import Any, NoReturn

from weasyprint import HTML
from weasyprint.document import Document
from weasyprint.urls import URLFetcher

from chapbook.downloads.book import Book
from chapbook.downloads.render_html import build_html

__all__ = ["RefusingURLFetcher", "render_document", "render_pdf"]


class RefusingURLFetcher(URLFetcher):
    """Fetches nothing, ever.

    Images are already replaced by their alt text; this is the second lock. Without it
    any author could make the server request arbitrary URLs (internal ones included)
    while it builds a file. WeasyPrint logs the refusal as a warning and carries on.
    """

    def fetch(self, url: str, headers: Any = None) -> NoReturn:
        raise ValueError(f"downloads never fetch resources, refused {url[:200]!r}")


def render_document(book: Book) -> Document:
    """The laid-out pages, for tests that look at where things landed."""
    # No base_url: relative links stay relative and nothing resolves to a file: URL.
    return HTML(string=build_html(book, for_print=True), url_fetcher=RefusingURLFetcher()).render()


def render_pdf(book: Book) -> bytes:
    pdf = render_document(book).write_pdf()
    assert pdf is not None  # write_pdf returns bytes when given no target
    return pdf
