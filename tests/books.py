"""Hand-made Books for the download renderers' tests: every field, and odd markup."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from chapbook.downloads.book import Book, BookChapter

ODD_MARKUP = (
    "<p>Unclosed <em>emphasis and <strong>nesting"
    "<table><tr><td>" + "</td><td>".join(f"cell {i}" for i in range(40)) + "</td></tr></table>"
    '<p><img src="https://images.invalid/gone.png" alt="A drawing of the harbour"> after the image</p>'
    "<p>Entities &amp; symbols: café — “quotes” ‘single’ &lt;not a tag&gt; 日本語 🙂</p>"
    "<ul><li>one<li>two</ul><hr><blockquote>quoted<br>lines</blockquote><h2>A heading inside</h2>"
    '<p><a href="https://example.org/?a=1&amp;b=2">a link</a> and <a href="#fn1">a footnote</a></p>'
)


def sample_book(**overrides: Any) -> Book:
    chapters = [
        BookChapter(1, "The Pier", "<p>Chapter notes.</p>", "<p>The tide came in.</p><p>“Hello,” she said.</p>", "<p>Chapter end notes.</p>"),
        BookChapter(2, "", "", ODD_MARKUP, ""),
    ]
    book = Book(
        identifier="urn:chapbook:test:work:42",
        url="http://127.0.0.1:8000/works/42/",
        title="The Long Tide & Other Weather",
        creators=["alice", "Ali Writes (alice)"],
        language="en",
        word_count=1234,
        chapters_display="2/3",
        published=datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        updated=datetime(2025, 6, 7, 8, 9, 10, tzinfo=timezone.utc),
        revised=datetime(2025, 6, 7, 8, 9, 11, tzinfo=timezone.utc),
        summary_html="<p>A <em>summary</em>.</p>",
        notes_html="<p>Beginning notes.</p>",
        end_notes_html="<p>End notes.</p>",
        fandoms=["The Long Meridian (TV)"],
        ratings=["Teen And Up Audiences"],
        warnings=["No Archive Warnings Apply"],
        categories=["F/M", "Gen"],
        relationships=["Sefa Arden/Oren Tallis", "Juno Kask & WREN"],
        characters=["Sefa Arden", "Oren Tallis"],
        freeforms=["Slow Burn", "Found Family"],
        series=[("What the Lantern Keeps", 2)],
        collections=["Meridian Prompt Meme"],
        source_site="tumblr",
        source_url="https://example.tumblr.com/post/12345",
        prompt_text="Sefa teaches Oren to navigate by the stars.",
        prompt_relationship="Sefa Arden/Oren Tallis",
        chapters=chapters,
    )
    return replace(book, **overrides)


def anonymous_book() -> Book:
    return sample_book(creators=["Anonymous"])


def long_book(words: int = 500_000, chapters: int = 100) -> Book:
    """A book of about `words` words in `chapters` chapters, for size and speed tests."""
    per_chapter = words // chapters
    sentence = "The lamp burned low over the chart table while the ship held its heading. "  # 14 words
    paragraph = "<p>" + sentence * 10 + "</p>"  # 140 words
    body = paragraph * max(1, per_chapter // 140)
    return sample_book(
        chapters=[BookChapter(i, f"Part {i}", "", body, "") for i in range(1, chapters + 1)],
        word_count=words,
        chapters_display=f"{chapters}/{chapters}",
    )
