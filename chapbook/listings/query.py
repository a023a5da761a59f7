"""Filtered listings: the one way every listing, feed and API list asks for works.

    result = find_works(Filters(include=(tag.pk,), sort="kudos"), user=request.user,
                        page=2, page_size=20, facets=True)
    rows = page_rows(request.user, result.ids)   # for works.blurbs.render_blurbs

The answer comes from the filter index (`chapbook.listings.index`), never from joins
through the tag tables; `page_rows` then loads the page's works through
`works_visible_to`, so a work that stopped being visible since the index last looked is
dropped rather than shown.
"""

from __future__ import annotations

import datetime
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
from django.db.models.functions import Lower

from chapbook.listings import index
from chapbook.listings.index import ORDER_KEYS, TYPE_CODES, Segment
from chapbook.search.backend import Hits
from chapbook.tags.models import Tag, TagType
from chapbook.works.blurbs import version_rows
from chapbook.works.selectors import works_visible_to

SORTS = ("updated", "posted", "title", "creator", "words", "kudos", "hits", "comments", "bookmarks")
SORT_LABELS = {
    "updated": "Date updated",
    "posted": "Date posted",
    "title": "Title",
    "creator": "Creator",
    "words": "Word count",
    "kudos": "Kudos",
    "hits": "Hits",
    "comments": "Comments",
    "bookmarks": "Bookmarks",
}
# "best" (relevance) is only for full-text search, which passes its hits.
SEARCH_SORTS = ("best", *SORTS)
# Titles and names read A to Z; everything else starts with the newest or the biggest.
ASCENDING_BY_DEFAULT = {"title", "creator"}
CROSSOVER_CHOICES = ("", "only", "exclude")
FACET_TYPES: tuple[str, ...] = tuple(
    t.value
    for t in (
        TagType.RATING,
        TagType.WARNING,
        TagType.CATEGORY,
        TagType.FANDOM,
        TagType.RELATIONSHIP,
        TagType.CHARACTER,
        TagType.FREEFORM,
    )
)
FACET_SIZE = 10
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Filters:
    """What a reader asked a listing for. Tags are ids of any tag, wrangled or not.

    A tag matches its own works, its synonyms' works and (transitively) its sub-tags'
    works. `include`: every one must match. `exclude`: none may match. `any_of`: each
    group needs at least one match (ratings, warnings or categories ticked together mean
    "any of these", which is what a reader ticking two ratings means).
    """

    include: tuple[int, ...] = ()
    exclude: tuple[int, ...] = ()
    any_of: tuple[tuple[int, ...], ...] = ()
    # Works credited to any of these pseuds (a pseud's or a user's works page).
    pseuds: tuple[int, ...] = ()
    complete: bool = False
    # "only": works in more than one unrelated fandom; "exclude": none of those.
    crossover: str = ""
    language: str = ""
    words_min: int | None = None
    words_max: int | None = None
    updated_since: datetime.date | None = None
    sort: str = "updated"
    # "asc" or "desc"; empty means the sort's own default.
    order: str = ""
    # Only these works (a collection's), or any work when None.
    within: frozenset[int] | None = None

    @property
    def descending(self) -> bool:
        if self.order:
            return self.order == "desc"
        return self.sort not in ASCENDING_BY_DEFAULT


@dataclass(frozen=True)
class FacetCount:
    tag_id: int
    name: str
    count: int


@dataclass
class Result:
    count: int
    # The page's work ids in listing order (may be empty: a page past the end).
    ids: list[int]
    # Facet type (a TagType value) -> the top FACET_SIZE filter tags, biggest first.
    # Empty unless facets were asked for.
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)


def tag_key(name: str) -> str:
    """How `tags_by_name` keys a name: runs of spaces are one space, in lower case."""
    return " ".join(name.split()).lower()


