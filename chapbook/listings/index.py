"""The filter index: every listed work's filter tags, pseuds and sort keys, as arrays.

AO3 answers its filter sidebar from an Elasticsearch cluster. Chapbook keeps, in each
process, a column store of the listed works (posted and not hidden; restricted ones
are flagged):

- per work: id, flags, language, words, dates, feedback counts, title and creator keys;
- per work, its *filter tags*: each of its own tags resolved to the canonical tag it is a
  synonym of, plus that tag's meta tags (parents of the same type), transitively, as AO3
  does with its filter taggings; and the same inverted (tag -> works), so an include or
  an exclude is one array operation and a facet count is one `bincount`.

A listing never joins through the tag tables. The arrays come in *segments*:

- the **snapshot**, built by background work (`rebuild_snapshot`) and saved to a file
  that every process maps, covering the archive as it was when the build started;
- the **delta**, built in the process on demand from the works revised (or deleted)
  since a little before the snapshot began, which hide their snapshot rows.

So a newly posted work is in listings on the next request, and wrangling takes effect
when the rebuild it starts finishes (a small archive has no snapshot at all: its whole
index is the delta, rebuilt whenever anything changes).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from chapbook.listings.models import RemovedWork
from chapbook.people.models import Pseud
from chapbook.tags.models import Tag, TagType
from chapbook.works.models import Creatorship, Work, WorkTag

log = logging.getLogger(__name__)

TYPE_CODES: dict[str, int] = {value: code for code, value in enumerate(TagType.values)}
TYPE_NAMES: list[str] = list(TagType.values)
KEY_BYTES = 24
# A transaction that revised a work just before a snapshot began may commit after the
# snapshot read the table; re-reading this much history as delta covers it.
SNAPSHOT_OVERLAP = dt.timedelta(seconds=60)
REBUILD_QUEUED_KEY = "filter-index:rebuild-queued"


def sort_key(text: str) -> bytes:
    """A fixed-width byte key that sorts like the casefolded text (ties broken by id)."""
    return " ".join(text.casefold().split()).encode()[:KEY_BYTES]


# --- What tags mean --------------------------------------------------------------


@dataclass
class TagGraph:
    """Wrangling at one moment: each tag's filter tags, type and root fandoms."""

    synonym_of: dict[int, int]
    parents: dict[int, list[int]]  # same-type parents only: the meta tags
    types: dict[int, int]  # tag id -> TYPE_CODES value
    stamp: Any = None
    _filter: dict[int, tuple[int, ...]] = field(default_factory=dict)
    _roots: dict[int, frozenset[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _type_array: np.ndarray | None = None
    _type_array_tags: int = 0

    @classmethod
    def load(cls, stamp: Any = None) -> TagGraph:
        synonym_of: dict[int, int] = {}
        types: dict[int, int] = {}
        for pk, tag_type, target in (
            Tag.objects.order_by()
            .values_list("pk", "type", "synonym_of_id")
            .iterator(chunk_size=20000)
        ):
            types[pk] = TYPE_CODES.get(tag_type, 0)
            if target is not None:
                synonym_of[pk] = target
        parents: dict[int, list[int]] = {}
        edges = Tag.parents.through.objects.values_list("from_tag_id", "to_tag_id")
        for child, parent in edges.iterator(chunk_size=20000):
            # A fandom parent of a character is fandom membership, not a meta tag:
            # filtering on a fandom finds works tagged with it, not with its characters.
            if types.get(child) == types.get(parent):
                parents.setdefault(child, []).append(parent)
        return cls(synonym_of=synonym_of, parents=parents, types=types, stamp=stamp)

    def ensure(self, tag_ids: Iterable[int]) -> None:
        """Learn tags created since the graph was loaded (new tags are unwrangled)."""
        missing = {pk for pk in tag_ids if pk not in self.types}
        if missing:
            found = Tag.objects.filter(pk__in=missing).values_list(
                "pk", "type", "synonym_of_id"
            )
            with self._lock:
                for pk, tag_type, target in found:
                    self.types[pk] = TYPE_CODES.get(tag_type, 0)
                    if target is not None:
                        self.synonym_of[pk] = target

    def resolve(self, tag_id: int) -> int:
        """The tag a filter on `tag_id` means: its canonical tag if it is a synonym."""
        seen = 0
        while tag_id in self.synonym_of and seen < 5:
            tag_id = self.synonym_of[tag_id]
            seen += 1
        return tag_id

    def filter_tags(self, tag_id: int) -> tuple[int, ...]:
        """The tag as a filter sees it: resolved, then every meta tag above it."""
        cached = self._filter.get(tag_id)
        if cached is not None:
            return cached
        base = self.resolve(tag_id)
        found = [base]
        seen = {base}
        stack = list(self.parents.get(base, ()))
        while stack:
            parent = self.resolve(stack.pop())
            if parent in seen:
                continue  # wrangling refuses cycles; a stray one must not hang a listing
            seen.add(parent)
            found.append(parent)
            stack.extend(self.parents.get(parent, ()))
        result = tuple(found)
        self._filter[tag_id] = result
        return result

    def roots(self, fandom_id: int) -> frozenset[int]:
        """The top-level fandoms above a fandom (itself when it has no parent fandom)."""
        cached = self._roots.get(fandom_id)
        if cached is not None:
            return cached
        ancestors = self.filter_tags(fandom_id)
        roots = frozenset(a for a in ancestors if not self.parents.get(a)) or frozenset(
            {self.resolve(fandom_id)}
        )
        self._roots[fandom_id] = roots
        return roots

    def is_crossover(self, fandom_ids: Sequence[int]) -> bool:
        """AO3's rule: two of the work's fandoms share no top-level fandom."""
        root_sets = list({self.roots(f) for f in fandom_ids})
        return any(
            not (root_sets[i] & root_sets[j])
            for i in range(len(root_sets))
            for j in range(i + 1, len(root_sets))
        )

    def type_array(self, size: int) -> np.ndarray:
        """Tag id -> type code (-1 for no tag), reused until the graph learns new tags."""
        cached = self._type_array
        if (
            cached is not None
            and len(cached) == size
            and self._type_array_tags == len(self.types)
        ):
            return cached
        codes = np.full(size, -1, dtype=np.int8)
        for pk, code in list(self.types.items()):
            if pk < size:
                codes[pk] = code
        self._type_array, self._type_array_tags = codes, len(self.types)
        return codes


# --- Segments ---------------------------------------------------------------------


def _invert(
    offsets: np.ndarray, flat: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows -> keys (CSR) into keys -> rows: (sorted unique keys, offsets, row indices)."""
    rows = np.repeat(np.arange(len(offsets) - 1, dtype=np.int32), np.diff(offsets))
    order = np.argsort(flat, kind="stable")
    keys_sorted = flat[order]
    boundary = np.ones(len(keys_sorted), dtype=bool)
    boundary[1:] = keys_sorted[1:] != keys_sorted[:-1]
    starts = np.flatnonzero(boundary)
    keys = keys_sorted[starts]
    post_offsets = np.append(starts, len(keys_sorted)).astype(np.int64)
    return keys.astype(np.int64), post_offsets, rows[order].astype(np.int32)


def _csr(
    row_of: np.ndarray, values: np.ndarray, rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (row, value), deduplicated, as CSR offsets and flat values sorted by row."""
    if len(row_of) == 0:
        return np.zeros(rows + 1, dtype=np.int64), np.zeros(0, dtype=np.int32)
    combined = np.sort(row_of.astype(np.int64) * (1 << 32) + values.astype(np.int64))
    # Sorted, so duplicates sit side by side (a sort is much cheaper than np.unique here).
    keep = np.ones(len(combined), dtype=bool)
    keep[1:] = combined[1:] != combined[:-1]
    combined = combined[keep]
    row_of = (combined >> 32).astype(np.int64)
    values = (combined & 0xFFFFFFFF).astype(np.int32)
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=rows), out=offsets[1:])
    return offsets, values


ARRAY_FIELDS = (
    "ids", "restricted", "complete", "crossover", "language", "words", "posted", "updated",
    "kudos", "hits", "comments", "bookmarks", "title_key", "creator_key", "title_rank", "creator_rank",
    "tag_offsets", "tag_flat", "post_tags", "post_offsets", "post_rows",
    "pseud_keys", "pseud_offsets", "pseud_rows", "tag_totals", "public_totals", "tag_matrix", "orders",
)  # fmt: skip
# The sorts every listing offers, in the order of `Segment.orders`' rows.
ORDER_KEYS = (
    "updated",
    "posted",
    "words",
    "kudos",
    "hits",
    "comments",
    "bookmarks",
    "title",
    "creator",
)
# Bounds of the tag matrix's width: a row per work, holding the first filter tags of most
# works, makes a facet count one contiguous copy instead of a scattered gather.
TAG_MATRIX_WIDTH = (8, 48)


@dataclass
class Segment:
    """Listed works as arrays; row i of every per-work array is the same work."""

    ids: np.ndarray  # int64, ascending
    restricted: np.ndarray  # bool
    complete: np.ndarray  # bool
    crossover: np.ndarray  # bool
    language: np.ndarray  # int16 index into `languages`
    words: np.ndarray  # int64
    posted: np.ndarray  # int64 seconds
    updated: np.ndarray  # int64 seconds
    kudos: np.ndarray
    hits: np.ndarray
    comments: np.ndarray
    bookmarks: np.ndarray
    title_key: np.ndarray  # S24
    creator_key: np.ndarray  # S24
    title_rank: np.ndarray  # int64: position in (title_key, id) order
    creator_rank: np.ndarray
    tag_offsets: np.ndarray  # CSR: work row -> filter tags
    tag_flat: np.ndarray
    post_tags: np.ndarray  # inverted: filter tag -> work rows
    post_offsets: np.ndarray
    post_rows: np.ndarray
    pseud_keys: np.ndarray  # inverted: pseud -> work rows
    pseud_offsets: np.ndarray
    pseud_rows: np.ndarray
    tag_totals: np.ndarray  # filter tag id -> works in this segment carrying it
    public_totals: (
        np.ndarray
    )  # the same, counting unrestricted works only (what guests see)
    tag_matrix: (
        np.ndarray
    )  # int32 (rows, width): each row's first filter tags, 0-padded
    orders: (
        np.ndarray
    )  # int32 (len(ORDER_KEYS), rows): rows in ascending (key, id) order
    languages: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def rows_with_tag(self, tag_id: int) -> np.ndarray:
        return _posting(self.post_tags, self.post_offsets, self.post_rows, tag_id)

    def rows_with_pseud(self, pseud_id: int) -> np.ndarray:
        return _posting(self.pseud_keys, self.pseud_offsets, self.pseud_rows, pseud_id)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        meta = dict(self.meta, languages=self.languages)
        with open(temporary, "wb") as out:
            np.savez(
                out,
                meta=np.array(json.dumps(meta)),
                **{name: getattr(self, name) for name in ARRAY_FIELDS},
            )
        # Readers open the old file or the new one, never half of one.
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> Segment:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {name: data[name] for name in ARRAY_FIELDS}
        return cls(**arrays, languages=meta.pop("languages"), meta=meta)


def _posting(
    keys: np.ndarray, offsets: np.ndarray, rows: np.ndarray, key: int
) -> np.ndarray:
    at = int(np.searchsorted(keys, key))
    if at < len(keys) and keys[at] == key:
        return rows[offsets[at] : offsets[at + 1]]
    return rows[:0]


def _ranks(keys: np.ndarray, ids: np.ndarray) -> np.ndarray:
    order = np.lexsort((ids, keys))
    ranks = np.empty(len(ids), dtype=np.int64)
    ranks[order] = np.arange(len(ids), dtype=np.int64)
    return ranks


def _works_rows(since: dt.datetime | None) -> list[tuple[Any, ...]]:
    # Raw SQL: the ORM's datetime converters would cost seconds at a million works.
    table = Work._meta.db_table
    # Dates as whole seconds since 1970, computed by the database: a million datetimes
    # parsed in Python would cost seconds.
    if connection.vendor == "sqlite":
        published = "CAST(strftime('%%s', published_at) AS INTEGER)"
        updated = "CAST(strftime('%%s', updated_at) AS INTEGER)"
    else:
        published = "EXTRACT(EPOCH FROM published_at)::bigint"
        updated = "EXTRACT(EPOCH FROM updated_at)::bigint"
    sql = (
        f"SELECT id, restricted, complete, language, word_count, {published}, {updated},"
        f" kudos_count, hits_count, comments_count, bookmarks_count, title FROM {table}"
        f" WHERE draft = %s AND hidden = %s AND unrevealed = %s"
    )
    # Unrevealed works are listed nowhere; their collection's moderators find them on the
    # collection's own pages.
    params: list[Any] = [False, False, False]
    if since is not None:
        # Feedback moves the counters the sorts read without revising the work.
        sql += " AND (revised_at > %s OR feedback_at > %s)"
        params += [since, since]
    with connection.cursor() as cursor:
        if since is None:
            cursor.execute(sql + " ORDER BY id", params)
            return cursor.fetchall()
        # No ORDER BY for a delta: SQLite would rather walk the whole table in id order
        # than use the revised_at index and sort the few rows it finds.
        cursor.execute(sql, params)
        return sorted(cursor.fetchall(), key=lambda row: row[0])


def _anonymous_rows(ids: np.ndarray, since: dt.datetime | None) -> np.ndarray:
    """Rows of `ids` (sorted work ids) whose works are anonymous."""
    table = Work._meta.db_table
    found: list[int] = []
    with connection.cursor() as cursor:
        if since is None:
            cursor.execute(f"SELECT id FROM {table} WHERE anonymous = %s AND draft = %s", [True, False])
            found = [row[0] for row in cursor.fetchall()]
        else:
            for part in _chunks([int(pk) for pk in ids]):
                marks = ", ".join(["%s"] * len(part))
                cursor.execute(f"SELECT id FROM {table} WHERE anonymous = %s AND id IN ({marks})", [True, *part])
                found.extend(row[0] for row in cursor.fetchall())
    if not found:
        return np.zeros(0, dtype=np.int64)
    wanted = np.array(sorted(found), dtype=np.int64)
    at = np.searchsorted(ids, wanted)
    inside = at < len(ids)
    at, wanted = at[inside], wanted[inside]
    return at[ids[at] == wanted]


def _chunks(values: list[int], size: int = 500) -> list[list[int]]:
    return [values[at : at + size] for at in range(0, len(values), size)]


def _tag_pairs(
    ids: np.ndarray, since: dt.datetime | None
) -> tuple[np.ndarray, np.ndarray]:
    """(row, raw tag id) of every tag on the listed works.

    The database concatenates each work's tag ids into one string and numpy parses all
    of them at once: turning seventeen million rows into Python tuples would take longer
    than everything else the build does.
    """
    tag_table = WorkTag._meta.db_table
    concat = (
        "group_concat(wt.tag_id)"
        if connection.vendor == "sqlite"
        else "string_agg(wt.tag_id::text, ',')"
    )
    if since is None:
        # Every work: no join; the works that are not listed are dropped below.
        sql = f"SELECT wt.work_id, {concat} FROM {tag_table} wt"
        params: list[Any] = []
    with connection.cursor() as cursor:
        if since is None:
            cursor.execute(sql + " GROUP BY wt.work_id", params)
            grouped = cursor.fetchall()
        else:
            # A delta: the works are known already, so ask for theirs by id.
            grouped = []
            for chunk in _chunks([int(pk) for pk in ids]):
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT wt.work_id, {concat} FROM {tag_table} wt"
                    f" WHERE wt.work_id IN ({marks}) GROUP BY wt.work_id",
                    chunk,
                )
                grouped.extend(cursor.fetchall())
    if not grouped:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    work_ids = np.fromiter(
        (row[0] for row in grouped), dtype=np.int64, count=len(grouped)
    )
    lengths = np.fromiter(
        (row[1].count(",") + 1 for row in grouped), dtype=np.int64, count=len(grouped)
    )
    tags = np.fromstring(",".join(row[1] for row in grouped), dtype=np.int64, sep=",")
    at = np.minimum(np.searchsorted(ids, work_ids), max(len(ids) - 1, 0))
    listed = (ids[at] == work_ids) if len(ids) else np.zeros(len(work_ids), dtype=bool)
    rows = np.repeat(at, lengths)
    keep = np.repeat(listed, lengths)
    return rows[keep].astype(np.int64), tags[keep]


