"""Full-text search on SQLite: FTS5.

Three tables (migrations 0001 and 0002):

- `search_fts`: one row per listed work (rowid = work id), columns title, summary,
  notes, tags, creators, body (every chapter) and common. Matching runs here, so a
  query's words may fall in different fields and chapters of the work, and FTS5
  evaluates the whole query in one pass. Each field is indexed with its common words
  paired with the word after them (`chapbook.search.pairs`): a phrase of common words
  reads the pairs' short lists, not the words' enormous ones. `common` holds the common
  words alone, for a search of one of them.
- `search_meta`: the same row without the body, for ranking: which works have a term in
  their title, tags or summary is read from its small posting lists, where asking
  `search_fts` would walk every position of the word in every chapter. (Its bm25 is
  not used: FTS5's bm25 divides by the length of the whole row, so a title match in a
  200,000-word work would count for less than a passing word in a short one.)
- `search_indexed`: what each row was built from, compressed. Both FTS tables are
  contentless (the text is not stored twice; the chapters are already in the database),
  and SQLite before 3.43 can only remove a contentless row given the exact values it
  was indexed with. It is half the size of the text or less, and snippets read it too.

The tokenizer is `porter unicode61 remove_diacritics 2`: case and accents folded,
English stems, and quotes and apostrophes, straight or curly, separate words, so
`don't` and `don’t` are the same two tokens. What the tables index is the text already
made into those tokens (and pairs) by `pairs.Pairs`, through the same tokenizer, and
every query term is made the same way, so the two agree by construction.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import zlib
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
from django.conf import settings
from django.db import OperationalError, connection, connections, transaction

from chapbook.lib.searchquery import Clause, Query, Term
from chapbook.search import pairs as word_pairs
from chapbook.search import snippets
from chapbook.search.backend import TIMEOUT_MS, Hits, SearchTooSlow, Snippet
from chapbook.search.documents import FIELDS, Document, TagNames, listed_works, load_documents

TOKENIZE = "porter unicode61 remove_diacritics 2"
FTS_FIELDS = (*FIELDS, "common")
META_FIELDS = FIELDS[:-1]
COLUMN = {"title": "title", "summary": "summary", "notes": "notes", "tag": "tags", "creator": "creators"}
# What a term found in a group of fields adds to a work's score: a title match counts
# most, then tags and creators, then the summary and notes; the body's relevance adds
# at most 1, and the query's words side by side (an unquoted phrase) PHRASE_BONUS.
META_GROUPS = ((("title",), 8.0), (("tags", "creators"), 4.0), (("summary", "notes"), 2.0))
PHRASE_BONUS = 1.5
# Past this many terms, a group of fields is asked once, for any of them.
MAX_RANKED_TERMS = 4
# Above this many matches, bm25 over the body (several microseconds a work for a common
# word) is left out: works rank by their metadata (and the phrase bonus) alone.
RANK_CAP = 5_000
BATCH = 200
# A rebuild commits every this many words (a second or two of the write lock at a time).
COMMIT_WORDS = 3_000_000
HASH_SIZE = 64 * 1024 * 1024
# The tables a rebuild replaced are renamed with this, and freed in the background this
# many rows a transaction (`free_retired`): some 7 MB of the source at 14 KB a work.
RETIRED = "_retired"
RETIRED_ROWS = 500
# How often (in SQLite's virtual machine steps) a search looks at its clock: about every
# tenth of a millisecond, for a cost too small to measure.
CLOCK_STEPS = 10_000


def _text(term: Term) -> str | None:
    """The term's words; None if only punctuation, which cannot match and is dropped."""
    words = [w for w in term.words if snippets.has_token(w)]
    return " ".join(words) if words else None


def _pairs() -> word_pairs.Pairs:
    return word_pairs.for_thread(stem)