def tags_by_name(names: Iterable[str]) -> tuple[dict[str, Tag], list[str]]:
    """Tags for `names` (any case), keyed by the lowercased name, and the names not found."""
    wanted = {tag_key(name): " ".join(name.split()) for name in names if name.strip()}
    if not wanted:
        return {}, []
    # The unique index on LOWER(name) answers this; an OR with another column would not.
    tags = Tag.objects.annotate(lowered=Lower("name")).filter(lowered__in=list(wanted))
    found: dict[str, Tag] = {tag.name.lower(): tag for tag in tags}
    # SQLite's LOWER() folds ASCII only (its unique constraint does the same), so a
    # non-ASCII name not found yet is tried exactly as written.
    retry = [name for key, name in wanted.items() if key not in found and not name.isascii()]
    for tag in Tag.objects.filter(name__in=retry) if retry else ():
        found[tag.name.lower()] = tag
    return found, [name for key, name in wanted.items() if key not in found]


def _empty(n: int) -> np.ndarray:
    return np.zeros(n, dtype=bool)


def _rows_mask(segment: Segment, tag_ids: Iterable[int], *, pseuds: bool = False) -> np.ndarray:
    """Rows carrying any of the tags (or credited to any of the pseuds)."""
    mask = _empty(len(segment))
    for key in tag_ids:
        mask[segment.rows_with_pseud(key) if pseuds else segment.rows_with_tag(key)] = True
    return mask


def _rows_within(segment: Segment, within: frozenset[int]) -> np.ndarray:
    """Rows whose work is one of `within`: a binary search per work, since the segment's
    ids are sorted, so a small collection costs nothing however big the archive is."""
    mask = _empty(len(segment))
    if not within or not len(segment):
        return mask
    wanted = np.fromiter(within, dtype=np.int64, count=len(within))
    at = np.searchsorted(segment.ids, wanted)
    inside = at < len(segment)
    at, wanted = at[inside], wanted[inside]
    # An id the segment lacks lands on a neighbour's row: only exact hits count.
    mask[at[segment.ids[at] == wanted]] = True
    return mask


def _seconds(day: datetime.date) -> int:
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp())


@dataclass(frozen=True)
class _Plan:
    """Filters with every tag resolved the way the index knows it."""

    include: tuple[int, ...]
    exclude: tuple[int, ...]
    any_of: tuple[tuple[int, ...], ...]
    guest: bool


def _matches(segment: Segment, alive: np.ndarray | None, filters: Filters, plan: _Plan) -> np.ndarray:
    n = len(segment)
    mask = np.ones(n, dtype=bool) if alive is None else alive.copy()
    if n == 0:
        return mask
    if plan.guest:
        mask &= ~segment.restricted
    for tag_id in plan.include:
        mask &= _rows_mask(segment, (tag_id,))
    for group in plan.any_of:
        mask &= _rows_mask(segment, group)
    if filters.pseuds:
        mask &= _rows_mask(segment, filters.pseuds, pseuds=True)
    if filters.within is not None:
        mask &= _rows_within(segment, filters.within)
    for tag_id in plan.exclude:
        mask[segment.rows_with_tag(tag_id)] = False
    if filters.complete:
        mask &= segment.complete
    if filters.crossover == "only":
        mask &= segment.crossover
    elif filters.crossover == "exclude":
        mask &= ~segment.crossover
    if filters.language:
        if filters.language not in segment.languages:
            return _empty(n)
        mask &= segment.language == segment.languages.index(filters.language)
    if filters.words_min is not None:
        mask &= segment.words >= filters.words_min
    if filters.words_max is not None:
        mask &= segment.words <= filters.words_max
    if filters.updated_since is not None:
        mask &= segment.updated >= _seconds(filters.updated_since)
    return mask


_NUMERIC_SORTS = {
    "updated": "updated",
    "posted": "posted",
    "words": "words",
    "kudos": "kudos",
    "hits": "hits",
    "comments": "comments",
    "bookmarks": "bookmarks",
}


def _top(values: np.ndarray, ids: np.ndarray, k: int, descending: bool) -> np.ndarray:
    """Positions of the first `k` of (values, ids) in order; ids break ties the same way."""
    if descending:
        values, ids = -values, -ids
    if k < len(values):
        kth = np.partition(values, k - 1)[k - 1]
        # Every tie with the k-th value is a candidate, so page boundaries never depend on
        # which of several equal values the partition happened to pick.
        candidates = np.flatnonzero(values <= kth)
    else:
        candidates = np.arange(len(values))
    order = np.lexsort((ids[candidates], values[candidates]))[:k]
    return candidates[order]


