"""Where each word of the chapters stands: PostgreSQL's phrase index.

GIN keeps which pieces hold a word, not where in them, so a phrase found in most works
("for a long moment", in 83,000 of 100,000) was confirmed by reading a piece of each of
them (some 6 microseconds a work: 590 ms). This index keeps the places themselves, as
SQLite's FTS5 does, and a phrase is then a few lists read and lined up.

A key is a place in the archive's text: `work_id << POSITION_BITS | position`, the
position counting a work's words from its first chapter on, with one place left empty
between two chapters so that no phrase runs across. The words are the tokens SQLite's
index is made of (`pairs`): each common word paired with the word after it, so that no
list is as long as "the" or "a" (a twentieth of all the text). `"for a long moment"` is
`for+a` at p, `a+long` at p + 1 and `moment` at p + 3 (`long` at p + 2 is what `a+long`
already says); the shortest of the three lists gives the candidates, and each other
keeps those it lines up with (`_both`).

The table `search_posting` has rows for each token in each block of BLOCK_BITS work ids:
its keys in the block, ascending, as little-endian 32-bit integers, PART_BYTES to a row
(`part` counts them), uncompressed and in the table's own pages: a long list stored out
of line (TOAST) was read at some 300 MB a second, in rows ten times faster. A block is
written whole (`PostgresBackend.write_postings`): a work indexed since its block was
last written is listed in `search_unposted`, and its text is read the old way (its
pieces) until the block is written again, which a background task does a minute later
(`tasks.write_postings`), one write for the edits of that minute.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

import numpy as np
import psycopg

from chapbook.lib.searchquery import MAX_PHRASE_WORDS
from chapbook.search.pairs import JOIN, Pairs

# A block: 4,096 work ids, about 22 million words at the generated archive's 5,400 a
# work, written in some 10 seconds. Smaller blocks are cheaper to write again after an
# edit, but every rare word has a row in each block it is in.
BLOCK_BITS = 12
# A million words a work: a key in its block is 32 bits, half what a whole key would take,
# and reading the lists is most of a phrase's time ("for a long moment": 10 MB).
POSITION_BITS = 20
KEY_BITS = BLOCK_BITS + POSITION_BITS  # a key in its block; the block above it
# A work with more words than this is left out, and always read the old way (its
# pieces): a phrase starting near the top could otherwise be taken for one in the next work.
MAX_WORDS = (1 << POSITION_BITS) - MAX_PHRASE_WORDS - 2
GAP = ""  # the empty place between two chapters
RUN_WORKS = 256  # works whose runs of text are made at once (`build`)
PART_BYTES = 8000  # a row within one page (8 KB)


def _both(wanted: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The values of `wanted` in `keys` (both ascending, neither repeating a value)."""
    if len(keys) < 4 * len(wanted):
        # Merged: a stable sort of two sorted runs is one pass (faster than searching
        # a list of nearly the same length).
        merged = np.concatenate((wanted, keys))
        merged.sort(kind="stable")
        return merged[1:][merged[1:] == merged[:-1]]
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return wanted[keys[at] == wanted]


def binary_cursor() -> Any:
    """A cursor on Django's connection that binds on the server and reads binary results:
    Django's own binds in the client, which cannot."""
    from django.db import connection

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def block_of(work_id: int) -> int:
    return work_id >> BLOCK_BITS