def build_segment(
    graph: TagGraph,
    *,
    since: dt.datetime | None = None,
    meta: dict[str, Any] | None = None,
) -> Segment:
    """Arrays for the listed works (all of them, or those revised after `since`)."""
    rows = _works_rows(since)
    n = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    languages = sorted({r[3] for r in rows})
    language_code = {code: i for i, code in enumerate(languages)}
    title_key = np.array([sort_key(r[11]) for r in rows], dtype=f"S{KEY_BYTES}")
    segment_fields: dict[str, Any] = {
        "ids": ids,
        "restricted": np.fromiter((bool(r[1]) for r in rows), dtype=bool, count=n),
        "complete": np.fromiter((bool(r[2]) for r in rows), dtype=bool, count=n),
        "language": np.fromiter(
            (language_code[r[3]] for r in rows), dtype=np.int16, count=n
        ),
        "words": np.fromiter((r[4] for r in rows), dtype=np.int64, count=n),
        "posted": np.fromiter(
            (r[5] or 0 for r in rows), dtype=np.int64, count=n
        ),
        "updated": np.fromiter(
            (r[6] or r[5] or 0 for r in rows), dtype=np.int64, count=n
        ),
        "kudos": np.fromiter((r[7] for r in rows), dtype=np.int64, count=n),
        "hits": np.fromiter((r[8] for r in rows), dtype=np.int64, count=n),
        "comments": np.fromiter((r[9] for r in rows), dtype=np.int64, count=n),
        "bookmarks": np.fromiter((r[10] for r in rows), dtype=np.int64, count=n),
        "title_key": title_key,
    }
    del rows

    work_table = Work._meta.db_table
    work_rows, raw_tags = _tag_pairs(ids, since)

    # Each raw tag expands to its filter tags (synonym resolved, meta tags added).
    unique_raw = np.unique(raw_tags)
    graph.ensure(int(t) for t in unique_raw)
    expansions = [graph.filter_tags(int(t)) for t in unique_raw]
    lengths = np.fromiter(
        (len(e) for e in expansions), dtype=np.int64, count=len(expansions)
    )
    expansion_flat = np.fromiter(
        (t for e in expansions for t in e), dtype=np.int64, count=int(lengths.sum())
    )
    expansion_offsets = np.zeros(len(unique_raw) + 1, dtype=np.int64)
    np.cumsum(lengths, out=expansion_offsets[1:])
    raw_index = np.searchsorted(unique_raw, raw_tags)
    per_pair = lengths[raw_index]
    starts = expansion_offsets[raw_index]
    total = int(per_pair.sum())
    gather = np.repeat(starts - np.cumsum(per_pair) + per_pair, per_pair) + np.arange(
        total, dtype=np.int64
    )
    tag_offsets, tag_flat = _csr(
        np.repeat(work_rows, per_pair), expansion_flat[gather], n
    )

    # Crossovers: only works with two or more fandoms need a look.
    crossover = np.zeros(n, dtype=bool)
    fandom_code = TYPE_CODES[TagType.FANDOM]
    raw_is_fandom = np.fromiter(
        (graph.types.get(int(t)) == fandom_code for t in unique_raw), dtype=bool
    )
    fandom_pairs = raw_is_fandom[raw_index]
    fandom_rows, fandom_tags = work_rows[fandom_pairs], raw_tags[fandom_pairs]
    by_row = np.argsort(fandom_rows, kind="stable")
    fandom_rows, fandom_tags = fandom_rows[by_row], fandom_tags[by_row]
    per_work = np.bincount(fandom_rows, minlength=n)
    fandom_starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_work, out=fandom_starts[1:])
    for row in np.flatnonzero(per_work > 1):
        tags_of_row = fandom_tags[fandom_starts[row] : fandom_starts[row + 1]]
        crossover[row] = graph.is_crossover([int(t) for t in tags_of_row])
    segment_fields["crossover"] = crossover

    # Creators: pseud postings for pseud pages, and the first creator's name to sort by.
    credit_sql = (
        f"SELECT c.work_id, c.pseud_id, c.position, p.name FROM {Creatorship._meta.db_table} c"
        f" JOIN {Pseud._meta.db_table} p ON p.id = c.pseud_id JOIN {work_table} w ON w.id = c.work_id"
        f" WHERE c.accepted = %s AND w.draft = %s AND w.hidden = %s AND w.unrevealed = %s"
        # An anonymous work has no creator to list it under or sort it by (it sorts as
        # "Anonymous", below).
        f" AND w.anonymous = %s"
    )
    credit_works: list[int] = []
    credit_pseuds: list[int] = []
    credit_names: list[bytes] = []
    queries: list[tuple[str, list[Any]]]
    if since is None:
        queries = [(credit_sql + " ORDER BY c.work_id, c.position, c.id", [True, False, False, False, False])]
    else:
        queries = []
        for part in _chunks([int(pk) for pk in ids]):
            marks = ", ".join(["%s"] * len(part))
            queries.append(
                (
                    credit_sql + f" AND c.work_id IN ({marks}) ORDER BY c.work_id, c.position, c.id",
                    [True, False, False, False, False, *part],
                )
            )
    with connection.cursor() as cursor:
        for sql, query_params in queries:
            cursor.execute(sql, query_params)
            while chunk := cursor.fetchmany(50_000):
                for work_id, pseud_id, _position, name in chunk:
                    credit_works.append(work_id)
                    credit_pseuds.append(pseud_id)
                    credit_names.append(sort_key(name))
    credit_rows = np.searchsorted(ids, np.array(credit_works, dtype=np.int64)).astype(
        np.int64
    )
    # Rows come in credit order, so a work's first row is its first credited creator.
    creator_key = np.zeros(n, dtype=f"S{KEY_BYTES}")
    _unique_rows, first = np.unique(credit_rows, return_index=True)
    if len(first):
        creator_key[credit_rows[first]] = np.array(credit_names, dtype=f"S{KEY_BYTES}")[
            first
        ]
    anonymous = _anonymous_rows(ids, since)
    if len(anonymous):
        creator_key[anonymous] = sort_key("Anonymous")
    pseud_offsets, pseud_flat = _csr(
        credit_rows, np.array(credit_pseuds, dtype=np.int64), n
    )
    pseud_keys, pseud_post_offsets, pseud_post_rows = _invert(pseud_offsets, pseud_flat)
    post_tags, post_offsets, post_rows = _invert(tag_offsets, tag_flat)
    tag_totals = np.bincount(
        tag_flat, minlength=int(tag_flat.max()) + 1 if len(tag_flat) else 1
    ).astype(np.int64)
    row_lengths = np.diff(tag_offsets)
    entry_rows = np.repeat(np.arange(n, dtype=np.int64), row_lengths)
    entry_positions = np.arange(len(tag_flat), dtype=np.int64) - tag_offsets[entry_rows]
    # Wide enough for nine works in ten; the rest spill over to the CSR.
    width = (
        int(np.clip(np.percentile(row_lengths, 90), *TAG_MATRIX_WIDTH))
        if n
        else TAG_MATRIX_WIDTH[0]
    )
    in_matrix = entry_positions < width
    public = ~segment_fields["restricted"][entry_rows]
    public_totals = np.bincount(tag_flat[public], minlength=len(tag_totals)).astype(
        np.int64
    )
    del public
    tag_matrix = np.zeros((n, width), dtype=np.int32)
    tag_matrix[entry_rows[in_matrix], entry_positions[in_matrix]] = tag_flat[in_matrix]
    del entry_rows, entry_positions, in_matrix
    title_rank, creator_rank = _ranks(title_key, ids), _ranks(creator_key, ids)
    ranked = {**segment_fields, "title": title_rank, "creator": creator_rank}
    orders = np.zeros((len(ORDER_KEYS), n), dtype=np.int32)
    for at, key in enumerate(ORDER_KEYS):
        orders[at] = np.lexsort((ids, ranked[key]))

    return Segment(
        **segment_fields,
        creator_key=creator_key,
        title_rank=title_rank,
        creator_rank=creator_rank,
        tag_matrix=tag_matrix,
        orders=orders,
        public_totals=public_totals,
        tag_offsets=tag_offsets,
        tag_flat=tag_flat,
        post_tags=post_tags,
        post_offsets=post_offsets,
        post_rows=post_rows,
        pseud_keys=pseud_keys,
        pseud_offsets=pseud_post_offsets,
        pseud_rows=pseud_post_rows,
        tag_totals=tag_totals,
        languages=languages,
        meta=meta or {},
    )


