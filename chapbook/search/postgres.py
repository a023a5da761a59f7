"""Full-text search on PostgreSQL: tsvectors with GIN indexes.

Two tables (migration 0001), and the phrase index's two (0006, `postings`):

- `search_work`: one row per listed work: a tsvector for each of its title, summary,
  notes (the work's and every chapter's), tags and creators, and `words`, every word of
  the work (those fields and the chapters) without positions. Plain words are matched
  in `words` alone, the whole query as one tsquery (`a & (b | c) & !d`) that the GIN
  index answers without reading a single vector.
- `search_chunk`: the chapters' text in pieces of at most CHUNK_WORDS words, each within
  one chapter and overlapping the one before by OVERLAP words, with positions: for the
  body's relevance, snippets, and the phrases the phrase index leaves. A tsvector keeps
  at most 256 positions of a word and none past 16,383, so one vector per work would
  lose phrases in long works; a piece this size keeps every position of every word. A piece's vector is kept in the
  table's own pages rather than out of line (`toast_tuple_target`): reading it then
  costs no lookups in a TOAST table, and most 1,000-word pieces fit uncompressed (some
  6 KB).

A phrase is found in the phrase index (`postings`: where each word of the chapters
stands, in two more tables), a few lists read and lined up, whatever the number of works
holding it. What that index cannot answer is confirmed in the pieces, and reading a
piece's vector is the cost (some 5 microseconds): a phrase whose last word is common
after a rarer one ("keeper owed her": the pair of "her" depends on the word after the
phrase), and the works indexed since their block of the phrase index was last written:
the pieces of each such work that has all its words, stopping at the first that holds it.
The phrase index off (`SEARCH_PG_PHRASE_INDEX`, for tests), the pieces holding all of a
phrase's less common words are counted and, when few, read; else every work's
(`_phrase_works`). The pieces have no GIN index any more (see `INDEXED`), so that count
is a scan.

The text search configuration `chapbook_english` folds accents (`unaccent`) and stems
English (Snowball) without a stop-word list, as FTS5 does on SQLite; ASCII punctuation is
made spaces before it reads a text (`_separated`), as FTS5 and the query parser treat it.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import string
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from psycopg.errors import QueryCanceled

from chapbook.lib.searchquery import MAX_PHRASE_WORDS, Query, Term
from chapbook.search import pairs, postings, snippets
from chapbook.search.backend import TIMEOUT_MS, Hits, SearchTooSlow, Snippet
from chapbook.search.documents import SEPARATOR, Document, TagNames, chapter_text, listed_works, load_documents
from chapbook.search.pairs import COMMON_WORDS
from chapbook.works.models import Chapter

CONFIG = "chapbook_english"
# Smaller pieces are cheaper to confirm a phrase in work by work, which stops at the first
# piece holding it: at 1,000 words rather than 2,000, "took a deep breath" in 6,882 works
# took 31 ms rather than 51, with a GIN index a fifth bigger.
CHUNK_WORDS = 1000
# Words each piece repeats from the end of the one before: a phrase up to the query's
# longest (MAX_PHRASE_WORDS words) is whole in one piece. A phrase whose words hold
# punctuation ("U.S.") counts more words in the text than in the query; one of 32 such
# words across a cut could still be missed.
OVERLAP = MAX_PHRASE_WORDS
COLUMN = {"title": "title", "summary": "summary", "notes": "notes", "tag": "tags", "creator": "creators"}
# What a term found in a group of fields adds to a work's score, as on SQLite: the title
# most, then tags and creators, then the summary and notes; the body's relevance adds at
# most 1, and the query's words side by side (an unquoted phrase) PHRASE_BONUS.
META_GROUPS = ((("title",), 8.0), (("tags", "creators"), 4.0), (("summary", "notes"), 2.0))
PHRASE_BONUS = 1.5
# Above this many matches, the body's rank and the phrase bonus (which read every
# matching piece's vector, some 50 microseconds each) are left out: works rank by
# their metadata alone, which the GIN indexes answer without reading the vectors.
RANK_CAP = 300
# With the phrase index off (tests): a phrase whose words are all in at most this many
# pieces is looked for in those pieces; beyond it, work by work (`_phrase_works`).
PIECE_LIMIT = 2500
# How long counting those pieces may take (`_few_pieces`), and the words left out of it.
PROBE_MS = 20
# Filters leaving at most this many works have their phrases confirmed work by work,
# without counting pieces first: the count would cost about what it saves. Measured at
# 100,000 works, within the biggest fandom's 6,882: the rare phrase 42 ms work by work and
# 40 ms after its count; "took a deep breath" 124 ms, and 149 after a count that gave up.
FEW_WORKS = 8000
# Within those, a phrase is read in the phrase index only if its lists are shorter than
# reading the works: a row of a list (2,000 places) costs about what one work's pieces
# do, once the lists keep only the filters' works (`works_holding`). Measured at 100,000
# works, within the biggest fandom's 6,882, p50 work by work against the lists: "took a
# deep breath" (1,558 rows) 106 ms and 44; "she looked at the door" 248 and 33.
WORKS_A_ROW = 1
COMMON = frozenset(COMMON_WORDS)
BATCH = 200
# No statement of a search may take longer than `SEARCH_TIMEOUT_MS` (backend.TIMEOUT_MS):
# a phrase of common words that is in few works, or in none, is confirmed by reading
# every piece of every work holding its words ("she looked at the door": 2.1 s at
# 100,000 works, 95 found; four such phrases ORed, 5.6 s), and grows with the archive.
# Past it the reader is told to narrow the search, and the connection is free again.
# Advisory lock keys: this plus the work's id ("search" in hex-speak, far above any id).
LOCK_KEYS = 0x5EA5C4 << 40
# And this plus a block's number, for writing the phrase index (`postings`).
BLOCK_KEYS = 0x5EA5C5 << 40
# How long after an edit its block of the phrase index is written again: the edits of
# that minute then cost one write (some 10 seconds for a full block). Meanwhile the
# edited works' phrases are confirmed in their pieces.
WRITE_DELAY = dt.timedelta(seconds=60)
TABLES = ("work", "chunk", "posting", "unposted")
PHRASE = f"phraseto_tsquery('{CONFIG}', %s)"
WORDS = f"plainto_tsquery('{CONFIG}', %s)"


def _text(term: Term) -> str | None:
    """The term's words; None if only punctuation, which cannot match and is dropped."""
    words = [w for w in term.words if snippets.has_token(w)]
    return " ".join(words) if words else None


