"""Who may see what: the one place that decides it.

Every page, listing, count, feed, download and API endpoint starts from
`works_visible_to(user)`; nothing else filters on draft, restricted or hidden.
"""

from __future__ import annotations

import functools
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any, TypeAlias, cast

from django.contrib.auth.models import AnonymousUser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Prefetch, Q, QuerySet

from chapbook.people.models import Pseud, User
from chapbook.works.models import Chapter, Creatorship, Series, Work

# Views pass request.user, which is a User or an AnonymousUser.
AnyUser: TypeAlias = User | AnonymousUser


def _own_work_ids(user: AnyUser) -> QuerySet[Creatorship, Any]:
    # Only called for a logged-in user (AnonymousUser.is_authenticated does not narrow the type).
    return Creatorship.objects.filter(pseud__user=cast(User, user), accepted=True).values("work_id")


def works_visible_to(user: AnyUser) -> QuerySet[Work]:
    """Works `user` may read.

    Guests see posted, unrestricted, unhidden, revealed works. Logged-in readers also see
    restricted works. Creators always see their own works, drafts included; staff also see
    hidden works (to moderate them) but never someone else's drafts. A work in a collection
    that has not revealed its works yet is seen only by its creators and the collection's
    moderators.
    """
    works = Work.objects.all()
    if user is None or not user.is_authenticated:
        return works.filter(draft=False, restricted=False, hidden=False, unrevealed=False)
    public = Q(draft=False, unrevealed=False) if user.is_staff else Q(draft=False, hidden=False, unrevealed=False)
    return works.filter(
        public | Q(pk__in=_own_work_ids(user)) | Q(draft=False, hidden=False, pk__in=_moderated_work_ids(user))
    )


def _moderated_work_ids(user: AnyUser) -> QuerySet[Any, Any]:
    """Works in collections `user` moderates (the owner or an accepted moderator).

    Only unrevealed works need this: moderators see them before anyone else does.
    """
    from chapbook.collections.models import CollectionItem

    member = cast(User, user)
    return CollectionItem.objects.filter(
        Q(collection__owner=member) | Q(collection__moderators__user=member, collection__moderators__accepted=True),
        # Only the collection that is hiding the work: moderating some other collection
        # the work is also in gives no early look.
        collection__unrevealed=True,
        collection__works_revealed_at__isnull=True,
        work__unrevealed=True,
    ).values("work_id")


_SENTINEL_PK = 987_654_321_987_654


@functools.cache
def _guest_version_query(alias: str) -> tuple[str, tuple[object, ...], int]:
    """The SQL of `works_visible_to(guest)` for one work's version stamp, compiled once.

    Building a query through the ORM costs about 0.6 ms, ten times what SQLite takes to
    run it; guests' work pages are the hottest path, so they reuse the selector's own
    compiled SQL with the work's id swapped in. The rule itself stays in the selector.
    """
    works = works_visible_to(AnonymousUser()).filter(pk=_SENTINEL_PK)
    query = works.values_list(
        "revised_at", "kudos_count", "hits_count", "comments_count", "bookmarks_count", "feedback_at"
    ).query
    sql, params = query.get_compiler(alias).as_sql()
    return sql, tuple(params), list(params).index(_SENTINEL_PK)


def guest_work_version(pk: int) -> tuple[object, ...] | None:
    """(revised_at, kudos, hits, comments, bookmarks, feedback_at) of a work a guest may read, or None.

    `feedback_at` moves with every comment edit or moderation too, which no counter shows.
    """
    sql, params, index = _guest_version_query(DEFAULT_DB_ALIAS)
    bound: list[Any] = list(params)
    bound[index] = pk
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, bound)
        row = cursor.fetchone()
    if row is None:
        return None
    revised_at = row[0]
    if isinstance(revised_at, str):
        # SQLite hands back the stored text; the ORM's converter would make it an aware UTC datetime.
        revised_at = datetime.fromisoformat(revised_at).replace(tzinfo=dt_timezone.utc)
    return (revised_at, *row[1:])


def work_visible_to(user: AnyUser, pk: int) -> Work | None:
    return works_visible_to(user).filter(pk=pk).first()


def is_creator(user: AnyUser, work: Work) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return Creatorship.objects.filter(work=work, pseud__user_id=user.pk, accepted=True).exists()


def with_blurb(works: QuerySet[Work]) -> QuerySet[Work]:
    """Everything a blurb shows, in a fixed number of queries however many works there are."""
    return works.prefetch_related(
        "tags",
        Prefetch(
            "creatorships",
            queryset=Creatorship.objects.select_related("pseud__user").order_by("position", "pk"),
        ),
    )


def listing_order(works: QuerySet[Work]) -> QuerySet[Work]:
    """The default order of a listing: most recently updated first, as on AO3.

    Drafts have no updated date; they go last on both databases (PostgreSQL would
    otherwise put NULLs first and SQLite last).
    """
    return works.order_by(F("updated_at").desc(nulls_last=True), "-created_at", "-pk")


def listing(works: QuerySet[Work]) -> QuerySet[Work]:
    """Listing order with everything a blurb shows prefetched (for the API)."""
    return with_blurb(listing_order(works))


def without_others_anonymous(works: QuerySet[Work], user: AnyUser) -> QuerySet[Work]:
    """`works` less the anonymous ones `user` is not a creator of.

    `works_visible_to` lets an anonymous work through (its byline says "Anonymous"), but a
    page that lists works *by someone* (a profile, a pseud's page and feed) or that names
    its owner (a series) would give the creator away just by listing it. A creator still
    finds their own anonymous works on their own pages: it is their secret to keep.
    """
    if user is None or not user.is_authenticated:
        return works.filter(anonymous=False)
    own = Creatorship.objects.filter(pseud__user_id=user.pk, accepted=True).values("work_id")
    return works.filter(Q(anonymous=False) | Q(pk__in=own))


def works_credited_to(user: AnyUser, pseuds: QuerySet[Pseud]) -> QuerySet[Work]:
    """Works credited to any of `pseuds` that `user` may see, each once, in listing order.

    A subquery rather than a join, so a work credited to two of the pseuds is listed once;
    pending co-creator invitations are not credits, and others' anonymous works are left out.
    """
    credited = Creatorship.objects.filter(pseud__in=pseuds, accepted=True).values("work_id")
    return listing_order(without_others_anonymous(works_visible_to(user).filter(pk__in=credited), user))


def chapters_of(work: Work) -> QuerySet[Chapter]:
    return work.chapters.order_by("position")


def series_visible_to(user: AnyUser) -> QuerySet[Series]:
    """A series is visible when at least one of its parts is shown to the reader
    (see `series_parts_visible_to`)."""
    shown = without_others_anonymous(works_visible_to(user), user).values("pk")
    return Series.objects.filter(parts__work__in=shown).distinct()


def series_parts_visible_to(user: AnyUser, series: Series) -> QuerySet[Work]:
    """The parts of `series` a reader is shown: a series names its owner, so others'
    anonymous works are not among them (their work pages do not name the series either)."""
    parts = works_visible_to(user).filter(series_parts__series=series)
    return without_others_anonymous(parts, user).order_by("series_parts__position")