# --- The process's view of the index -----------------------------------------------


def snapshot_path() -> Path:
    name = str(connection.settings_dict["NAME"])
    vendor = connection.vendor
    slug = "".join(c if c.isalnum() else "-" for c in f"{vendor}-{Path(name).name}")
    return Path(settings.FILTER_INDEX_DIR) / f"filters-{slug}.npz"


def _state_stamp() -> tuple[Any, Any, Any, Any, Any]:
    """(latest revision, latest wrangling, latest removal, newest tag, latest feedback): one cheap query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(revised_at) FROM {Work._meta.db_table}),"
            f" (SELECT MAX(wrangled_at) FROM {Tag._meta.db_table}),"
            f" (SELECT MAX(id) FROM {RemovedWork._meta.db_table}),"
            f" (SELECT MAX(id) FROM {Tag._meta.db_table}),"
            f" (SELECT MAX(feedback_at) FROM {Work._meta.db_table})"
        )
        row = cursor.fetchone()
    return tuple(str(value) if value is not None else "" for value in row)  # type: ignore[return-value]


@dataclass
class View:
    """What one query runs against: the snapshot (with its stale rows hidden) and the delta."""

    graph: TagGraph
    segments: list[tuple[Segment, np.ndarray | None]]  # (segment, alive mask or None)
    tag_types: np.ndarray
    delta_size: int
    snapshot: Segment | None


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.snapshot: Segment | None = None
        self.snapshot_key: tuple[str, float] | None = None
        self.graph: TagGraph | None = None
        self.view: View | None = None
        self.view_key: Any = None


_cache = _Cache()


def reset() -> None:
    """Forget everything this process holds (tests switch databases under it)."""
    global _cache
    _cache = _Cache()


def _load_snapshot(path: Path) -> Segment | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        _cache.snapshot, _cache.snapshot_key = None, None
        return None
    key = (str(path), stat.st_mtime)
    if key != _cache.snapshot_key:
        try:
            _cache.snapshot = Segment.load(path)
            _cache.snapshot_key = key
        except (OSError, ValueError, KeyError) as error:
            log.warning(
                "filter index snapshot %s is unreadable (%s); rebuilding", path, error
            )
            _cache.snapshot, _cache.snapshot_key = None, None
            request_rebuild()
    return _cache.snapshot


def current_view() -> View:
    """The index as of now: reloads whatever changed since this process last looked."""
    stamp = _state_stamp()
    path = snapshot_path()
    with _cache.lock:
        snapshot = _load_snapshot(path)
        key = (stamp, _cache.snapshot_key, connection.settings_dict["NAME"])
        if _cache.view is not None and _cache.view_key == key:
            return _cache.view
        wrangled = stamp[1]
        if _cache.graph is None or _cache.graph.stamp != (
            wrangled,
            connection.settings_dict["NAME"],
        ):
            _cache.graph = TagGraph.load(
                stamp=(wrangled, connection.settings_dict["NAME"])
            )
        graph = _cache.graph
        segments: list[tuple[Segment, np.ndarray | None]] = []
        since: dt.datetime | None = None
        if snapshot is not None:
            since = (
                dt.datetime.fromisoformat(snapshot.meta["started_at"])
                - SNAPSHOT_OVERLAP
            )
        delta = build_segment(graph, since=since)
        if snapshot is not None:
            hidden = set(
                Work.objects.filter(Q(revised_at__gt=since) | Q(feedback_at__gt=since))
                .values_list("pk", flat=True)
                .iterator(chunk_size=20000)
            )
            hidden.update(
                RemovedWork.objects.filter(removed_at__gt=since).values_list(
                    "work_id", flat=True
                )
            )
            alive = np.ones(len(snapshot), dtype=bool)
            if hidden:
                stale = np.array(sorted(hidden), dtype=np.int64)
                at = np.searchsorted(snapshot.ids, stale)
                inside = at < len(snapshot)
                at, stale = at[inside], stale[inside]
                alive[at[snapshot.ids[at] == stale]] = False
            segments.append((snapshot, alive))
            if wrangled and wrangled > snapshot.meta.get("wrangled", ""):
                request_rebuild()  # the snapshot's filter tags predate this wrangling
        segments.append((delta, None))
        if len(delta) > settings.FILTER_INDEX_DELTA_MAX:
            request_rebuild()
        size = max(
            [int(max(graph.types, default=0)) + 1]
            + [len(segment.tag_totals) for segment, _ in segments]
        )
        view = View(
            graph=graph,
            segments=segments,
            tag_types=graph.type_array(size),
            delta_size=len(delta),
            snapshot=snapshot,
        )
        _cache.view, _cache.view_key = view, key
        return view


def request_rebuild() -> None:
    """Queue one snapshot rebuild (several processes asking at once queue it once)."""
    from chapbook.listings.tasks import rebuild_filter_index

    if cache.add(REBUILD_QUEUED_KEY, True, timeout=600):
        rebuild_filter_index.enqueue()


def rebuild_snapshot(*, progress: Any = None, force: bool = False) -> Segment | None:
    """Build the snapshot of the whole archive and publish it to every process.

    An archive smaller than FILTER_INDEX_SNAPSHOT_MIN gets none: rebuilding all of it
    in the process whenever something changes costs less than reading a file.
    """
    if not force and Work.objects.count() < settings.FILTER_INDEX_SNAPSHOT_MIN:
        drop_snapshot()
        cache.delete(REBUILD_QUEUED_KEY)
        return None
    started = timezone.now()
    clock = time.monotonic()
    stamp = _state_stamp()
    graph = TagGraph.load(stamp=None)
    segment = build_segment(
        graph,
        meta={"started_at": started.isoformat(), "wrangled": stamp[1], "seconds": 0.0},
    )
    segment.meta["seconds"] = round(time.monotonic() - clock, 3)
    segment.save(snapshot_path())
    cache.delete(REBUILD_QUEUED_KEY)
    if progress is not None:
        progress(f"Indexed {len(segment):,} works in {segment.meta['seconds']:.1f} s.")
    return segment


def drop_snapshot() -> None:
    snapshot_path().unlink(missing_ok=True)
