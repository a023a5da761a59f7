"""What a downloaded file says about a work, gathered once for every format.

Renderers (EPUB, PDF, HTML, text) take a `Book` and never touch the database, so they
can be tested on hand-made books and run in the task worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class BookChapter:
    position: int
    title: str  # "" when the chapter has none; renderers show "Chapter N" then
    notes_html: str
    html: str  # sanitized work HTML
    end_notes_html: str

    @property
    def display_title(self) -> str:
        return f"Chapter {self.position}: {self.title}" if self.title else f"Chapter {self.position}"


@dataclass(frozen=True)
class Book:
    identifier: str  # stable, e.g. "urn:chapbook:example.org:work:42"
    url: str  # absolute link back to the work
    title: str
    creators: list[str]  # display names; ["Anonymous"] for anonymous works, never a real name then
    language: str  # ISO 639-1 code
    word_count: int
    chapters_display: str  # "3/10", "2/?"
    published: datetime | None
    updated: datetime | None
    revised: datetime  # version of the work: part of every cache key
    summary_html: str = ""
    notes_html: str = ""
    end_notes_html: str = ""
    fandoms: list[str] = field(default_factory=list)
    ratings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    relationships: list[str] = field(default_factory=list)
    characters: list[str] = field(default_factory=list)
    freeforms: list[str] = field(default_factory=list)
    series: list[tuple[str, int]] = field(default_factory=list)  # (series title, part number)
    collections: list[str] = field(default_factory=list)  # titles of the collections it is approved in
    # The prompt memes it answers: (prompter's name as pages show it, collection title);
    # "Anonymous" for an anonymous prompter, never their name.
    fills: list[tuple[str, str]] = field(default_factory=list)
    source_site: str = ""
    source_url: str = ""
    prompt_text: str = ""
    prompt_relationship: str = ""
    chapters: list[BookChapter] = field(default_factory=list)
    site_name: str = "Chapbook"

    @property
    def subjects(self) -> list[str]:
        """Every tag, for dc:subject and similar."""
        return [
            *self.fandoms, *self.ratings, *self.warnings, *self.categories,
            *self.relationships, *self.characters, *self.freeforms,
        ]  # fmt: skip

    @property
    def fill_lines(self) -> list[str]:
        """ "In response to a prompt by NAME in COLLECTION", one per prompt the work fills."""
        return [f"In response to a prompt by {name} in {collection}" for name, collection in self.fills]

    @property
    def byline(self) -> str:
        return ", ".join(self.creators) if self.creators else "Anonymous"


@dataclass(frozen=True)
class Omnibus:
    """Several works in one file: a series as one EPUB."""

    identifier: str
    url: str
    title: str
    creators: list[str]
    language: str
    books: list[Book]
    summary_html: str = ""
    site_name: str = "Chapbook"
