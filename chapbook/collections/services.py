"""Writes to collections: creating them, their moderators, the works in them, and the reveal.

Each function is one transaction. A collection's privacy settings reach its works through
two flags on Work (`anonymous`, `unrevealed`) that every page, listing, feed and API reads;
`refresh_work_flags` is the one function that sets them, and every write here that can
change them calls it before its transaction ends, so a reader never sees a work half-moved.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from chapbook.collections.models import (
    Collection,
    CollectionItem,
    ItemStatus,
    Moderator,
)
from chapbook.collections.selectors import is_moderator
from chapbook.people.models import User
from chapbook.search.services import works_changed
from chapbook.tags.models import TagType
from chapbook.works.models import Work
from chapbook.works.services import render_html_field, require_creator, split_tag_names

# Letters, digits, - and _ (what a SlugField takes), as in the collection's address.
NAME_RE = re.compile(r"[A-Za-z0-9_-]{2,60}")
# Names that are pages of their own under /collections/.
RESERVED_NAMES = frozenset({"new", "invitations", "claims", "prompts", "mine"})
MAX_TITLE = 255
MAX_TEXT = 10_000
# What update_collection may change. The name is the collection's address and stays.
EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "parent",
        "closed",
        "moderated",
        "anonymous",
        "unrevealed",
        "prompt_meme",
        "prompts_open_at",
        "prompts_close_at",
        "rules",
        "required_tag_types",
    }
)
# A reveal or a batch of flags touches this many works per statement, well under
# SQLite's limit on query parameters.
CHUNK = 500


# --- Checks shared by create and update ---------------------------------------------


def _require_moderator(collection: Collection, user: User | None) -> None:
    if user is None or not is_moderator(user, collection):
        raise PermissionDenied("Only the collection's moderators can do that.")


def _require_owner(collection: Collection, user: User | None) -> None:
    if user is None or not user.is_authenticated or collection.owner_id != user.pk:
        raise PermissionDenied("Only the collection's owner can do that.")


def _check_name(name: str) -> str:
    name = name.strip()
    if not NAME_RE.fullmatch(name):
        raise ValidationError(
            {"name": ["A name is 2 to 60 letters, digits, hyphens or underscores (it is the collection's address)."]}
        )
    if name.lower() in RESERVED_NAMES:
        raise ValidationError({"name": [f"“{name}” is taken by a page of the archive; choose another name."]})
    if Collection.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": [f"There is already a collection called “{name}”."]})
    return name


def _check_title(title: str) -> str:
    if "\x00" in title:
        raise ValidationError({"title": ["Null characters are not allowed."]})
    title = " ".join(title.split())
    if not title:
        raise ValidationError({"title": ["A collection needs a title."]})
    if len(title) > MAX_TITLE:
        raise ValidationError({"title": [f"Titles can be at most {MAX_TITLE} characters long."]})
    return title


def _html(field: str, value: str) -> str:
    if "\x00" in value:
        raise ValidationError({field: ["Null characters are not allowed."]})
    if len(value) > MAX_TEXT:
        raise ValidationError({field: [f"This can be at most {MAX_TEXT:,} characters long (it is {len(value):,})."]})
    return render_html_field(value).html


def _check_parent(parent: Collection | None, *, by: User, collection: Collection | None = None) -> None:
    if parent is None:
        return
    if not is_moderator(by, parent):
        raise ValidationError({"parent": [f"You can only add subcollections to collections you moderate, not to “{parent.title}”."]})
    # One level, as on AO3: a meme's rounds under the meme, never rounds of rounds.
    if parent.parent_id is not None:
        raise ValidationError({"parent": [f"“{parent.title}” is itself a subcollection; choose its parent instead."]})
    if collection is not None:
        if parent.pk == collection.pk:
            raise ValidationError({"parent": ["A collection cannot be its own parent."]})
        if collection.children.exists():
            raise ValidationError({"parent": ["This collection has subcollections of its own, so it cannot become one."]})


def _required_tag_types(value: str | Iterable[str]) -> str:
    """Tag types as the model stores them: known TagType values, comma-separated, in TagType order."""
    names = [part.strip().lower() for part in (value.split(",") if isinstance(value, str) else value)]
    names = [name for name in names if name]
    unknown = [name for name in names if name not in TagType.values]
    if unknown:
        known = ", ".join(TagType.values)
        raise ValidationError({"required_tag_types": [f"Unknown tag type “{unknown[0]}”; choose from: {known}."]})
    return ",".join(value for value in TagType.values if value in names)


def _check_window(opens: datetime | None, closes: datetime | None) -> None:
    if opens is not None and closes is not None and closes <= opens:
        raise ValidationError({"prompts_close_at": ["Prompts must close after they open."]})


# --- Collections --------------------------------------------------------------------


@transaction.atomic
def create_collection(
    *,
    by: User,
    name: str,
    title: str,
    description: str = "",
    parent: Collection | None = None,
    closed: bool = False,
    moderated: bool = False,
    anonymous: bool = False,
    unrevealed: bool = False,
    prompt_meme: bool = False,
    prompts_open_at: datetime | None = None,
    prompts_close_at: datetime | None = None,
    rules: str = "",
    required_tag_types: str | Iterable[str] = (),
) -> Collection:
    """A new collection owned by `by` (its first moderator)."""
    if not by.is_authenticated:
        raise PermissionDenied("Log in to make a collection.")
    name = _check_name(name)
    title = _check_title(title)
    _check_parent(parent, by=by)
    _check_window(prompts_open_at, prompts_close_at)
    try:
        # A savepoint: the name check above cannot see a collection created a moment ago
        # by a request racing this one; the database's unique constraint can.
        with transaction.atomic():
            return _create(
                name=name, title=title, description=description, by=by, parent=parent, closed=closed,
                moderated=moderated, anonymous=anonymous, unrevealed=unrevealed, prompt_meme=prompt_meme,
                prompts_open_at=prompts_open_at, prompts_close_at=prompts_close_at, rules=rules,
                required_tag_types=required_tag_types,
            )
    except IntegrityError:
        raise ValidationError({"name": ["That name is taken."]}) from None


def _create(
    *,
    by: User,
    name: str,
    title: str,
    description: str,
    parent: Collection | None,
    closed: bool,
    moderated: bool,
    anonymous: bool,
    unrevealed: bool,
    prompt_meme: bool,
    prompts_open_at: datetime | None,
    prompts_close_at: datetime | None,
    rules: str,
    required_tag_types: str | Iterable[str],
) -> Collection:
    return Collection.objects.create(
        name=name,
        title=title,
        description=_html("description", description),
        owner=by,
        parent=parent,
        closed=closed,
        moderated=moderated,
        anonymous=anonymous,
        unrevealed=unrevealed,
        prompt_meme=prompt_meme,
        prompts_open_at=prompts_open_at,
        prompts_close_at=prompts_close_at,
        rules=_html("rules", rules),
        required_tag_types=_required_tag_types(required_tag_types),
    )


@transaction.atomic
def update_collection(collection: Collection, *, by: User, **fields: Any) -> Collection:
    """Change any of EDITABLE_FIELDS (the owner or a moderator). Only the fields given change.

    Turning `anonymous` or `unrevealed` on or off reaches the collection's works at once.
    A collection that was revealed stays revealed.
    """
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"update_collection() cannot change {', '.join(sorted(unknown))}")
    _require_moderator(collection, by)
    collection = Collection.objects.select_for_update().get(pk=collection.pk)
    before = (collection.hides_creators, collection.hides_works, collection.title)
    if "title" in fields:
        fields["title"] = _check_title(fields["title"])
    for field in ("description", "rules"):
        if field in fields:
            fields[field] = _html(field, fields[field] or "")
    if "parent" in fields:
        _check_parent(fields["parent"], by=by, collection=collection)
    if "required_tag_types" in fields:
        fields["required_tag_types"] = _required_tag_types(fields["required_tag_types"] or ())
    _check_window(
        fields.get("prompts_open_at", collection.prompts_open_at), fields.get("prompts_close_at", collection.prompts_close_at)
    )
    for field, value in fields.items():
        setattr(collection, field, value)
    collection.save()
    if (collection.hides_creators, collection.hides_works) != before[:2]:
        refresh_work_flags(_item_work_ids(collection))
    elif collection.title != before[2]:
        # Work pages name their collections and are cached per version of the work.
        Work.objects.filter(pk__in=CollectionItem.objects.filter(collection=collection).values("work_id")).update(
            revised_at=timezone.now()
        )
    return collection


@transaction.atomic
def delete_collection(collection: Collection, *, by: User) -> None:
    """Delete a collection with its subcollections, items and prompts (the owner only).

    Its works stay. One that still hides works or creators must be revealed first:
    deleting it would unmask them without the reveal its creators signed up for.
    """
    _require_owner(collection, by)
    # Read again: the caller's copy may predate a reveal.
    collection = Collection.objects.select_for_update().get(pk=collection.pk)
    items = CollectionItem.objects.filter(Q(collection=collection) | Q(collection__parent=collection))
    hiding = [c for c in [collection, *collection.children.all()] if c.hides_creators or c.hides_works]
    if hiding and items.filter(collection__in=hiding).exists():
        raise ValidationError(f"“{hiding[0].title}” still hides its works or creators: reveal it before deleting it.")
    work_ids = list(items.values_list("work_id", flat=True))
    collection.delete()
    refresh_work_flags(work_ids, touch=True)


def _item_work_ids(collection: Collection) -> list[int]:
    return list(CollectionItem.objects.filter(collection=collection).values_list("work_id", flat=True))


# --- Moderators ---------------------------------------------------------------------


@transaction.atomic
def invite_moderator(collection: Collection, *, by: User, user: User) -> Moderator:
    """Ask `user` to moderate the collection (the owner only); they act once they accept."""
    _require_owner(collection, by)
    if user.pk == collection.owner_id:
        raise ValidationError({"username": ["The owner already moderates the collection."]})
    existing = Moderator.objects.filter(collection=collection, user=user).first()
    if existing is not None:
        state = "already moderates" if existing.accepted else "has already been invited to moderate"
        raise ValidationError({"username": [f"{user.username} {state} this collection."]})
    return Moderator.objects.create(collection=collection, user=user, invited_by=by)


@transaction.atomic
def answer_moderator_invitation(moderator: Moderator, *, by: User, accept: bool) -> Moderator | None:
    """The invitee accepts (and moderates from now on) or declines (the invitation goes)."""
    if not by.is_authenticated or moderator.user_id != by.pk:
        raise PermissionDenied("This invitation is not yours.")
    if not accept:
        moderator.delete()
        return None
    if not moderator.accepted:
        moderator.accepted = True
        moderator.save(update_fields=["accepted"])
    return moderator


@transaction.atomic
def remove_moderator(moderator: Moderator, *, by: User) -> None:
    """The owner removes a moderator (or withdraws an invitation); a moderator may also step down."""
    collection = moderator.collection
    if not by.is_authenticated or (by.pk != collection.owner_id and by.pk != moderator.user_id):
        raise PermissionDenied("Only the collection's owner can remove a moderator.")
    moderator.delete()


# --- Works in collections -----------------------------------------------------------


def _new_item(collection: Collection, work: Work, *, by: User) -> CollectionItem:
    """The item for a work not yet in `collection`, following its rules (not saved)."""
    moderator = is_moderator(by, collection)
    if collection.closed and not moderator:
        raise ValidationError({"collections": [f"“{collection.title}” is closed: it takes no new works."]})
    approved = moderator or not collection.moderated
    return CollectionItem(
        collection=collection,
        work=work,
        status=ItemStatus.APPROVED if approved else ItemStatus.PENDING,
        added_by=by,
        decided_at=timezone.now() if approved else None,
    )


@transaction.atomic
def set_work_collections(work: Work, *, by: User, names: str | Iterable[str]) -> list[CollectionItem]:
    """Make `names` the collections the work is in (a creator of the work only).

    A name not yet among the work's collections adds the work, by that collection's rules:
    closed takes no works except from its moderators; moderated holds them for approval.
    A collection left out takes the work out. Names already there stay as they are,
    whatever the moderators decided. Returns the work's items, in collection title order.
    """
    require_creator(work, by)
    _lock_work(work.pk)
    wanted = split_tag_names(names)
    found = {c.name.lower(): c for c in Collection.objects.filter(_names_query(wanted))} if wanted else {}
    errors = [f"There is no collection called “{name}”." for name in wanted if name.lower() not in found]
    existing = {item.collection_id: item for item in CollectionItem.objects.filter(work=work)}
    new_items: list[CollectionItem] = []
    for name in wanted:
        collection = found.get(name.lower())
        if collection is None or collection.pk in existing:
            continue
        try:
            new_items.append(_new_item(collection, work, by=by))
        except ValidationError as error:
            errors.extend(error.message_dict["collections"])
    if errors:
        raise ValidationError({"collections": errors})
    keep = {c.pk for c in found.values()}
    dropped = [item.pk for item in existing.values() if item.collection_id not in keep]
    if dropped:
        CollectionItem.objects.filter(pk__in=dropped).delete()
    for item in new_items:
        _save_item(item)
    if dropped or new_items:
        refresh_work_flags([work.pk], touch=True)
    return list(CollectionItem.objects.filter(work=work).select_related("collection").order_by("collection__title", "pk"))


def _names_query(names: Sequence[str]) -> Q:
    # Names are ASCII slugs, so iexact matches them on both databases.
    query = Q()
    for name in names:
        query |= Q(name__iexact=name)
    return query


def _lock_work(work_id: int) -> None:
    """Lock the work's row before any of its items: every write here takes the work
    first and its items after (as update_work does), so two of them never deadlock."""
    list(Work.objects.select_for_update().filter(pk=work_id).values_list("pk", flat=True))


def _save_item(item: CollectionItem) -> CollectionItem:
    # get_or_create, in its own savepoint: a double-click adding the same work twice at
    # once meets the unique constraint and reads the other request's item instead.
    saved, _created = CollectionItem.objects.get_or_create(
        collection=item.collection,
        work=item.work,
        defaults={"status": item.status, "added_by": item.added_by, "decided_at": item.decided_at},
    )
    return saved


@transaction.atomic
def add_work(collection: Collection, *, by: User, work: Work) -> CollectionItem:
    """Add one of `by`'s works to the collection (the collection page's "Add a work")."""
    require_creator(work, by)
    _lock_work(work.pk)
    existing = CollectionItem.objects.filter(collection=collection, work=work).first()
    if existing is not None:
        raise ValidationError({"work": [f"“{work.title}” is already in this collection."]})
    try:
        item = _save_item(_new_item(collection, work, by=by))
    except ValidationError as error:
        raise ValidationError({"work": error.message_dict["collections"]}) from error
    refresh_work_flags([work.pk], touch=True)
    return item


def _decide(item: CollectionItem, *, by: User, status: str) -> CollectionItem:
    _require_moderator(item.collection, by)
    _lock_work(item.work_id)
    found = CollectionItem.objects.select_for_update().filter(pk=item.pk).first()
    if found is None:
        raise ValidationError("That work is no longer in the collection.")
    item = found
    if item.status != status:
        item.status = status
        item.decided_at = timezone.now()
        item.save(update_fields=["status", "decided_at"])
        refresh_work_flags([item.work_id], touch=True)
    return item


@transaction.atomic
def approve_item(item: CollectionItem, *, by: User) -> CollectionItem:
    """A moderator lets the work into the collection (a rejected one too: minds change)."""
    return _decide(item, by=by, status=ItemStatus.APPROVED)


@transaction.atomic
def reject_item(item: CollectionItem, *, by: User) -> CollectionItem:
    """A moderator keeps the work out of the collection.

    The item stays, rejected: if the collection hides its creators or works, the work
    stays anonymous or unrevealed as its creator posted it (until the reveal, or until the
    creator takes it out). A moderator's decision never unmasks someone.
    """
    return _decide(item, by=by, status=ItemStatus.REJECTED)


@transaction.atomic
def remove_item(item: CollectionItem, *, by: User) -> None:
    """Take a work out of a collection: its creator may, and so may a moderator.

    A moderator removing someone else's work from a collection that still hides creators
    or works rejects it instead (see reject_item): removing the item would unmask the work.
    """
    _lock_work(item.work_id)
    # Read again, with its collection: the caller's copy may predate a reveal.
    found = CollectionItem.objects.select_related("collection", "work").filter(pk=item.pk).first()
    if found is None:
        return  # already taken out (a double click)
    item = found
    work = item.work
    creator = by.is_authenticated and work.creatorships.filter(pseud__user=by, accepted=True).exists()
    if not creator:
        _require_moderator(item.collection, by)
        collection = item.collection
        if collection.hides_creators or collection.hides_works:
            _decide(item, by=by, status=ItemStatus.REJECTED)
            return
    item.delete()
    refresh_work_flags([work.pk], touch=True)


# --- Reveal -------------------------------------------------------------------------


@transaction.atomic
def reveal(collection: Collection, *, by: User, works: bool = True, creators: bool = True) -> Collection:
    """Reveal the collection's works and/or creators now (its moderators).

    Per collection, as on AO3: a parent's subcollections (a meme's rounds) keep their own
    reveal. Raises a ValidationError when nothing asked for is still hidden.
    """
    _require_moderator(collection, by)
    collection, changed = _reveal(collection.pk, works=works, creators=creators, now=timezone.now())
    if not changed:
        raise ValidationError("There is nothing left to reveal in this collection.")
    return collection


def _reveal(pk: int, *, works: bool, creators: bool, now: datetime) -> tuple[Collection, list[str]]:
    # The row lock makes a moderator's reveal and the scheduled one reveal once.
    collection = Collection.objects.select_for_update().get(pk=pk)
    changed = []
    if works and collection.unrevealed and collection.works_revealed_at is None:
        collection.works_revealed_at = now
        changed.append("works_revealed_at")
    if creators and collection.anonymous and collection.creators_revealed_at is None:
        collection.creators_revealed_at = now
        changed.append("creators_revealed_at")
    if changed:
        collection.save(update_fields=changed)
        refresh_work_flags(_item_work_ids(collection))
    return collection, changed


@transaction.atomic
def schedule_reveal(
    collection: Collection, *, by: User, works_on: datetime | None = None, creators_on: datetime | None = None
) -> Collection:
    """Reveal the works and/or creators on their own at those times (None: no date).

    A background task runs at each time; it, `reveal_due()` and `chapbook reveal_due` all
    reveal whatever is due and nothing else, so any of them can run any time.
    """
    _require_moderator(collection, by)
    collection = Collection.objects.select_for_update().get(pk=collection.pk)
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    for field, when, hidden, what in (
        ("works_on", works_on, collection.hides_works, "works"),
        ("creators_on", creators_on, collection.hides_creators, "creators"),
    ):
        if when is None:
            continue
        if not hidden:
            errors[field] = [f"This collection's {what} are not hidden, so there is nothing to reveal."]
        elif when <= now:
            errors[field] = ["Choose a time in the future, or reveal now."]
    if errors:
        raise ValidationError(errors)
    collection.reveal_works_on = works_on
    collection.reveal_creators_on = creators_on
    collection.save(update_fields=["reveal_works_on", "reveal_creators_on"])
    from chapbook.collections.tasks import enqueue_reveal

    for when in sorted({w for w in (works_on, creators_on) if w is not None}):
        transaction.on_commit(lambda when=when: enqueue_reveal(when))  # type: ignore[misc]
    return collection


def reveal_due(*, now: datetime | None = None) -> list[Collection]:
    """Reveal every collection whose scheduled reveal time has come; returns them.

    Each collection in its own transaction, so one failure leaves the others revealed.
    """
    now = now or timezone.now()
    due = Collection.objects.filter(
        Q(unrevealed=True, works_revealed_at__isnull=True, reveal_works_on__lte=now)
        | Q(anonymous=True, creators_revealed_at__isnull=True, reveal_creators_on__lte=now)
    ).values_list("pk", "reveal_works_on", "reveal_creators_on")
    revealed = []
    for pk, works_on, creators_on in list(due):
        with transaction.atomic():
            collection, changed = _reveal(
                pk,
                works=works_on is not None and works_on <= now,
                creators=creators_on is not None and creators_on <= now,
                now=now,
            )
        if changed:
            revealed.append(collection)
    return revealed


# --- The flags on Work --------------------------------------------------------------


def refresh_work_flags(work_ids: Iterable[int], *, touch: bool = False) -> list[int]:
    """Recompute Work.anonymous and Work.unrevealed from the works' collections.

    A work is anonymous while any collection it is in (approved, waiting, or rejected:
    see reject_item) hides its creators, and unrevealed while any hides its works. Every
    work whose flags change gets a new `revised_at` (the filter index, the search index
    and every cached page and blurb follow it) and is reindexed. With `touch`, so do the
    works whose flags stayed: their collections changed, which their pages show.

    Call it inside the transaction that changed the items or collections. It locks the
    works' rows before reading their collections, so two such transactions touching the
    same work run one after the other and the second reads what the first committed.
    Returns the ids of the works whose flags changed.
    """
    ids = sorted({int(pk) for pk in work_ids})
    now = timezone.now()
    changed: list[int] = []
    touched: list[int] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        current = {
            pk: (anonymous, unrevealed)
            for pk, anonymous, unrevealed in Work.objects.select_for_update()
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk", "anonymous", "unrevealed")
        }
        items = list(CollectionItem.objects.filter(work_id__in=chunk).values_list("work_id", "collection_id"))
        collections = Collection.objects.in_bulk({collection_id for _, collection_id in items})
        wanted = {pk: (False, False) for pk in current}
        for work_id, collection_id in items:
            collection = collections[collection_id]
            anonymous, unrevealed = wanted[work_id]
            wanted[work_id] = (anonymous or collection.hides_creators, unrevealed or collection.hides_works)
        groups: dict[tuple[bool, bool], list[int]] = defaultdict(list)
        for pk, flags in wanted.items():
            if flags != current[pk]:
                groups[flags].append(pk)
            elif touch:
                touched.append(pk)
        for (anonymous, unrevealed), pks in groups.items():
            Work.objects.filter(pk__in=pks).update(anonymous=anonymous, unrevealed=unrevealed, revised_at=now)
            changed.extend(pks)
    for start in range(0, len(touched), CHUNK):
        Work.objects.filter(pk__in=touched[start : start + CHUNK]).update(revised_at=now)
    works_changed(changed + touched)
    return changed