def _exact_in_words(term: Term) -> bool:
    """Whether `words` alone decides the term: a single word (not `don't`), in any field."""
    text = _text(term)
    return term.field is None and text is not None and len(snippets.TOKEN.findall(text)) == 1


def _pieces_of(chunk: str, works: str) -> str:
    """The pieces of the works `works` names (`w.work_id`, `ANY(%s)`), as a table `c`.

    `OFFSET 0` keeps the primary key the way in: beside a text condition, the planner
    may otherwise take the pieces' GIN index, which for a common word is every piece in
    the archive, to be rechecked one by one.
    """
    return f"(SELECT work_id, chapter, body FROM {chunk} WHERE work_id = {works} OFFSET 0) AS c"


def _phrase_works(cursor: Any, backend: PostgresBackend, query: Query, within: np.ndarray | None) -> dict[str, Found]:
    """For each phrase of the query that can be found without reading every work, the works holding it.

    The phrase index (`postings`) answers most: every phrase whose last word is not a
    common word after a rarer one (its pair depends on the word after the phrase). For a
    phrase ending so, it gives the works holding the rest of it, whose pieces are read.
    The phrase index off (`SEARCH_PG_PHRASE_INDEX`), phrases are looked for in the pieces
    when all their words are in few pieces (counted and found by a scan), or else
    confirmed work by work (`_term_check`), as they are all when the filters leave few
    works (FEW_WORKS).
    """
    limit = getattr(settings, "SEARCH_PG_PIECE_LIMIT", PIECE_LIMIT)
    found: dict[str, Found] = {}
    few = within is not None and len(within) <= getattr(settings, "SEARCH_PG_FEW_WORKS", FEW_WORKS)
    unposted: list[int] | None = None
    for clause in query.clauses:
        for term in clause.any_of:
            text = _text(term)
            if text is None or term.field is not None or _exact_in_words(term) or text in found:
                continue
            made = pairs.for_thread(stem).phrase(text) if getattr(settings, "SEARCH_PG_PHRASE_INDEX", True) else None
            if made is not None and (not made[1] or len(made[0]) > 1):
                tokens, prefix = made
                if few and within is not None and _rows_of(cursor, backend, tokens[:-1] if prefix else tokens) * WORKS_A_ROW > len(within):
                    continue  # the filters' few works are read sooner than the lists
                if unposted is None:
                    cursor.execute(f"SELECT coalesce(array_agg(work_id), '{{}}') FROM {backend.unposted}")
                    unposted = cursor.fetchone()[0]
                with postings.binary_cursor() as lists:
                    held = postings.works_holding(lists, backend.posting, tokens[:-1] if prefix else tokens, within)
                if prefix:
                    # The phrase but its last word is in these works: only their text is read.
                    found[text] = Found([], np.union1d(held, unposted).tolist())
                else:
                    # An unposted work's keys may be from before its last edit: its text is read.
                    found[text] = Found(np.setdiff1d(held, unposted, assume_unique=True).tolist(), unposted)
            elif not few and _few_pieces(cursor, backend.chunk, text, limit):
                # The less common words are looked for (the common ones are in nearly
                # every piece); the phrase is checked in the pieces found.
                cursor.execute(
                    f"SELECT array_agg(DISTINCT work_id) FROM (SELECT work_id, body FROM {backend.chunk}"
                    f" WHERE body @@ {WORDS} OFFSET 0) AS c WHERE body @@ {PHRASE}",
                    [_rarer(text), text],
                )
                found[text] = Found(cursor.fetchone()[0] or [], [])
    return found


def _rows_of(cursor: Any, backend: PostgresBackend, tokens: Sequence[str]) -> int:
    """How many rows of the phrase index hold the lists of these tokens."""
    names = sorted({token for token, _ in postings.needed(tokens)})
    cursor.execute(f"SELECT count(*) FROM {backend.posting} WHERE token = ANY(%s)", [names])
    return int(cursor.fetchone()[0])


@dataclass(frozen=True)
class Found:
    """The works whose text holds a phrase, of all but `unsure`, whose text is read."""

    works: list[int]
    unsure: list[int]


def _rarer(text: str) -> str:
    """The phrase's words but the common ones: every piece holding it has them all."""
    return " ".join(word for word in text.split() if word.lower() not in COMMON)


def _few_pieces(cursor: Any, chunk: str, text: str, limit: int) -> bool:
    """Whether at most `limit` pieces have all the phrase's less common words.

    The common words are left out of the count, which gets PROBE_MS: a count cut short
    means many.
    """
    rarer = _rarer(text)
    if not rarer:
        return False
    milliseconds = getattr(settings, "SEARCH_PG_PROBE_MS", PROBE_MS)
    count = None
    with _locally(cursor, statement_timeout=f"{milliseconds}ms"):
        try:
            with transaction.atomic():  # a savepoint: a cancelled count leaves the transaction usable
                cursor.execute(f"SELECT count(*) FROM (SELECT FROM {chunk} WHERE body @@ {WORDS} LIMIT %s) AS c", [rarer, limit + 1])
                count = cursor.fetchone()[0]
        except OperationalError as error:
            if not isinstance(error.__cause__, QueryCanceled):
                raise
    return count is not None and count <= limit