def _phrase(text: str, columns: Sequence[str] | None = None, *, common_column: bool = False) -> str | None:
    """The FTS5 expression matching `text` as a phrase, in `columns` (None: any).

    The phrase is the stream the index holds (`Pairs.phrase`): tokens FTS5 made, joined
    by a private-use character, so nothing in it is FTS5 syntax. One common word alone
    is looked up in the column of common words when there is one (`common_column`),
    else as the prefix of its pairs.
    """
    made = _pairs().phrase(text)
    if made is None:
        return None
    tokens, prefix = made
    if common_column and columns is None and prefix and len(tokens) == 1:
        return '{common} : "' + tokens[0].removesuffix(word_pairs.JOIN) + '"'
    phrase = '"' + " ".join(tokens) + '"' + (" *" if prefix else "")
    return f"{{{' '.join(columns)}}} : {phrase}" if columns else phrase


def _term(term: Term) -> str | None:
    text = _text(term)
    if text is None:
        return None
    if term.field is None:
        return _phrase(text, common_column=True)
    return _phrase(text, [COLUMN[term.field]])


def _clause(clause: Clause) -> str | None:
    terms = [t for t in (_term(term) for term in clause.any_of) if t is not None]
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def compile_query(query: Query) -> str | None:
    """The FTS5 expression for `query`, or None when nothing in it can match."""
    positive = [c for c in (_clause(clause) for clause in query.positive) if c is not None]
    if not positive:
        return None
    expression = " AND ".join(positive)
    for clause in query.clauses:
        if clause.negated and (negative := _clause(clause)) is not None:
            # FTS5's NOT is binary ("a NOT b"), and left-associative, so it chains.
            expression = f"({expression}) NOT {negative}"
    return expression


def _meta_queries(query: Query) -> list[tuple[str, float]]:
    """(expression, weight): the works matching each term in each group of metadata fields.

    A work scores a group's weight for each term found there. Only which works match is
    asked, never bm25, which costs some 2.5 microseconds a row: hundreds of milliseconds
    for a common word in a large archive. With many terms, a group is asked once.
    """
    terms = [(term.field, text) for clause in query.positive for term in clause.any_of if (text := _text(term))]
    expressions = []
    for columns, weight in META_GROUPS:
        parts = []
        for field, text in terms:
            allowed = [column for column in columns if field is None or COLUMN[field] == column]
            if allowed:
                if (expression := _phrase(text, allowed)) is not None:
                    parts.append(expression)
        if len(parts) > MAX_RANKED_TERMS:
            parts = [" OR ".join(parts)]
        expressions += [(part, weight) for part in parts]
    return expressions


