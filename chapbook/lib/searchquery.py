"""The reader's search language, parsed into a small tree every backend compiles.

    dragon "silver harbour" -angst title:lantern OR title:lamp creator:alice tag:fluff

Words must all match; `"..."` is an exact phrase; `-word` (or `-"phrase"`) excludes;
`OR` between two terms makes either enough; `title:`, `summary:`, `notes:`, `creator:`
and `tag:` restrict a term to one field. Text is folded the way the index folds it:
case, accents (`café` = `cafe`) and curly quotes (`don’t` = `don't`).
"""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = ("title", "summary", "notes", "creator", "tag")
MAX_QUERY_CHARS = 1000
MAX_TERMS = 32


@dataclass(frozen=True)
class Term:
    # Folded words; more than one means they must appear together, in order (a phrase).
    words: tuple[str, ...]
    # None: any field (title, summary, notes, tags, creators and the chapters' text).
    field: str | None = None


@dataclass(frozen=True)
class Clause:
    # Any one of these terms satisfies the clause ("a OR b" is one clause of two terms).
    any_of: tuple[Term, ...]
    negated: bool = False


@dataclass(frozen=True)
class Query:
    # Every positive clause must match; no negated clause may.
    clauses: tuple[Clause, ...]
    # Messages for the reader about what was read differently from what they typed
    # ("The query was cut to 1,000 characters.", "Only stop words: …").
    notes: tuple[str, ...] = ()

    @property
    def positive(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if not c.negated)

    @property
    def is_empty(self) -> bool:
        """Nothing to search for: no positive clause (a query of only exclusions is empty)."""
        return not self.positive

    def highlight_words(self) -> tuple[str, ...]:
        """The folded words of the positive clauses, for highlighting snippets."""
        return tuple(dict.fromkeys(w for c in self.positive for t in c.any_of for w in t.words))


def fold(text: str) -> str:
    """Case, accents and quote marks folded, as the index folds the text it stores."""
    raise NotImplementedError


def parse(text: str) -> Query:
    """Never raises, whatever `text` is."""
    raise NotImplementedError