def build(pairs: Pairs, block: int, chapters: dict[int, list[str]]) -> tuple[list[tuple[str, bytes]], list[int]]:
    """A block's rows (each token, with its keys as bytes), and the works too long to keep.

    `chapters`: each listed work of the block, by id, with its chapters' text in order.
    The tokens are those of `Pairs.paired`, made with arrays rather than word by word
    (a fifth of the time): each run of text is looked up once in the block's table of
    runs, the common words are paired with the next token by number, and one sort of
    (token, key) puts each token's keys together, ascending. The arrays are of 32-bit
    numbers where they fit: a block's are some 22 million long, and each step over them
    is memory read and written (half the time of 64-bit ones, measured).
    """
    first = block << BLOCK_BITS
    ids = sorted(chapters)
    table = _Runs(pairs)
    numbered: list[np.ndarray] = []
    run_counts = []  # runs a work has, a gap after each chapter counted
    # A few works' runs at a time: as strings, a block's would take gigabytes.
    for start in range(0, len(ids), RUN_WORKS):
        group = ids[start : start + RUN_WORKS]
        runs_of = iter(pairs.split([text for work_id in group for text in chapters[work_id]]))
        for work_id in group:
            count = 0
            for _ in chapters[work_id]:
                runs = next(runs_of)
                numbered += [np.fromiter(map(table.__getitem__, runs), dtype=np.int32, count=len(runs)), _GAP_RUN]
                count += len(runs) + 1
            run_counts.append(count)
        table.learn()
    if not numbered:
        return [], []
    table.done()
    every = np.concatenate(numbered)
    if table.single:
        tokens = table.first[every]
        token_counts = np.array(run_counts, dtype=np.int64)
    else:  # a run of several tokens ("don’t") or none
        lengths = table.lengths[every]
        ends = np.cumsum(lengths, dtype=np.int64)
        tokens = table.tokens[np.repeat(table.starts[every] - (ends - lengths), lengths) + np.arange(ends[-1])]
        last_runs = np.cumsum(run_counts) - 1  # each work's, -1 before any
        through = np.where(last_runs >= 0, ends[np.maximum(last_runs, 0)], 0)
        token_counts = np.diff(through, prepend=0)
    too_long = [work_id for work_id, count in zip(ids, token_counts.tolist()) if count > MAX_WORDS]
    # A key is the work's place in the block, then the word's in the work: counting on
    # through the block, less where the work starts, plus its place (32 bits, wrapping
    # where a step does; each key itself fits).
    work_tokens = np.cumsum(token_counts) - token_counts
    base = ((np.array(ids, dtype=np.int64) - first) << POSITION_BITS) - work_tokens
    keys = np.arange(len(tokens), dtype=np.uint32) + np.repeat(base.astype(np.uint32, casting="unsafe"), token_counts)

    # A common word's number says which it is and the token after it (0: its part ends).
    after = np.empty_like(tokens)
    after[:-1] = tokens[1:]
    after[-1] = 0
    high = table.high[tokens]
    numbers = high | np.where(high != 0, after, tokens)
    if too_long:
        keep = np.repeat(token_counts <= MAX_WORDS, token_counts)
        numbers, keys = numbers[keep], keys[keep]
    # One sort of number and key together, when the numbers fit above the keys' bits; a
    # vocabulary too big for that is numbered again, densely, first. The gap (0) sorts
    # first and is left out.
    dense = None
    if table.top >= 1 << (64 - KEY_BITS):
        dense, numbers = np.unique(numbers, return_inverse=True)
    everything = np.sort((numbers.astype(np.uint64) << np.uint64(KEY_BITS)) | keys)
    numbers = everything >> np.uint64(KEY_BITS)
    keys = everything.astype("<u4")  # the low 32 bits
    bounds = [0, *(np.flatnonzero(numbers[1:] != numbers[:-1]) + 1).tolist(), len(numbers)]
    heads = numbers[bounds[:-1]].astype(np.int64)
    names = [table.name(number) for number in (heads if dense is None else dense[heads]).tolist()]
    rows = [(name, keys[start:end].tobytes()) for name, start, end in zip(names, bounds[:-1], bounds[1:]) if name != GAP]
    return rows, too_long


_GAP_RUN = np.zeros(1, dtype=np.int32)


class _Runs(dict[str, int]):
    """A block's runs of text, numbered as they are first met (the gap is 0), with the
    tokens each makes: `done` makes the arrays once every run is in."""

    def __init__(self, pairs: Pairs) -> None:
        super().__init__()
        self.pairs = pairs
        self.vocabulary = {GAP: 0}
        self.made: list[int] = [0]
        self.run_starts: list[int] = [0]
        self.run_lengths: list[int] = [1]
        self.unknown: list[tuple[int, str]] = []  # runs numbered, to be stemmed (`learn`)

    def __missing__(self, run: str) -> int:
        # Only a run not met before in the block gets here: the lookups of the others
        # stay in C (`map(table.__getitem__, runs)`). A run the stemmer has not seen is
        # numbered now and stemmed with the others of its group, in one call.
        self[run] = number = len(self.run_starts)
        self.run_starts.append(0)
        self.run_lengths.append(0)
        words = self.pairs._known.get(run)
        if words is None:
            self.unknown.append((number, run))
        else:
            self._place(number, words)
        return number

    def learn(self) -> None:
        """Stem the runs met but not known, and place their tokens."""
        if self.unknown:
            for (number, _), words in zip(self.unknown, self.pairs.learn([run for _, run in self.unknown])):
                self._place(number, words)
            self.unknown = []

    def _place(self, number: int, words: str) -> None:
        tokens = words.split()
        self.run_starts[number] = len(self.made)
        self.run_lengths[number] = len(tokens)
        vocabulary = self.vocabulary
        self.made += [vocabulary.setdefault(word, len(vocabulary)) for word in tokens]

    def done(self) -> None:
        self.names = list(self.vocabulary)
        common = self.pairs.common
        self.common_names = [name for name in self.names if name in common]
        # A token's number is below 2 ** bits; a pair's is its common word's number among
        # the common words, plus one, above those bits (`high`), and the next token's below.
        self.bits = len(self.names).bit_length()
        self.top = (len(self.common_names) + 1) << self.bits  # above every number
        kind = np.int32 if self.top < 1 << 31 else np.int64
        self.tokens = np.array(self.made, dtype=kind)
        self.starts = np.array(self.run_starts, dtype=np.int64)
        self.lengths = np.array(self.run_lengths, dtype=np.int32)
        self.single = bool((self.lengths == 1).all())
        self.first = self.tokens[np.minimum(self.starts, len(self.tokens) - 1)]
        self.high = np.zeros(len(self.names), dtype=kind)
        for number, name in enumerate(self.common_names):
            self.high[self.vocabulary[name]] = (number + 1) << self.bits

    def name(self, number: int) -> str:
        """The token a number stands for, as `Pairs.paired` writes it."""
        if number < 1 << self.bits:
            return self.names[number]
        word = self.common_names[(number >> self.bits) - 1]
        after = number & ((1 << self.bits) - 1)
        return word + JOIN + self.names[after] + JOIN if after else word + JOIN