def _term_check(term: Term, work: str, chunk: str, found: dict[str, Found]) -> tuple[str, list[Any]]:
    """SQL deciding whether a search_work row `w` matches the term.

    `found`: for phrases already looked for in the pieces (`_phrase_works`), the works
    whose text holds them.
    """
    text = _text(term) or ""  # never empty: compile_query passes terms with words only
    if term.field is not None:
        return f"w.{COLUMN[term.field]} @@ {PHRASE}", [text]
    if _exact_in_words(term):
        return f"w.words @@ {WORDS}", [text]
    fields = " OR ".join(f"w.{column} @@ q.p" for column in COLUMN.values())
    if text in found:
        known = found[text]
        if not known.unsure:
            return f"(w.work_id = ANY(%s::bigint[]) OR EXISTS (SELECT FROM (SELECT {PHRASE} AS p) AS q WHERE {fields}))", [known.works, text]
        return (
            f"(w.work_id = ANY(%s::bigint[]) OR EXISTS (SELECT FROM (SELECT {PHRASE} AS p) AS q WHERE {fields}"
            f" OR w.work_id = ANY(%s::bigint[]) AND EXISTS (SELECT FROM {_pieces_of(chunk, 'w.work_id')} WHERE c.body @@ q.p)))",
            [known.works, text, known.unsure],
        )
    # A phrase: in a metadata field, or in one piece of one chapter. `OFFSET 0` keeps the
    # pieces' check a subplan run for each work that gets this far, which stops at the
    # work's first piece holding the phrase. Without it the planner may hash the check
    # instead: every piece in the archive holding the words is read and tested first,
    # whatever the filters (`within`) left, and with no stopping at a work's first match.
    # Reading a piece's vector (TOAST) is most of the cost, some 6 microseconds.
    return (
        f"(w.words @@ {WORDS} AND EXISTS (SELECT FROM (SELECT {PHRASE} AS p) AS q"
        f" WHERE {fields} OR EXISTS (SELECT FROM {_pieces_of(chunk, 'w.work_id')} WHERE c.body @@ q.p)))",
        [_rarer(text) or text, text],
    )


def compile_query(
    query: Query,
    work: str = "search_work",
    chunk: str = "search_chunk",
    within: Sequence[int] | None = None,
    found: dict[str, Found] | None = None,
) -> tuple[str, list[Any]] | None:
    """SQL selecting the ids of the works matching `query`; user text only as parameters.

    `words @@ <tsquery>` comes first, a necessary condition the GIN index answers: every
    positive clause as the OR of its terms' words, every excluded plain word as `!`.
    Phrases and field terms are then checked on those rows alone, and only on the works
    in `within` when it is given. `found` maps a phrase to the works whose text holds
    it, where that is already known.
    """
    found = found or {}
    positive: list[list[Term]] = []
    for clause in query.positive:
        terms = [t for t in clause.any_of if _text(t) is not None]
        if terms:
            positive.append(terms)
    if not positive:
        return None
    negative = [[t for t in c.any_of if _text(t) is not None] for c in query.clauses if c.negated]
    negative = [terms for terms in negative if terms]

    needs: list[str] = []  # tsquery pieces, ANDed
    needs_params: list[Any] = []
    checks: list[str] = []  # SQL conditions, ANDed
    params: list[Any] = []
    for terms in positive:
        needs.append("(" + " || ".join([WORDS] * len(terms)) + ")")
        # A phrase's common words are left to its check: their lists in the index are
        # nearly every work, merged for nothing.
        needs_params += [_rarer(text) or text for t in terms if (text := _text(t))]
        if not all(_exact_in_words(t) for t in terms):
            parts = [_term_check(t, work, chunk, found) for t in terms]
            checks.append("(" + " OR ".join(sql for sql, _ in parts) + ")")
            params += [p for _, ps in parts for p in ps]
    for terms in negative:
        if all(_exact_in_words(t) for t in terms):
            needs.append("!!(" + " || ".join([WORDS] * len(terms)) + ")")
            needs_params += [_text(t) for t in terms]
        else:
            parts = [_term_check(t, work, chunk, found) for t in terms]
            checks.append("NOT (" + " OR ".join(sql for sql, _ in parts) + ")")
            params += [p for _, ps in parts for p in ps]
    narrow: list[str] = []
    narrow_params: list[Any] = []
    if within is not None:
        narrow.append("w.work_id = ANY(%s::bigint[])")
        narrow_params.append([int(pk) for pk in within])
    where = " AND ".join([f"w.words @@ ({' && '.join(needs)})", *narrow, *checks])
    return f"SELECT w.work_id FROM {work} w WHERE {where}", needs_params + narrow_params + params


def _phrase(query: Query) -> str | None:
    words = [
        clause.any_of[0].words[0]
        for clause in query.positive
        if len(clause.any_of) == 1 and clause.any_of[0].field is None and len(clause.any_of[0].words) == 1
    ]
    words = [w for w in words if snippets.has_token(w)]
    return " ".join(words) if len(words) > 1 else None


def _separated(text: str) -> str:
    """The text with its ASCII punctuation (the apostrophe aside) made spaces.

    So it is to SQLite's tokenizer and to the query parser; PostgreSQL's parser would keep
    "Kirk/Spock", "U.S.", "3.14" or "x@y.com" whole, one lexeme that no query makes (the
    query reads two words, "kirk" and "spock"). As bytes: UTF-8 never has an ASCII byte
    inside another character, and bytes.translate is some fifteen times faster than str's.
    """
    return text.encode().translate(_SEPARATORS).decode()


_SEPARATORS = bytes.maketrans(string.punctuation.replace("'", "").encode(), b" " * 31)


def _pieces(text: str) -> list[str]:
    """A chapter's text in pieces of at most CHUNK_WORDS words, each beginning with the
    last OVERLAP words of the one before: a phrase runs on from one paragraph to the next
    (as on SQLite), and one that a cut between two pieces would split is whole in the
    second. At 1,000 words a piece, a thirtieth more words indexed."""
    words = text.split()
    if len(words) <= CHUNK_WORDS:
        return [" ".join(words)]
    step = CHUNK_WORDS - OVERLAP
    return [" ".join(words[start : start + CHUNK_WORDS]) for start in range(0, len(words) - OVERLAP, step)]