def _page(
    view: index.View, masks: list[np.ndarray], filters: Filters, k: int, scores: list[np.ndarray] | None = None
) -> list[int]:
    """The first `k` matching work ids in the listing's order, across every segment."""
    descending = filters.descending
    if filters.sort == "best" and scores is not None:
        # Scores are comparable across segments: one merge, best first, newer ids first on ties.
        all_ids = np.concatenate([segment.ids[mask] for (segment, _alive), mask in zip(view.segments, masks)])
        all_scores = np.concatenate([score[mask] for score, mask in zip(scores, masks)])
        order = _top(all_scores, all_ids, k, descending=not filters.order == "asc")
        return [int(pk) for pk in all_ids[order]]
    picked: list[tuple[Segment, np.ndarray]] = []
    for (segment, _alive), mask in zip(view.segments, masks):
        matched = int(np.count_nonzero(mask))
        if not matched:
            continue
        if matched * DENSE_SHARE >= len(segment):
            picked.append((segment, _walk_order(segment, mask, matched, filters.sort, descending, k)))
            continue
        rows = np.flatnonzero(mask)
        ids = segment.ids[rows]
        if filters.sort in _NUMERIC_SORTS:
            values = getattr(segment, _NUMERIC_SORTS[filters.sort])[rows]
        else:
            values = getattr(segment, f"{filters.sort}_rank")[rows]
        picked.append((segment, rows[_top(values, ids, k, descending)]))
    if not picked:
        return []
    if len(picked) == 1:
        segment, rows = picked[0]
        return [int(pk) for pk in segment.ids[rows]]
    # Several segments: their ranks are their own, so merge on the keys themselves.
    if filters.sort in _NUMERIC_SORTS:
        name = _NUMERIC_SORTS[filters.sort]
        values = np.concatenate([getattr(segment, name)[rows] for segment, rows in picked])
    else:
        name = f"{filters.sort}_key"
        keys = [key for segment, rows in picked for key in getattr(segment, name)[rows].tolist()]
        values = np.array(_ranks_of(keys), dtype=np.int64)
    ids = np.concatenate([segment.ids[rows] for segment, rows in picked])
    order = _top(values, ids, k, descending)
    return [int(pk) for pk in ids[order]]


# A result holding at least 1/DENSE_SHARE of a segment is paged by walking the segment's
# precomputed sort order; a sparser one is sorted on its own (it is small).
DENSE_SHARE = 32


def _walk_order(segment: Segment, mask: np.ndarray, matched: int, sort: str, descending: bool, k: int) -> np.ndarray:
    """The first `k` matching rows in sort order, reading the precomputed order in chunks."""
    order = segment.orders[ORDER_KEYS.index(sort)]
    n = len(order)
    # Enough of the order to hold k matches at this density, with room to spare.
    chunk = max(4096, int(k * n / matched * 1.25))
    found: list[np.ndarray] = []
    need, position = k, 0
    while need > 0 and position < n:
        if descending:
            part = order[max(n - position - chunk, 0) : n - position][::-1]
        else:
            part = order[position : position + chunk]
        rows = part[mask[part]][:need]
        found.append(rows)
        need -= len(rows)
        position += chunk
        chunk *= 2
    return np.concatenate(found) if found else order[:0]


def _ranks_of(keys: list[bytes]) -> list[int]:
    ranking = {key: rank for rank, key in enumerate(sorted(set(keys)))}
    return [ranking[key] for key in keys]


def _row_tag_counts(segment: Segment, rows: np.ndarray, size: int) -> np.ndarray:
    """How many of `rows` carry each filter tag (index 0 is padding, not a tag)."""
    width = segment.tag_matrix.shape[1]
    counts = np.bincount(segment.tag_matrix[rows].ravel(), minlength=size)[:size]
    starts = segment.tag_offsets[rows] + width
    ends = segment.tag_offsets[rows + 1]
    spilled = ends > starts
    if spilled.any():
        # The rows longer than the matrix: their remaining tags from the CSR.
        starts, lengths = starts[spilled], (ends - starts)[spilled]
        total = int(lengths.sum())
        steps = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total, dtype=np.int64)
        counts += np.bincount(segment.tag_flat[steps], minlength=size)[:size]
    return counts


