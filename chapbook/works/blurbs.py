"""Blurbs, the work cards of every listing, rendered once per version of each work.

A listing asks the database only for the ids on its page and a version stamp of each
(`revised_at` plus the counters a blurb shows); blurbs already rendered for that version
come from the cache, and only the rest are loaded with their tags and creators.
"""

from __future__ import annotations

from typing import Any, Sequence

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from chapbook.works.models import Work
from chapbook.works.selectors import with_blurb

BLURB_CACHE_SECONDS = 24 * 3600
# Everything a blurb shows that can change: the work's revision and its feedback counters.
VERSION_FIELDS = ("pk", "revised_at", "kudos_count", "hits_count", "comments_count", "bookmarks_count")
Row = tuple[Any, ...]  # (pk, revised_at, kudos, hits, comments, bookmarks)


def _key(row: Row) -> str:
    pk, revised_at, *counters = row
    return f"blurb:{pk}:{revised_at.timestamp()}:{':'.join(map(str, counters))}"


def version_rows(works: QuerySet[Work]) -> QuerySet[Work, Row]:
    """The listing's works as version rows (see VERSION_FIELDS), in the listing's order."""
    return works.values_list(*VERSION_FIELDS)


def render_blurbs(rows: Sequence[Row]) -> list[SafeString]:
    keys = [_key(row) for row in rows]
    cached = cache.get_many(keys)
    missing = [row[0] for row, key in zip(rows, keys) if key not in cached]
    if missing:
        fresh = {}
        for work in with_blurb(Work.objects.filter(pk__in=missing)):
            fresh[_key(tuple(getattr(work, field) for field in VERSION_FIELDS))] = str(
                render_to_string("works/_blurb.html", {"work": work})
            )
        cache.set_many(fresh, BLURB_CACHE_SECONDS)
        cached.update(fresh)
    # A work deleted between the two queries has no blurb; it is left out rather than failing.
    return [mark_safe(cached[key]) for key in keys if key in cached]  # noqa: S308 (our own template)


def blurb_page(works: QuerySet[Work], number: str | int | None, per_page: int | None = None) -> Page:
    """One page of a listing, with `page.object_list` holding the rendered blurbs."""
    page = Paginator(version_rows(works), per_page or settings.WORKS_PER_PAGE).get_page(number)
    # The page keeps its numbers and links; what it lists becomes the rendered blurbs.
    page.object_list = render_blurbs(list(page.object_list))  # type: ignore[arg-type,assignment]
    return page