def _parted(text: str) -> str:
    """A field of several parts (tags, creators) with a word no query makes between them,
    taken out of the vector again (`PARTED`) and leaving a gap in the positions, so that
    no phrase runs from one tag into the next. "0.0": the query, and `_separated`,
    read its full stop as a space."""
    return text.replace(SEPARATOR, f" {GAP} ")


GAP = "0.0"
PARTED = f"ts_delete(to_tsvector('{CONFIG}', %s), '{GAP}'::text)"


class PostgresBackend:
    work = "search_work"
    chunk = "search_chunk"
    posting = "search_posting"
    unposted = "search_unposted"
    uses_within = True

    def __init__(self, suffix: str = "") -> None:
        self.suffix = suffix
        if suffix:
            for table in TABLES:
                setattr(self, table, getattr(self, table) + suffix)

    # --- Writing --------------------------------------------------------------------

    def index_works(self, work_ids: Sequence[int]) -> None:
        ids = sorted({int(pk) for pk in work_ids})
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            with transaction.atomic(), connection.cursor() as cursor:
                # Two tasks indexing the same work would both insert its row: the second
                # waits here for the first to commit, then reads the work as it is now.
                cursor.execute("SELECT pg_advisory_xact_lock(%s + id) FROM unnest(%s::bigint[]) AS id ORDER BY id", [LOCK_KEYS, batch])
                self._unpost(cursor, batch)
                docs = load_documents(batch)
                self._delete(cursor, batch)
                self._insert(cursor, docs)
        self._write_later(ids)

    def remove_works(self, work_ids: Sequence[int]) -> None:
        ids = sorted({int(pk) for pk in work_ids})
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s + id) FROM unnest(%s::bigint[]) AS id ORDER BY id", [LOCK_KEYS, ids])
            self._unpost(cursor, ids)
            self._delete(cursor, ids)
        self._write_later(ids)

    def _unpost(self, cursor: Any, ids: list[int]) -> None:
        """The works' keys in the phrase index are out of date until their blocks are
        written again; a block being written is waited for (it reads what is committed)."""
        cursor.execute(
            "SELECT pg_advisory_xact_lock_shared(%s + block) FROM (SELECT DISTINCT id >> %s AS block"
            " FROM unnest(%s::bigint[]) AS id ORDER BY 1) AS b",
            [BLOCK_KEYS, postings.BLOCK_BITS, ids],
        )
        cursor.execute(f"INSERT INTO {self.unposted} SELECT unnest(%s::bigint[]) ON CONFLICT DO NOTHING", [ids])

    def _write_later(self, ids: list[int]) -> None:
        from chapbook.search.tasks import write_postings

        blocks = sorted({postings.block_of(pk) for pk in ids})
        if not blocks:
            return
        task = write_postings
        if task.get_backend().supports_defer:
            # A minute's edits in one write of their block.
            task = task.using(run_after=timezone.now() + WRITE_DELAY)
        transaction.on_commit(lambda: task.enqueue(blocks))

    def write_postings(self, blocks: Sequence[int] | None = None) -> None:
        """Write the phrase index again from the chapters of the works indexed: these
        blocks, those of them that hold an unposted work; or, when None, every block."""
        if blocks is None:
            self.write_blocks(self.blocks())
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT work_id >> %s FROM {self.unposted} WHERE work_id >> %s = ANY(%s) ORDER BY 1",
                [postings.BLOCK_BITS, postings.BLOCK_BITS, list(blocks)],
            )
            self.write_blocks([row[0] for row in cursor.fetchall()])

    def blocks(self) -> list[int]:
        """The blocks of the phrase index that the works indexed are in."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT work_id >> %s FROM {self.work} ORDER BY 1", [postings.BLOCK_BITS])
            return [row[0] for row in cursor.fetchall()]

    def write_blocks(self, todo: Sequence[int]) -> None:
        """Write these blocks of the phrase index; the works too long for it stay unposted."""
        made = pairs.for_thread(stem)
        for block in todo:
            with transaction.atomic(), connection.cursor() as cursor:
                # Indexing waits while the block is written: what it reads is then all of
                # the block's committed text, and each work unposted before is done.
                cursor.execute("SELECT pg_advisory_xact_lock(%s + %s)", [BLOCK_KEYS, block])
                first, last = block << postings.BLOCK_BITS, ((block + 1) << postings.BLOCK_BITS) - 1
                cursor.execute(f"SELECT work_id FROM {self.work} WHERE work_id BETWEEN %s AND %s ORDER BY work_id", [first, last])
                texts: dict[int, list[str]] = {row[0]: [] for row in cursor.fetchall()}
                rows = Chapter.objects.filter(work_id__in=list(texts)).order_by("work_id", "position", "pk")
                for work_id, title, html in rows.values_list("work_id", "title", "html").iterator(chunk_size=200):
                    texts[work_id].append(chapter_text(title, html))
                built, too_long = postings.build(made, block, texts)
                cursor.execute(f"DELETE FROM {self.posting} WHERE block = %s", [block])
                with cursor.copy(f"COPY {self.posting} (token, block, part, positions) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(["text", "int4", "int4", "bytea"])
                    size = postings.PART_BYTES
                    for token, data in built:
                        for part, start in enumerate(range(0, len(data), size)):
                            copy.write_row((token, block, part, data[start : start + size]))
                cursor.execute(f"DELETE FROM {self.unposted} WHERE work_id BETWEEN %s AND %s", [first, last])
                if too_long:
                    cursor.execute(f"INSERT INTO {self.unposted} SELECT unnest(%s::bigint[])", [too_long])

    def _delete(self, cursor: Any, ids: list[int]) -> None:
        cursor.execute(f"DELETE FROM {self.work} WHERE work_id = ANY(%s)", [ids])
        cursor.execute(f"DELETE FROM {self.chunk} WHERE work_id = ANY(%s)", [ids])

    def _insert(self, cursor: Any, docs: list[Document]) -> None:
        if not docs:
            return
        # `words` reads the pieces just written back by work id. A table still being
        # filled has no statistics: the planner guesses a fifth of a gigabyte-sized
        # table for each work, and reads it with parallel workers and JIT-compiled
        # code, some 70 ms a work. The primary key, plainly, while it runs.
        with _locally(cursor, enable_seqscan="off", jit="off", max_parallel_workers_per_gather="0"):
            rows = [
                (doc.work_id, position, part, piece)
                for doc in docs
                for position, text in doc.chapters
                for part, piece in enumerate(_pieces(_separated(text)))
            ]
            if rows:
                cursor.executemany(
                    f"INSERT INTO {self.chunk} (work_id, chapter, part, body) VALUES (%s, %s, %s, to_tsvector('{CONFIG}', %s))",
                    rows,
                )
            # `words` gathers the lexemes already made, rather than parsing the text again.
            vector = f"to_tsvector('{CONFIG}', %s)"
            cursor.executemany(
                f"INSERT INTO {self.work} (work_id, title, summary, notes, tags, creators, words)"
                f" SELECT v.id, v.title, v.summary, v.notes, v.tags, v.creators, array_to_tsvector(ARRAY("
                # array_to_tsvector sorts and drops repeats itself.
                f"SELECT lexeme FROM (SELECT (unnest(v.title || v.summary || v.notes || v.tags || v.creators)).lexeme"
                f" UNION ALL SELECT (unnest(c.body)).lexeme FROM {self.chunk} c WHERE c.work_id = v.id) AS l))"
                f" FROM (SELECT %s::bigint AS id, {vector} AS title, {vector} AS summary, {vector} AS notes,"
                f" {PARTED} AS tags, {PARTED} AS creators) AS v",
                [
                    (doc.work_id, *map(_separated, (doc.title, doc.summary, doc.notes)), *map(_parted, map(_separated, (doc.tags, doc.creators))))
                    for doc in docs
                ],
            )

    def reindex_all(self, progress: object = None) -> int:
        """Fill fresh tables beside the live ones, index them, then swap them in.

        Searches keep using the old tables meanwhile. Outside a transaction, several
        connections share the work: PostgreSQL tokenizes in one process per connection.
        Works changed while it ran are indexed again once the new tables are in place.
        """
        from chapbook.search.tasks import catch_up

        started = time.time()
        fresh = PostgresBackend(suffix="_new")
        with connection.cursor() as cursor:
            for statement in drop_statements(fresh) + create_statements(fresh, indexes=False):
                cursor.execute(statement)
        report: Callable[[int, int], None] = progress if callable(progress) else (lambda works, words: None)  # type: ignore[assignment]
        workers = 1 if connection.in_atomic_block else max(1, min(4, os.cpu_count() or 1))
        totals = [0, 0]
        lock = threading.Lock()

        def fill(batch: list[int], tag_names: TagNames) -> None:
            docs = load_documents(batch, tags=tag_names)
            with transaction.atomic(), connection.cursor() as cursor:
                fresh._insert(cursor, docs)
            with lock:
                totals[0] += len(docs)
                totals[1] += sum(doc.words for doc in docs)
                report(totals[0], totals[1])

        batches = _batches(listed_works(), BATCH)
        if workers == 1:
            names = TagNames()
            for batch in batches:
                fill(batch, names)
        else:
            _run_in_threads(batches, fill, workers)
        # The big index (`words`) first, while processes of their own write the phrase
        # index (Python's work, where the indexes' is the server's).
        statements = sorted(index_statements(fresh), key=lambda sql: "words" not in sql)
        statements += [f"ANALYZE {fresh.work}", f"ANALYZE {fresh.chunk}"]
        if workers == 1:
            fresh.write_postings()
            _run_statements(statements, workers)
        else:
            blocks = fresh.blocks()
            _in_parallel(
                lambda: postings.write_in_processes(fresh.suffix, blocks, workers=min(2, workers)),
                lambda: _run_statements(statements, workers),
            )
        # Without statistics the planner takes a list's few rows for a third of the
        # table, and reads them with parallel workers and a sort on disk: 70 ms, not 4.
        _run_statements([f"ANALYZE {fresh.posting}"], 1)
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in drop_statements(self):
                cursor.execute(statement)
            for statement in rename_statements(fresh, self):
                cursor.execute(statement)
        catch_up(started)
        return totals[0]

    # --- Reading --------------------------------------------------------------------

    def match(self, query: Query, within: np.ndarray | None = None) -> Hits:
        """The works matching `query` (of `within`, when given), with their scores.

        `within` decides the ranking as it decides the works: a filtered search ranks
        its works as the same query would in an archive holding only them. So when the
        filters leave RANK_CAP works or fewer, they are ranked by their text (and the
        phrase bonus) too, even if the query unfiltered matches too many works for that,
        and the body's relevance is scaled by the best of the filtered works. Its order
        can differ from the unfiltered order restricted to the filters in two ways: past
        the cap, the unfiltered order is the metadata's alone; and a phrase bonus (1.5)
        and a summary match (2) differ by less than the body's 0 to 1, so scaling by
        another best work can swap two works scored that way.
        """
        try:
            return self._match(query, within)
        except OperationalError as error:
            if isinstance(error.__cause__, QueryCanceled):
                raise SearchTooSlow from error
            raise

    def _match(self, query: Query, within: np.ndarray | None) -> Hits:
        empty = Hits(ids=np.zeros(0, dtype=np.int64), scores=np.zeros(0, dtype=np.float64))
        if within is not None and not len(within):
            return empty
        terms = [term for clause in query.positive for term in clause.any_of if _text(term)]
        any_text = [text for term in terms if (text := _text(term))]
        any_q = " || ".join([PHRASE] * len(any_text))
        cap = getattr(settings, "SEARCH_PG_RANK_CAP", RANK_CAP)
        with _index_scans(timeout=True) as cursor:
            narrow = None if within is None else within.tolist()
            phrases = _phrase_works(cursor, self, query, within)
            ids = self._known_ids(cursor, query, phrases, within)
            if ids is None:
                compiled = compile_query(query, self.work, self.chunk, within=narrow, found=phrases)
                if compiled is None:
                    return empty
                sql, params = compiled
                ids = _work_ids(cursor, sql, params)
            if not len(ids):
                return empty
            scores = np.zeros(len(ids), dtype=np.float64)
            if len(ids) <= cap:
                cursor.execute(
                    f"SELECT array_agg(work_id), array_agg(rank) FROM (SELECT work_id, max(ts_rank(body, q)) AS rank"
                    f" FROM {_pieces_of(self.chunk, 'ANY(%s)')}, (SELECT {any_q} AS q) AS query"
                    f" WHERE body @@ q GROUP BY work_id) AS ranked",
                    [ids.tolist(), *any_text],
                )
                _add(ids, scores, *cursor.fetchone())
                if scores.max(initial=0.0) > 0:
                    scores /= scores.max()  # the body's relevance, 0 to 1: below any metadata match
                phrase = _phrase(query)
                if phrase is not None:
                    fields = " OR ".join(f"w.{column} @@ q.p" for column in COLUMN.values())
                    cursor.execute(
                        f"SELECT array_agg(w.work_id) FROM {self.work} w, (SELECT {PHRASE} AS p) AS q"
                        f" WHERE w.work_id = ANY(%s) AND ({fields}"
                        f" OR EXISTS (SELECT FROM {_pieces_of(self.chunk, 'w.work_id')} WHERE c.body @@ q.p))",
                        [phrase, ids.tolist()],
                    )
                    phrased = cursor.fetchone()[0] or []
                    _add(ids, scores, phrased, [PHRASE_BONUS] * len(phrased))
            # Each term in each group of metadata fields: GIN lookups in small vectors. With
            # few works found, only theirs are rechecked (a phrase's candidates in the whole
            # archive can be thousands); with many, the list would cost more than it saves.
            only = " AND work_id = ANY(%s)" if len(ids) <= cap else ""
            only_params = [ids.tolist()] if only else []
            for columns, weight in META_GROUPS:
                for term in terms:
                    allowed = [c for c in columns if term.field is None or COLUMN[term.field] == c]
                    if allowed:
                        cursor.execute(
                            f"SELECT array_agg(work_id) FROM {self.work}, (SELECT {PHRASE} AS q) AS query"
                            f" WHERE ({' OR '.join(f'{column} @@ q' for column in allowed)}){only}",
                            [_text(term), *only_params],
                        )
                        hit = cursor.fetchone()[0] or []
                        _add(ids, scores, hit, [weight] * len(hit))
        return Hits(ids=ids, scores=scores)

    def _known_ids(self, cursor: Any, query: Query, phrases: dict[str, Found], within: np.ndarray | None) -> np.ndarray | None:
        """The works matching a query of phrases that the phrase index found, without SQL
        over the works: a list of 80,000 works passed back to the database in a query
        costs more than finding them. None when a term is anything else.

        A phrase's works are those the index found, those whose metadata holds it (the
        fields' GIN indexes), and those of its unposted works whose pieces hold it.
        """
        sets: list[tuple[bool, np.ndarray]] = []
        for clause in query.clauses:
            texts = [text for term in clause.any_of if (text := _text(term)) is not None]
            if any(term.field is not None for term in clause.any_of) or any(text not in phrases for text in texts):
                return None
            if not texts:
                continue
            sets.append((clause.negated, _distinct(np.concatenate([self._phrase_ids(cursor, text, phrases[text]) for text in texts]))))
        positive = [ids for negated, ids in sets if not negated]
        if not positive:
            return None
        ids = positive[0]
        for other in positive[1:]:
            ids = np.intersect1d(ids, other, assume_unique=True)
        for negated, other in sets:
            if negated:
                ids = np.setdiff1d(ids, other, assume_unique=True)
        if within is not None:
            ids = np.intersect1d(ids, within, assume_unique=True)
        return ids

    def _phrase_ids(self, cursor: Any, text: str, known: Found) -> np.ndarray:
        fields = " OR ".join(f"{column} @@ q.p" for column in COLUMN.values())
        cursor.execute(
            f"SELECT coalesce(array_agg(work_id), '{{}}') FROM {self.work}, (SELECT {PHRASE} AS p) AS q WHERE {fields}", [text]
        )
        ids = [np.array(known.works, dtype=np.int64), np.array(cursor.fetchone()[0], dtype=np.int64)]
        if known.unsure:
            cursor.execute(
                f"SELECT coalesce(array_agg(w.work_id), '{{}}') FROM {self.work} w, (SELECT {PHRASE} AS p) AS q"
                f" WHERE w.work_id = ANY(%s) AND EXISTS (SELECT FROM {_pieces_of(self.chunk, 'w.work_id')} WHERE c.body @@ q.p)",
                [text, known.unsure],
            )
            ids.append(np.array(cursor.fetchone()[0], dtype=np.int64))
        return np.concatenate(ids)

    def snippets(self, query: Query, work_ids: Sequence[int]) -> dict[int, Snippet]:
        """Each work's passage from its chapter holding the most terms, else from its fields.

        Only that chapter is read (the pieces say which it is), and the other fields only
        for the works whose text did not match: a chapter's text is the costly read.
        """
        ids = sorted({int(pk) for pk in work_ids})
        if not ids:
            return {}
        terms = [text for clause in query.positive for term in clause.any_of if term.field is None and (text := _text(term))]
        texts = self._chapter_texts(self._best_chapters(ids, terms)) if terms else {}
        found = snippets.build(query, {pk: snippets.Source(chapters=[chapter]) for pk, chapter in texts.items()}, stem)
        rest = [pk for pk in ids if pk not in found]
        if rest:
            sources = {
                doc.work_id: snippets.Source(doc.title, doc.summary, doc.notes, doc.tags, doc.creators)
                for doc in load_documents(rest, chapters=False)
            }
            found.update(snippets.build(query, sources, stem))
        return found

    def _best_chapters(self, ids: list[int], terms: list[str]) -> dict[int, int]:
        """Each work's chapter holding the most of the terms (the first of those), if any."""
        held = " + ".join(f"bool_or(body @@ q{i})::int" for i in range(len(terms)))
        queries = ", ".join(f"{PHRASE} AS q{i}" for i in range(len(terms)))
        any_q = " || ".join(f"q{i}" for i in range(len(terms)))
        with _index_scans() as cursor:
            cursor.execute(
                f"SELECT work_id, chapter, {held} FROM {_pieces_of(self.chunk, 'ANY(%s)')}, (SELECT {queries}) AS query"
                f" WHERE body @@ ({any_q}) GROUP BY work_id, chapter ORDER BY work_id, chapter",
                [ids, *terms],
            )
            best: dict[int, tuple[int, int]] = {}
            for work_id, position, count in cursor.fetchall():
                if count > best.get(work_id, (0, 0))[1]:
                    best[work_id] = (position, count)
        return {work_id: position for work_id, (position, _) in best.items()}

    def _chapter_texts(self, chapters: dict[int, int]) -> dict[int, tuple[int, str]]:
        """(position, text) of the chosen chapter of each work."""
        if not chapters:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.work_id, c.position, c.title, c.html FROM {Chapter._meta.db_table} c"
                " JOIN unnest(%s::bigint[], %s::integer[]) AS w(work_id, position)"
                " ON c.work_id = w.work_id AND c.position = w.position",
                [list(chapters), list(chapters.values())],
            )
            return {pk: (position, chapter_text(title, html)) for pk, position, title, html in cursor.fetchall()}


