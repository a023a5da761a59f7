"""Reads about collections: who moderates one, and which of its works a reader finds there.

Which works a reader may see is still decided by `works_visible_to` alone (it already
knows that an unrevealed work is shown only to its creators and its collection's
moderators); these selectors only narrow it to a collection.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from chapbook.collections.models import (
    Collection,
    CollectionItem,
    ItemStatus,
    Moderator,
)
from chapbook.works.models import Work
from chapbook.works.selectors import AnyUser, works_visible_to


def collections_visible_to(user: AnyUser) -> QuerySet[Collection]:
    """Every collection: a collection's page is public, as on AO3. What a collection hides
    is its works (unrevealed) or their creators (anonymous), never itself."""
    return Collection.objects.all()


def collection_named(name: str) -> Collection | None:
    """A collection by its name, in any case (names are unique without regard to case)."""
    return Collection.objects.select_related("owner", "parent").filter(name__iexact=name.strip()).first()


def is_moderator(user: AnyUser, collection: Collection) -> bool:
    """The owner, or a moderator who accepted the owner's invitation."""
    if user is None or not user.is_authenticated:
        return False
    if collection.owner_id == user.pk:
        return True
    return Moderator.objects.filter(collection=collection, user_id=user.pk, accepted=True).exists()


# The name the pages and prompt memes read best with; the same rule.
moderates = is_moderator


def moderated_by(user: AnyUser) -> QuerySet[Collection]:
    """Collections `user` owns or moderates (none for a guest)."""
    if user is None or not user.is_authenticated:
        return Collection.objects.none()
    moderating = Moderator.objects.filter(user_id=user.pk, accepted=True).values("collection_id")
    return Collection.objects.filter(Q(owner_id=user.pk) | Q(pk__in=moderating))


def pending_invitations(user: AnyUser) -> QuerySet[Moderator]:
    """Invitations to moderate that `user` has not answered yet."""
    if user is None or not user.is_authenticated:
        return Moderator.objects.none()
    return Moderator.objects.filter(user_id=user.pk, accepted=False).select_related("collection", "invited_by")


def _in_collection(collection: Collection, include_children: bool) -> Q:
    if include_children:
        # Subcollections are one level deep (the services refuse a grandchild).
        return Q(collection=collection) | Q(collection__parent=collection)
    return Q(collection=collection)


def collection_works(collection: Collection, *, viewer: AnyUser, include_children: bool = True) -> QuerySet[Work]:
    """Works approved into the collection (and its subcollections) that `viewer` may see.

    Unrevealed works are among them only for their creators and the collection's
    moderators, because `works_visible_to` says so.
    """
    approved = CollectionItem.objects.filter(_in_collection(collection, include_children), status=ItemStatus.APPROVED)
    return works_visible_to(viewer).filter(pk__in=approved.values("work_id"))


def collection_work_ids(collection: Collection, *, viewer: AnyUser, include_children: bool = True) -> QuerySet[Any, int]:
    """The ids of `collection_works` (a lazy query: one query when read)."""
    return collection_works(collection, viewer=viewer, include_children=include_children).values_list("pk", flat=True)


def items_of(collection: Collection, *, status: str | None = None) -> QuerySet[CollectionItem]:
    """The collection's own items (for its moderators), newest first, with what a row shows."""
    items = CollectionItem.objects.filter(collection=collection).select_related("work")
    if status is not None:
        items = items.filter(status=status)
    return items.order_by("-created_at", "-pk")


def status_counts(collection: Collection) -> dict[str, int]:
    """How many of the collection's items are approved, pending and rejected (one query)."""
    counts = {status: 0 for status in ItemStatus.values}
    rows = CollectionItem.objects.filter(collection=collection).order_by().values_list("status").annotate(n=Count("pk"))
    for status, number in rows:
        counts[status] = number
    return counts


def work_items(work: Work) -> QuerySet[CollectionItem]:
    """Every item of a work (any status), with its collection, in collection title order."""
    return CollectionItem.objects.filter(work=work).select_related("collection").order_by("collection__title", "pk")


# Prefetched onto works by the API, which names each work's collections in its summaries.
APPROVED_ITEMS = "approved_collection_items"


def approved_items_prefetch() -> Prefetch[Any]:
    """Each work's approved items with their collections, as `works.<APPROVED_ITEMS>`."""
    items = CollectionItem.objects.filter(status=ItemStatus.APPROVED).select_related("collection")
    return Prefetch("collection_items", queryset=items.order_by("collection__name"), to_attr=APPROVED_ITEMS)


def collection_names(work: Work) -> list[str]:
    """Names of the collections the work is in (approved), the same for every reader.

    Read from `approved_items_prefetch` when the work has it (a page of works costs one
    query), else asked for.
    """
    items = getattr(work, APPROVED_ITEMS, None)
    if items is None:
        items = CollectionItem.objects.filter(work=work, status=ItemStatus.APPROVED).select_related("collection")
        items = items.order_by("collection__name")
    return [item.collection.name for item in items]