def _padded(values: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=np.int64)
    out[: min(size, len(values))] = values[:size]
    return out


def _count_tags(segment: Segment, mask: np.ndarray, guest: bool, size: int) -> np.ndarray:
    """How many rows of `mask` carry each filter tag."""
    matched = int(np.count_nonzero(mask))
    if matched == 0:
        return np.zeros(size, dtype=np.int64)
    if matched * 2 <= len(segment):
        return _row_tag_counts(segment, np.flatnonzero(mask), size)
    # Most of the segment matches: count what does not, and subtract from the totals. A
    # guest's matches never include restricted works, so those are left out of both.
    if guest:
        missing = np.flatnonzero(~mask & ~segment.restricted)
        return _padded(segment.public_totals, size) - _row_tag_counts(segment, missing, size)
    return _padded(segment.tag_totals, size) - _row_tag_counts(segment, np.flatnonzero(~mask), size)


# Facet counts of a snapshot for one filter, kept until the snapshot is replaced: the
# works revised since are subtracted (their rows are few) and the delta's added, so the
# answer stays exact while the expensive part is paid once per snapshot and filter.
_SNAPSHOT_COUNTS: OrderedDict[tuple[Any, ...], np.ndarray] = OrderedDict()
_SNAPSHOT_COUNTS_SIZE = 64
_counts_lock = threading.Lock()


def _snapshot_counts(segment: Segment, raw: np.ndarray, key: tuple[Any, ...], guest: bool, size: int) -> np.ndarray:
    full_key = (segment.meta.get("started_at"), segment.meta.get("seconds"), size, *key)
    with _counts_lock:
        cached = _SNAPSHOT_COUNTS.get(full_key)
        if cached is not None:
            _SNAPSHOT_COUNTS.move_to_end(full_key)
            return cached
    counts = _count_tags(segment, raw, guest, size)
    with _counts_lock:
        _SNAPSHOT_COUNTS[full_key] = counts
        while len(_SNAPSHOT_COUNTS) > _SNAPSHOT_COUNTS_SIZE:
            _SNAPSHOT_COUNTS.popitem(last=False)
    return counts


def clear_facet_cache() -> None:
    with _counts_lock:
        _SNAPSHOT_COUNTS.clear()


def _facet_counts(
    view: index.View,
    masks: list[np.ndarray],
    raw_masks: list[np.ndarray],
    guest: bool,
    key: tuple[Any, ...] | None,
) -> np.ndarray:
    size = len(view.tag_types)
    counts = np.zeros(size, dtype=np.int64)
    for (segment, alive), mask, raw in zip(view.segments, masks, raw_masks):
        if alive is not None and key is not None:
            counts += _snapshot_counts(segment, raw, key, guest, size)
            stale = np.flatnonzero(raw & ~alive)
            if len(stale):
                counts -= _row_tag_counts(segment, stale, size)
        else:
            counts += _count_tags(segment, mask, guest, size)
    counts[0] = 0
    return counts


def _facets(view: index.View, counts: np.ndarray) -> dict[str, list[FacetCount]]:
    present = np.flatnonzero(counts)
    types = view.tag_types[present]
    tops: dict[str, np.ndarray] = {}
    for tag_type in FACET_TYPES:
        candidates = present[types == TYPE_CODES[tag_type]]
        if len(candidates) > FACET_SIZE:
            kth = np.partition(-counts[candidates], FACET_SIZE - 1)[FACET_SIZE - 1]
            candidates = candidates[-counts[candidates] <= kth]
        tops[tag_type] = candidates
    names = dict(Tag.objects.filter(pk__in=[int(pk) for top in tops.values() for pk in top]).values_list("pk", "name"))
    facets: dict[str, list[FacetCount]] = {}
    for tag_type, top in tops.items():
        entries = [FacetCount(int(pk), names[int(pk)], int(counts[pk])) for pk in top if int(pk) in names]
        entries.sort(key=lambda entry: (-entry.count, entry.name.lower()))
        facets[tag_type] = entries[:FACET_SIZE]
    return facets