def _positions(ids: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Where the ids in `found` are in `ids` (both ascending; those not in it left out)."""
    at = np.searchsorted(ids, found)
    inside = at < len(ids)
    at, found = at[inside], found[inside]
    return at[ids[at] == found]


def _phrase_query(query: Query) -> str | None:
    """The query's plain words as one phrase, when it has several: "silver harbour"."""
    words = [
        clause.any_of[0].words[0]
        for clause in query.positive
        if len(clause.any_of) == 1 and clause.any_of[0].field is None and len(clause.any_of[0].words) == 1
    ]
    words = [w for w in words if snippets.has_token(w)]
    return _phrase(" ".join(words)) if len(words) > 1 else None


Row = tuple[str, str, str, str, str, str, str]  # FTS_FIELDS' values


def _row(doc: Document) -> Row:
    """The document's fields as indexed (common words paired), then its common words."""
    streams, common = _pairs().grams(doc.parts())
    return (*streams, common)  # type: ignore[return-value]


def _prepare(doc: Document) -> tuple[bytes, Row]:
    """What indexing a document takes: its compressed source and its row."""
    return _encode(doc), _row(doc)


def _encode(doc: Document) -> bytes:
    return zlib.compress(
        json.dumps([doc.title, doc.summary, doc.notes, doc.tags, doc.creators, doc.chapters]).encode(), 1
    )


def _decode(work_id: int, data: bytes) -> Document:
    title, summary, notes, tags, creators, chapters = json.loads(zlib.decompress(data))
    return Document(work_id, title, summary, notes, tags, creators, [(int(p), t) for p, t in chapters])


def _ids(cursor: Any, sql: str, params: Sequence[Any]) -> np.ndarray:
    """A column of integers as an array, without a Python object per row."""
    cursor.execute(f"SELECT group_concat(value) FROM ({sql})", params)
    text = cursor.fetchone()[0]
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")  # C speed; a list of strings is 7x slower


class SQLiteBackend:
    fts = "search_fts"
    meta = "search_meta"
    indexed = "search_indexed"
    uses_within = False  # see match()

    def __init__(self, suffix: str = "") -> None:
        if suffix:
            self.fts, self.meta, self.indexed = (f"{name}{suffix}" for name in (self.fts, self.meta, self.indexed))

    # --- Writing --------------------------------------------------------------------

    def index_works(self, work_ids: Sequence[int]) -> None:
        ids = sorted({int(pk) for pk in work_ids})
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            # Read inside the write transaction (SQLite's write lock is taken at BEGIN), so
            # of two tasks indexing the same work, the later one writes the later text.
            with transaction.atomic(), connection.cursor() as cursor:
                docs = load_documents(batch)
                self._delete(cursor, batch)
                self._insert(cursor, docs)

    def remove_works(self, work_ids: Sequence[int]) -> None:
        ids = sorted({int(pk) for pk in work_ids})
        for start in range(0, len(ids), BATCH):
            with transaction.atomic(), connection.cursor() as cursor:
                self._delete(cursor, ids[start : start + BATCH])

    def _delete(self, cursor: Any, ids: list[int]) -> None:
        marks = ",".join("%s" for _ in ids)
        cursor.execute(f"SELECT work_id, fields FROM {self.indexed} WHERE work_id IN ({marks})", ids)
        old = [_decode(pk, data) for pk, data in cursor.fetchall()]
        if not old:
            return
        # The rows are made again from the same text: the same tokens as when indexed.
        rows = [(doc.work_id, _row(doc)) for doc in old]
        cursor.executemany(
            f"INSERT INTO {self.fts} ({self.fts}, rowid, {', '.join(FTS_FIELDS)}) VALUES ('delete', %s, %s, %s, %s, %s, %s, %s, %s)",
            [(pk, *row) for pk, row in rows],
        )
        cursor.executemany(
            f"INSERT INTO {self.meta} ({self.meta}, rowid, {', '.join(META_FIELDS)}) VALUES ('delete', %s, %s, %s, %s, %s, %s)",
            [(pk, *row[:5]) for pk, row in rows],
        )
        cursor.execute(f"DELETE FROM {self.indexed} WHERE work_id IN ({marks})", ids)

    def _insert(self, cursor: Any, docs: list[Document], prepared: list[tuple[bytes, Row]] | None = None) -> None:
        if not docs:
            return
        prepared = prepared or [_prepare(doc) for doc in docs]
        encoded = [data for data, _ in prepared]
        cursor.executemany(
            f"INSERT INTO {self.fts} (rowid, {', '.join(FTS_FIELDS)}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(doc.work_id, *row) for doc, (_, row) in zip(docs, prepared)],
        )
        cursor.executemany(
            f"INSERT INTO {self.meta} (rowid, {', '.join(META_FIELDS)}) VALUES (%s, %s, %s, %s, %s, %s)",
            [(doc.work_id, *row[:5]) for doc, (_, row) in zip(docs, prepared)],
        )
        cursor.executemany(
            f"INSERT INTO {self.indexed} (work_id, fields) VALUES (%s, %s)",
            [(doc.work_id, data) for doc, data in zip(docs, encoded)],
        )

    def reindex_all(self, progress: object = None) -> int:
        """Build fresh tables beside the live ones, then swap them in.

        Searches keep using the old index meanwhile, and each batch commits on its own,
        so posting never waits for the rebuild. Works changed while it ran are indexed
        again once the new tables are in place.
        """
        from chapbook.search.tasks import catch_up, free_retired

        started = time.time()
        fresh = SQLiteBackend(suffix="_new")
        with connection.cursor() as cursor:
            for statement in drop_statements(fresh) + create_statements(fresh):
                cursor.execute(statement)
        report: Callable[[int, int], None] = progress if callable(progress) else (lambda works, words: None)  # type: ignore[assignment]
        with connection.cursor() as cursor:
            for table in (fresh.fts, fresh.meta):
                # FTS5 writes a segment each time this much is pending (1 MB by default):
                # bigger segments, fewer merges; bulk loading is twice as fast. (Later
                # writes are a few works a transaction, far below it.)
                cursor.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('hashsize', %s)", [HASH_SIZE])
        total = words = 0
        prepared = _prepared(listed_works(), threaded=not connection.in_atomic_block)
        for group in _grouped(prepared, COMMIT_WORDS):
            with transaction.atomic(), connection.cursor() as cursor:
                for docs, prepared in group:
                    fresh._insert(cursor, docs, prepared)
                    total += len(docs)
                    words += sum(doc.words for doc in docs)
                    report(total, words)
        # The old tables are renamed aside, not dropped: SQLite frees a table page by
        # page, reading each (3.7 GB at 100,000 works: two minutes), and posting would
        # wait for it. A background task frees them a few rows a transaction.
        retired = SQLiteBackend(suffix=RETIRED)
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in drop_statements(retired):  # an earlier rebuild's, not yet freed
                cursor.execute(statement)
            cursor.execute("SELECT name FROM sqlite_master WHERE name IN (%s, %s, %s)", [self.fts, self.meta, self.indexed])
            live = {row[0] for row in cursor.fetchall()}
            for name, old in ((self.fts, retired.fts), (self.meta, retired.meta), (self.indexed, retired.indexed)):
                if name in live:
                    cursor.execute(f"ALTER TABLE {name} RENAME TO {old}")
            for old, new in ((fresh.fts, self.fts), (fresh.meta, self.meta), (fresh.indexed, self.indexed)):
                cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")
        catch_up(started)
        transaction.on_commit(lambda: free_retired.enqueue())
        return total

    def free_retired(self) -> int:
        """Free the tables a rebuild put aside, RETIRED_ROWS rows a transaction (each a
        moment of the write lock), then drop what is left of them. Returns rows deleted."""
        retired = SQLiteBackend(suffix=RETIRED)
        deleted = 0
        # The big ones: the source table and the FTS5 tables' segments (shadow tables,
        # written to here only to be dropped). FTS5 reads its rows 1 and 10 (averages,
        # structure) to open the table, so to drop it: those stay.
        for table, first in ((retired.indexed, 0), (f"{retired.fts}_data", 10), (f"{retired.meta}_data", 10)):
            while True:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
                    if cursor.fetchone() is None:
                        break
                    cursor.execute(
                        f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE rowid > %s LIMIT %s)",
                        [first, RETIRED_ROWS],
                    )
                    deleted += max(cursor.rowcount, 0)
                    if cursor.rowcount < RETIRED_ROWS:
                        break
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in drop_statements(retired):
                cursor.execute(statement)
        return deleted

    # --- Reading --------------------------------------------------------------------

    def match(self, query: Query, within: np.ndarray | None = None) -> Hits:
        # `within` is ignored: FTS5 reads a phrase's posting lists whole whatever rows are
        # wanted, so leaving works out would not make the match cheaper, and the ranking
        # stays the unfiltered one.
        expression = compile_query(query)
        empty = Hits(ids=np.zeros(0, dtype=np.int64), scores=np.zeros(0, dtype=np.float64))
        if expression is None:
            return empty
        with _time_limit(getattr(settings, "SEARCH_TIMEOUT_MS", TIMEOUT_MS)):
            return self._match(query, expression, empty)

    def _match(self, query: Query, expression: str, empty: Hits) -> Hits:
        cap = getattr(settings, "SEARCH_RANK_CAP", RANK_CAP)
        # A query of field terms only is answered from the metadata's small posting lists;
        # in search_fts, `{title} : "the"` would walk every "the" of every chapter first.
        fields_only = all(term.field is not None for clause in query.clauses for term in clause.any_of)
        table = self.meta if fields_only else self.fts
        with connection.cursor() as cursor:
            ids = _ids(cursor, f"SELECT rowid AS value FROM {table} WHERE {table} MATCH %s", [expression])
            if not len(ids):
                return empty
            scores = np.zeros(len(ids), dtype=np.float64)
            if len(ids) <= cap and not fields_only:
                # The body's own relevance: bm25 over the body column alone. Above the cap
                # it would cost more than the reader waits (some 3 microseconds a work for a
                # common word), and works rank by their metadata alone.
                cursor.execute(
                    f"SELECT rowid, -bm25({self.fts}, 0, 0, 0, 0, 0, 1, 1) FROM {self.fts} WHERE {self.fts} MATCH %s",
                    [expression],
                )
                rows = cursor.fetchall()
                ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                scores = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
            order = np.argsort(ids, kind="stable")
            ids, scores = ids[order], scores[order]
            if scores.max(initial=0.0) > 0:
                scores /= scores.max()  # the body's relevance, 0 to 1: below any metadata match
            for meta_expression, weight in _meta_queries(query):
                found = _ids(cursor, f"SELECT rowid AS value FROM {self.meta} WHERE {self.meta} MATCH %s", [meta_expression])
                scores[_positions(ids, found)] += weight
            phrase = _phrase_query(query)
            # The phrase of the words' pairs: lists a tenth the size of the words', cheap
            # enough for any number of matches.
            if phrase is not None:
                found = _ids(cursor, f"SELECT rowid AS value FROM {self.fts} WHERE {self.fts} MATCH %s", [phrase])
                scores[_positions(ids, found)] += PHRASE_BONUS
        return Hits(ids=ids, scores=scores)

    def snippets(self, query: Query, work_ids: Sequence[int]) -> dict[int, Snippet]:
        ids = sorted({int(pk) for pk in work_ids})
        if not ids:
            return {}
        with connection.cursor() as cursor:
            marks = ",".join("%s" for _ in ids)
            cursor.execute(f"SELECT work_id, fields FROM {self.indexed} WHERE work_id IN ({marks})", ids)
            docs = [_decode(pk, data) for pk, data in cursor.fetchall()]
        sources = {
            doc.work_id: snippets.Source(doc.title, doc.summary, doc.notes, doc.tags, doc.creators, doc.chapters)
            for doc in docs
        }
        return snippets.build(query, sources, stem)