@contextmanager
def _index_scans(timeout: bool = False) -> Iterator[Any]:
    """A cursor whose queries read the GIN indexes rather than every row.

    The planner prices `body @@ query` on a sequential scan as one cheap comparison a
    row, not seeing that each row's vector is out of line (TOAST) and must be fetched
    and decompressed first; on a small table it then scans everything, several times
    slower than the index. JIT compiling is off too: the planner's costs of reading the
    pieces are high enough to compile, which takes longer (some 6 ms) than it saves.
    The settings are local to the transaction, and put back. With `timeout`, each
    statement also gets at most SEARCH_TIMEOUT_MS.
    """
    values = {"enable_seqscan": "off", "jit": "off"}
    if timeout:
        values["statement_timeout"] = f"{getattr(settings, 'SEARCH_TIMEOUT_MS', TIMEOUT_MS)}ms"
    with transaction.atomic(), connection.cursor() as cursor, _locally(cursor, **values):
        yield cursor


@contextmanager
def _locally(cursor: Any, **values: str) -> Iterator[None]:
    """These settings for the block, local to the transaction, then put back.

    A block that raises leaves them as they are: the rollback that follows undoes them.
    """
    names = list(values)
    # One query: the select list reads the settings before it sets them.
    cursor.execute(
        "SELECT " + ", ".join(["current_setting(%s)"] * len(names) + [SET] * len(names)),
        [*names, *_pairs(names, list(values.values()))],
    )
    previous = list(cursor.fetchone()[: len(names)])
    yield
    cursor.execute("SELECT " + ", ".join([SET] * len(names)), _pairs(names, previous))