def find_works(
    filters: Filters,
    *,
    user: Any,
    page: int = 1,
    page_size: int = 20,
    facets: bool = False,
    hits: Hits | None = None,
) -> Result:
    """One page of the works matching `filters` that `user` may see in listings.

    `hits`, from full-text search, narrows the works to those it holds and allows the
    sort "best" (its scores, best first).
    """
    if filters.sort not in SORTS and not (filters.sort == "best" and hits is not None):
        raise ValueError(f"Unknown sort {filters.sort!r}.")
    view = index.current_view()
    graph = view.graph
    graph.ensure([*filters.include, *filters.exclude, *(t for group in filters.any_of for t in group)])
    plan = _Plan(
        include=tuple(graph.resolve(t) for t in filters.include),
        exclude=tuple(graph.resolve(t) for t in filters.exclude),
        any_of=tuple(tuple(graph.resolve(t) for t in group) for group in filters.any_of),
        guest=not (user is not None and user.is_authenticated),
    )
    # Matches before the snapshot's stale rows are hidden (the facet cache's unit), then after.
    raw_masks = [_matches(segment, None, filters, plan) for segment, _alive in view.segments]
    masks = [raw if alive is None else raw & alive for raw, (_segment, alive) in zip(raw_masks, view.segments)]
    scores: list[np.ndarray] | None = None
    if hits is not None:
        scores = []
        for (segment, _alive), mask in zip(view.segments, masks):
            at = np.searchsorted(hits.ids, segment.ids)
            inside = at < len(hits.ids)
            found = np.zeros(len(segment), dtype=bool)
            found[inside] = hits.ids[at[inside]] == segment.ids[inside]
            mask &= found
            score = np.zeros(len(segment), dtype=np.float64)
            score[found] = hits.scores[at[found]]
            scores.append(score)
    count = sum(int(np.count_nonzero(mask)) for mask in masks)
    start = (max(page, 1) - 1) * page_size
    ids = _page(view, masks, filters, start + page_size, scores)[start:] if start < count else []
    if not facets:
        return Result(count=count, ids=ids)
    # Search hits change with every query: only plain filters share cached counts.
    key = None if hits is not None else _counts_key(filters, plan)
    counts = _facet_counts(view, masks, raw_masks, plan.guest, key)
    return Result(count=count, ids=ids, facets=_facets(view, counts))


def matching_ids(filters: Filters, *, user: Any) -> np.ndarray:
    """Every work id `find_works` would list for `filters` and `user`, ascending (int64).

    No sort and no page: the filter masks alone, a few array operations however many
    works match. Full-text search hands these to its backend so an expensive check (a
    phrase) runs only on the works the filters allow.
    """
    view = index.current_view()
    graph = view.graph
    graph.ensure([*filters.include, *filters.exclude, *(t for group in filters.any_of for t in group)])
    plan = _Plan(
        include=tuple(graph.resolve(t) for t in filters.include),
        exclude=tuple(graph.resolve(t) for t in filters.exclude),
        any_of=tuple(tuple(graph.resolve(t) for t in group) for group in filters.any_of),
        guest=not (user is not None and user.is_authenticated),
    )
    parts = [segment.ids[_matches(segment, alive, filters, plan)] for segment, alive in view.segments]
    ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return np.sort(ids.astype(np.int64, copy=False))


def _counts_key(filters: Filters, plan: _Plan) -> tuple[Any, ...]:
    """Everything that decides which works match (not their order or page)."""
    return (
        plan,
        filters.pseuds,
        filters.complete,
        filters.crossover,
        filters.language,
        filters.words_min,
        filters.words_max,
        filters.updated_since,
        filters.within,
    )


def page_rows(user: Any, ids: list[int]) -> list[tuple[Any, ...]]:
    """Version rows (pk, revised_at, kudos, hits) for `ids` that `user` may see, in order.

    The index may be a moment behind (a work hidden or deleted since); the selector has
    the last word, so such a work is left out of the page rather than shown.
    """
    if not ids:
        return []
    rows = {row[0]: row for row in version_rows(works_visible_to(user).filter(pk__in=ids))}
    return [rows[pk] for pk in ids if pk in rows]