def needed(tokens: Sequence[str]) -> list[tuple[str, int]]:
    """The tokens of a phrase that must be looked up, with their offsets in it: a word
    after a pair (not itself a pair) is what the pair already says."""
    return [
        (token, offset)
        for offset, token in enumerate(tokens)
        if offset == 0 or token.endswith(JOIN) or not tokens[offset - 1].endswith(JOIN)
    ]


def works_holding(cursor: Any, table: str, tokens: Sequence[str], within: np.ndarray | None = None) -> np.ndarray:
    """The ids (ascending) of the works whose text has the tokens one after another, of
    `within` (ascending ids) when given.

    `cursor`: a psycopg cursor that can read binary results (`binary_cursor`), so that
    the lists come as bytes rather than twice as many hexadecimal digits (a third of the
    time)."""
    wanted = needed(tokens)
    names = sorted({token for token, _ in wanted})
    # Sorted here: sorting megabytes of rows, PostgreSQL writes them to disk first.
    cursor.execute(f"SELECT token, block, part, positions FROM {table} WHERE token = ANY(%s)", [names], binary=True)
    found: dict[int, dict[str, list[tuple[int, bytes]]]] = defaultdict(lambda: defaultdict(list))
    for token, block, part, data in cursor.fetchall():
        found[block][token].append((part, data))
    if within is not None:
        within = np.sort(within)
    held = []
    # Block by block, in the lists' own 32-bit keys: a block's lists are a twenty-fifth
    # of a phrase's at 100,000 works, and nothing is widened to 64 bits first.
    for block in sorted(found):
        rows = found[block]
        if len(rows) < len(names):
            continue  # a token is not in the block: nor is the phrase
        lists = {token: _keys(parts) for token, parts in rows.items()}
        # The shortest list gives the candidates; each other list keeps those it lines up
        # with. A key less than its offset wraps around to a place past the end of a work
        # (MAX_WORDS), where the phrase's first token never is.
        ordered = sorted(wanted, key=lambda item: len(lists[item[0]]))
        token, offset = ordered[0]
        starts = lists[token] - np.uint32(offset)
        if within is not None:
            # The filters' works only, before lining up: a fandom's 5,000 works keep a
            # twentieth of the candidates, and each other list is searched for those alone.
            first = block << BLOCK_BITS
            local = within[np.searchsorted(within, first) : np.searchsorted(within, first + (1 << BLOCK_BITS))] - first
            starts = starts[np.isin(starts >> np.uint32(POSITION_BITS), local.astype(np.uint32))]
        for token, offset in ordered[1:]:
            if not len(starts):
                break
            starts = _both(starts + np.uint32(offset), lists[token]) - np.uint32(offset)
        works = starts >> np.uint32(POSITION_BITS)  # ascending, as the starts are
        if len(works):
            held.append(works[np.concatenate(([True], works[1:] != works[:-1]))].astype(np.int64) + (block << BLOCK_BITS))
    return np.concatenate(held) if held else np.zeros(0, dtype=np.int64)


def _keys(parts: list[tuple[int, bytes]]) -> np.ndarray:
    """A token's keys in a block, from its rows (part, bytes)."""
    parts.sort()
    return np.frombuffer(parts[0][1] if len(parts) == 1 else b"".join(data for _, data in parts), dtype="<u4")


def write_in_processes(suffix: str, blocks: Sequence[int], workers: int) -> None:
    """Write these blocks of a backend's phrase index (`PostgresBackend(suffix)`), shared
    among processes of their own: the writing is Python's work, one core's per process.

    New processes (spawned, not forked): a forked one would share its parent's pooled
    database connections. Each sets Django up again from the same environment.
    """
    import multiprocessing

    from django.db import connection

    # The database by name, as this process has it (a test run's differs from settings').
    name = connection.settings_dict["NAME"]
    shares = [list(blocks[start::workers]) for start in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.map(_write_share, [(name, suffix, share) for share in shares if share])


def _write_share(job: tuple[str, str, list[int]]) -> None:
    import django

    django.setup()
    from django.db import connections

    from chapbook.search.postgres import PostgresBackend

    name, suffix, blocks = job
    connections["default"].settings_dict["NAME"] = name
    try:
        PostgresBackend(suffix).write_blocks(blocks)
    finally:
        connections.close_all()