SET = "set_config(%s, %s, true)"


def _pairs(names: list[str], values: list[str]) -> list[str]:
    return [item for pair in zip(names, values) for item in pair]


def _work_ids(cursor: Any, sql: str, params: list[Any]) -> np.ndarray:
    """The `work_id`s of the query's rows, ascending (each row a different work).

    As bytes, eight a work, sorted here: an array of 95,000 ids ("door") was some 10 ms
    to sort on the server and write and read back as text.
    """
    cursor.execute(f"SELECT string_agg(int8send(work_id), '') FROM ({sql}) AS hits", params)
    data = cursor.fetchone()[0]
    return np.sort(np.frombuffer(bytes(data or b""), dtype=">i8").astype(np.int64))


def _distinct(ids: np.ndarray) -> np.ndarray:
    """The ids ascending, each once: np.unique hashes, ten times slower on 80,000 ids that
    are mostly in order already."""
    ids = np.sort(ids, kind="stable")
    return ids[np.concatenate(([True], ids[1:] != ids[:-1]))] if len(ids) else ids


def _add(ids: np.ndarray, scores: np.ndarray, found: list[int] | None, values: list[float] | None) -> None:
    if not found or not values:
        return
    keys = np.array(found, dtype=np.int64)
    ranks = np.array(values, dtype=np.float64)
    at = np.searchsorted(ids, keys)
    inside = at < len(ids)
    at, keys, ranks = at[inside], keys[inside], ranks[inside]
    hit = ids[at] == keys
    np.add.at(scores, at[hit], ranks[hit])