@contextmanager
def _time_limit(milliseconds: int) -> Iterator[None]:
    """Interrupt the block's statements once it has run `milliseconds`: SearchTooSlow.

    A phrase ending in a common word after a rarer one reads every pair of that word
    (`"door the"`: some 1 s at 100,000 works), and a query may hold 32 of them. The limit
    is the whole search's, not each statement's. SQLite looks at the clock between the
    steps of its program: FTS5 gathering one prefix's lists is one step, so a search may
    overrun by that much.
    """
    connection.ensure_connection()
    raw = connection.connection
    deadline = time.monotonic() + milliseconds / 1000
    expired = False

    def past_deadline() -> bool:
        nonlocal expired
        expired = time.monotonic() > deadline
        return expired

    raw.set_progress_handler(past_deadline, CLOCK_STEPS)
    try:
        yield
    except OperationalError as error:
        if expired:  # "interrupted"
            raise SearchTooSlow from error
        raise
    finally:
        raw.set_progress_handler(None, 0)


def _grouped(batches: Iterator[tuple[list[Document], list[Any]]], words: int) -> Iterator[Iterator[Any]]:
    """The batches in runs of about `words` words, each run read as it comes."""

    def run(first: tuple[list[Document], list[Any]]) -> Iterator[Any]:
        batch: tuple[list[Document], list[Any]] | None = first
        count = 0
        while batch is not None:
            yield batch
            count += sum(doc.words for doc in batch[0])
            if count >= words:
                return
            batch = next(batches, None)

    while (first := next(batches, None)) is not None:
        yield run(first)


