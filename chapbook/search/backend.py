"""One interface for full-text search; SQLite FTS5 or PostgreSQL full-text behind it.

The rest of Chapbook calls `get_backend()` and never asks which database is in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from chapbook.lib.searchquery import Query


@dataclass
class Hits:
    """Every listed work matching a query: ids ascending, with a relevance score each."""

    ids: np.ndarray  # int64, ascending, unique
    scores: np.ndarray  # float64, same order; higher is a better match


@dataclass(frozen=True)
class Snippet:
    html: str  # escaped text with the matched words in <mark>
    # The chapter the snippet comes from (its position), or None for title/summary/notes/tags.
    chapter: int | None = None


# How long a search's match may take (setting `SEARCH_TIMEOUT_MS`) before the reader is
# told to narrow it: phrases of common words can take seconds, and more as the archive
# grows (each backend says which).
TIMEOUT_MS = 10_000


class SearchTooSlow(Exception):
    """A query ran out of its time (`SEARCH_TIMEOUT_MS`) before it was answered."""


class SearchBackend(Protocol):
    # Whether `match` does less work when given `within`; if not, callers need not
    # compute it (it costs a look at the filter index, one query).
    uses_within: bool

    def index_works(self, work_ids: Sequence[int]) -> None:
        """(Re)index these works from the database; works no longer listed are removed."""

    def remove_works(self, work_ids: Sequence[int]) -> None: ...

    def reindex_all(self, progress: object = None) -> int:
        """Rebuild the whole index; returns the number of works indexed."""

    def match(self, query: Query, within: np.ndarray | None = None) -> Hits:
        """Listed works matching `query` (query.is_empty is never passed).

        `within`, ascending work ids (the works a search's filters allow), lets the backend
        leave out every other work, and skip checking them. It may also ignore it: the
        caller intersects the hits with the filters either way. Raises SearchTooSlow when
        a query runs out of time.
        """

    def snippets(self, query: Query, work_ids: Sequence[int]) -> dict[int, Snippet]:
        """A highlighted snippet for each of a page's works, where it matched."""


def get_backend() -> SearchBackend:
    """The backend for the database in use: FTS5 on SQLite, full-text search on PostgreSQL."""
    from django.db import connection

    if connection.vendor == "postgresql":
        from chapbook.search.postgres import PostgresBackend

        return PostgresBackend()
    from chapbook.search.sqlite import SQLiteBackend

    return SQLiteBackend()