def stem(texts: Sequence[str]) -> list[tuple[str, ...]]:
    """Each text's lexemes in order, as `chapbook_english` makes them."""
    if not texts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.i, v.lexeme, p FROM unnest(%s::text[]) WITH ORDINALITY AS t(w, i),"
            f" LATERAL unnest(to_tsvector('{CONFIG}', t.w)) AS v, LATERAL unnest(v.positions) AS p ORDER BY t.i, p",
            [list(texts)],
        )
        rows = cursor.fetchall()
    found: list[list[str]] = [[] for _ in texts]
    for i, lexeme, _position in rows:
        # Tokens the parser keeps whole ("0.5", "a.b" as a host name) are not words the text shows.
        if snippets.TOKEN.fullmatch(lexeme):
            found[i - 1].append(lexeme)
    return [tuple(lexemes) for lexemes in found]


def _run_statements(statements: list[str], workers: int) -> None:
    """Index builds and ANALYZE, several at once when outside a transaction."""

    def run(statement: str) -> None:
        with connection.cursor() as cursor:
            # A GIN build gathers entries in memory and writes them out each time it is
            # full: `words` is a hundred million entries and more.
            memory = "2GB" if "_words_idx" in statement else "512MB"
            cursor.execute(f"SET maintenance_work_mem = '{memory}'")
            cursor.execute(statement)
            cursor.execute("RESET maintenance_work_mem")

    if workers == 1:
        for statement in statements:
            run(statement)
        return
    todo: queue.Queue[str] = queue.Queue()
    for statement in statements:
        todo.put(statement)

    def work() -> None:
        while True:
            try:
                statement = todo.get_nowait()
            except queue.Empty:
                return
            run(statement)

    _in_parallel(*[work] * workers)