def _prepared(ids: Iterable[int], *, threaded: bool) -> Iterator[tuple[list[Document], list[tuple[bytes, Row]]]]:
    """Batches of documents, ready to insert.

    Reading and preparing documents is Python's work and tokenizing them is SQLite's,
    which releases the GIL: with `threaded`, a second thread (on its own connection)
    prepares the next batch while this one's is being indexed. Inside a transaction
    the other connection would not see it, so the work is done in turn.
    """

    def batches() -> Iterator[tuple[list[Document], list[tuple[bytes, Row]]]]:
        names = TagNames()
        batch: list[int] = []
        for pk in ids:
            batch.append(pk)
            if len(batch) == BATCH:
                docs = load_documents(batch, tags=names)
                yield docs, [_prepare(doc) for doc in docs]
                batch = []
        if batch:
            docs = load_documents(batch, tags=names)
            yield docs, [_prepare(doc) for doc in docs]

    if not threaded:
        yield from batches()
        return
    ready: queue.Queue[Any] = queue.Queue(maxsize=4)
    done = object()
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in batches():
                if not put(item):
                    return
            put(done)
        except BaseException as error:  # handed to the consumer
            put(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def stem(texts: Sequence[str]) -> list[tuple[str, ...]]:
    """Each text's tokens as FTS5 indexes them, read back through an fts5vocab table.

    A scratch FTS5 table in the connection's temp schema, with the index's tokenizer:
    what FTS5 itself makes of each word, with no stemmer of our own to keep in step.
    """
    if not texts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.chapbook_stem USING fts5(w, content='', tokenize='{TOKENIZE}')"
        )
        cursor.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chapbook_stem_v USING fts5vocab(temp, chapbook_stem, instance)")
        cursor.execute("INSERT INTO temp.chapbook_stem (chapbook_stem) VALUES ('delete-all')")
        cursor.executemany("INSERT INTO temp.chapbook_stem (rowid, w) VALUES (%s, %s)", list(enumerate(texts)))
        cursor.execute("SELECT doc, term, offset FROM temp.chapbook_stem_v ORDER BY doc, offset")
        rows = cursor.fetchall()
        cursor.execute("INSERT INTO temp.chapbook_stem (chapbook_stem) VALUES ('delete-all')")
    found: list[list[str]] = [[] for _ in texts]
    for doc, term, _offset in rows:
        found[doc].append(term)
    return [tuple(terms) for terms in found]


def create_statements(backend: SQLiteBackend) -> list[str]:
    columns = ", ".join(FTS_FIELDS)
    meta_columns = ", ".join(META_FIELDS)
    return [
        f"CREATE VIRTUAL TABLE {backend.fts} USING fts5({columns}, content='', tokenize='{TOKENIZE}')",
        f"CREATE VIRTUAL TABLE {backend.meta} USING fts5({meta_columns}, content='', tokenize='{TOKENIZE}')",
        f"CREATE TABLE {backend.indexed} (work_id INTEGER PRIMARY KEY, fields BLOB NOT NULL)",
    ]


def drop_statements(backend: SQLiteBackend) -> list[str]:
    return [f"DROP TABLE IF EXISTS {name}" for name in (backend.fts, backend.meta, backend.indexed)]