def _in_parallel(*calls: Callable[[], None]) -> None:
    """Each call in a thread of its own, with its own database connection; the first
    error raised again here once all are done."""
    from django.db import connections

    errors: list[BaseException] = []

    def run(call: Callable[[], None]) -> None:
        try:
            call()
        except BaseException as error:  # reported by the calling thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,), daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _batches(ids: Any, size: int) -> Any:
    batch: list[int] = []
    for pk in ids:
        batch.append(pk)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _run_in_threads(batches: Any, fill: Callable[[list[int], TagNames], None], workers: int) -> None:
    """Each thread has its own database connection, closed when it is done."""
    from django.db import connections

    todo: queue.Queue[list[int] | None] = queue.Queue(maxsize=workers * 2)
    errors: list[BaseException] = []

    def work() -> None:
        names = TagNames()
        try:
            while (batch := todo.get()) is not None:
                if not errors:
                    try:
                        fill(batch, names)
                    except BaseException as error:  # reported by the main thread
                        errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for batch in batches:
        if errors:
            break
        todo.put(batch)
    for _ in threads:
        todo.put(None)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def create_statements(backend: PostgresBackend, *, indexes: bool = True) -> list[str]:
    tables = [
        f"CREATE TABLE {backend.work} (work_id bigint PRIMARY KEY, title tsvector NOT NULL, summary tsvector NOT NULL,"
        " notes tsvector NOT NULL, tags tsvector NOT NULL, creators tsvector NOT NULL, words tsvector NOT NULL)",
        f"CREATE TABLE {backend.chunk} (work_id bigint NOT NULL, chapter integer NOT NULL, part integer NOT NULL,"
        " body tsvector NOT NULL, PRIMARY KEY (work_id, chapter, part))",
        # ANALYZE counts every lexeme of the rows it samples (300 x the target), a
        # thousand and more a piece. The planner needs little of it for the pieces: every
        # query of them is an index scan (`_index_scans`). For `words` it needs the
        # common words' frequencies (about a second of ANALYZE at 100,000 works): a
        # filtered search then intersects the GIN index's works with the filters' in
        # the index (BitmapAnd) rather than reading every work that has the words.
        # Tokens compare as bytes: the lists are looked up, never sorted for a reader.
        f"CREATE TABLE {backend.posting} (token text COLLATE \"C\" NOT NULL, block integer NOT NULL,"
        " part integer NOT NULL, positions bytea NOT NULL, PRIMARY KEY (token, block, part))",
        # A list is read whole, and compressing keys is slower than reading them; each row
        # fits a page.
        f"ALTER TABLE {backend.posting} ALTER COLUMN positions SET STORAGE PLAIN",
        f"CREATE INDEX {backend.posting}_block_idx ON {backend.posting} (block)",
        f"CREATE TABLE {backend.unposted} (work_id bigint PRIMARY KEY)",
        f"ALTER TABLE {backend.work} ALTER COLUMN words SET STATISTICS 100",
        f"ALTER TABLE {backend.chunk} ALTER COLUMN body SET STATISTICS 10",
        *tuning_statements(backend),
    ]
    return tables + (index_statements(backend) if indexes else [])


def tuning_statements(backend: PostgresBackend) -> list[str]:
    # Rows up to a page's size stay in the table's pages, compressed, rather than TOAST.
    return [f"ALTER TABLE {backend.chunk} SET (toast_tuple_target = 8160)"]


# The pieces have no GIN index since the phrase index: it found the pieces holding a
# rare phrase's words, which the phrase index answers, and its build was a fifth of a
# rebuild's time.
INDEXED = (("work", "title"), ("work", "summary"), ("work", "notes"), ("work", "tags"), ("work", "creators"),
           ("work", "words"))  # fmt: skip


def index_statements(backend: PostgresBackend) -> list[str]:
    return [
        f"CREATE INDEX {getattr(backend, table)}_{column}_idx ON {getattr(backend, table)} USING gin ({column})"
        for table, column in INDEXED
    ]


def drop_statements(backend: PostgresBackend) -> list[str]:
    return [f"DROP TABLE IF EXISTS {getattr(backend, table)}" for table in TABLES]


def rename_statements(old: PostgresBackend, new: PostgresBackend) -> list[str]:
    statements = []
    for table in TABLES:
        old_table, new_table = getattr(old, table), getattr(new, table)
        statements.append(f"ALTER TABLE {old_table} RENAME TO {new_table}")
        statements.append(f"ALTER INDEX {old_table}_pkey RENAME TO {new_table}_pkey")
    statements.append(f"ALTER INDEX {old.posting}_block_idx RENAME TO {new.posting}_block_idx")
    for table, column in INDEXED:
        old_table, new_table = getattr(old, table), getattr(new, table)
        statements.append(f"ALTER INDEX {old_table}_{column}_idx RENAME TO {new_table}_{column}_idx")
    return statements
