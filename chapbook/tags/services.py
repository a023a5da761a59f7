"""Tag wrangling: what a tag means for filtering. Creators' own tags on works never change.

A tag is canonical, a synonym of one canonical tag, or unwrangled. Canonical tags have
parent (meta) tags of their own type, transitively: a filter on "Ben Solo" also finds
works tagged with its sub-tag "Kylo Ren". Characters, relationships and additional tags
belong to fandoms, which are parents of type fandom and never filter ancestors.

Every function takes a list of tags, so the bulk action is the same call, runs in one
transaction, raises ValidationError naming what is wrong (and changes nothing), moves
`wrangled_at` on every tag whose meaning changed, and asks the filter index to rebuild
once the change commits. Each returns the tags it was asked about that changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chapbook.listings.services import tags_wrangled
from chapbook.people.models import User
from chapbook.search.tasks import reindex_tags
from chapbook.tags.models import Tag, TagType

WRANGLE_PERMISSION = "tags.wrangle_tag"
# The tag types that belong to fandoms (AO3's "common taggings").
FANDOM_MEMBER_TYPES = {TagType.CHARACTER, TagType.RELATIONSHIP, TagType.FREEFORM}

Parents = Tag.parents.through


def can_wrangle(user: object) -> bool:
    has_perm = getattr(user, "has_perm", None)
    return bool(has_perm and has_perm(WRANGLE_PERMISSION))


# ---------------------------------------------------------------- status


def make_canonical(tags: Sequence[Tag], *, by: User) -> list[Tag]:
    """Make tags canonical. A synonym stops being one: it becomes a filter of its own."""
    _check_wrangler(by)
    with transaction.atomic():
        fresh = _lock(tags, "tags")
        _refuse_fixed(fresh, "tags")
        changed = [tag for tag in fresh if not tag.canonical or tag.synonym_of_id is not None]
        Tag.objects.filter(pk__in=_ids(changed)).update(canonical=True, synonym_of=None)
        for tag in changed:
            tag.canonical, tag.synonym_of = True, None
        _wrangled(changed, _ids(changed))
    return changed


def make_unwrangled(tags: Sequence[Tag], *, by: User) -> list[Tag]:
    """Undo a tag's wrangling: neither canonical nor a synonym any more.

    Refused while a canonical tag still has synonyms, sub-tags or (for a fandom) tags in
    it, unless those are unwrangled in the same call: other tags' meaning would change
    silently. Its own parent tags are dropped, since only canonical tags have them; its
    fandoms stay (remove them with `remove_fandoms`).
    """
    _check_wrangler(by)
    with transaction.atomic():
        fresh = _lock(tags, "tags")
        _refuse_fixed(fresh, "tags")
        ids = _ids(fresh)
        errors = []
        for tag in fresh:
            if not tag.canonical:
                continue
            synonyms = [t.name for t in tag.synonyms.exclude(pk__in=ids)]
            if synonyms:
                errors.append(
                    f"“{tag.name}” still has synonyms ({_names(synonyms)}): make them synonyms of another "
                    "tag, or unwrangle them too."
                )
            # Sub-tags unwrangled in the same call go too; a fandom's other tags never do.
            children = [t.name for t in tag.children.exclude(pk__in=ids, type=tag.type)]
            if children:
                kind = "tags in it" if tag.type == TagType.FANDOM else "sub-tags"
                errors.append(f"“{tag.name}” still has {kind} ({_names(children)}): remove them first.")
        if errors:
            raise ValidationError({"tags": errors})
        changed = [tag for tag in fresh if tag.canonical or tag.synonym_of_id is not None]
        changed_ids = _ids(changed)
        Tag.objects.filter(pk__in=changed_ids).update(canonical=False, synonym_of=None)
        lost_parents = Parents.objects.filter(from_tag_id__in=changed_ids, to_tag__type=F("from_tag__type"))
        touched = changed_ids | set(lost_parents.values_list("to_tag_id", flat=True))
        lost_parents.delete()
        for tag in changed:
            tag.canonical, tag.synonym_of = False, None
        _wrangled(changed, touched)
    return changed


def make_synonym(tags: Sequence[Tag], *, of: Tag, by: User) -> list[Tag]:
    """Make tags synonyms of the canonical tag `of`: their works appear under it.

    A canonical tag merged this way hands everything it had to `of`, as AO3 does: its
    synonyms become synonyms of `of`, its sub-tags and parent tags become those of `of`,
    and its fandoms (or, for a fandom, the tags in it) are added to `of`. Nothing is lost,
    so a wrangler can merge a duplicate canonical without first unpicking it. Refused
    when the tags being merged are linked through other tags, which would make a cycle.
    """
    _check_wrangler(by)
    with transaction.atomic():
        fresh = _lock(tags, "tags")
        target = _lock([of], "of")[0]
        _refuse_fixed(fresh, "tags")
        _refuse_fixed([target], "of")
        if not target.canonical:
            raise ValidationError(
                {"of": [f"“{target.name}” is not canonical: make it canonical before adding synonyms to it."]}
            )
        errors = []
        for tag in fresh:
            if tag.pk == target.pk:
                errors.append(f"“{tag.name}” cannot be a synonym of itself.")
            elif tag.type != target.type:
                errors.append(
                    f"“{tag.name}” is a {_type_name(tag)} tag and “{target.name}” a {_type_name(target)} "
                    "tag: synonyms must be of the same type."
                )
        if errors:
            raise ValidationError({"tags": errors})
        changed = [tag for tag in fresh if tag.synonym_of_id != target.pk or tag.canonical]
        touched = _merge_into(changed, target)
        for tag in changed:
            tag.canonical, tag.synonym_of = False, target
        _wrangled(changed, touched)
    return changed


# ---------------------------------------------------------------- parent (meta) tags


def add_parents(tags: Sequence[Tag], *, parents: Sequence[Tag], by: User) -> list[Tag]:
    """Make each of `parents` a parent (meta) tag of each of `tags`: same type, both canonical.

    A filter on a parent finds its sub-tags' works, transitively, so a link that would
    make a tag its own ancestor is refused, however long the way round.
    """
    _check_wrangler(by)
    with transaction.atomic():
        fresh = _lock(tags, "tags")
        new_parents = _lock(parents, "parents")
        _refuse_fixed(fresh, "tags")
        _refuse_fixed(new_parents, "parents")
        _check_meta_link(fresh, new_parents)
        cycle = _first_path(_ids(fresh), _ids(new_parents), fresh[0].type)
        if cycle is not None:
            sub, parent = cycle
            if sub.pk == parent.pk:
                message = f"“{sub.name}” cannot be a parent tag of itself."
            else:
                message = (
                    f"“{parent.name}” is already a sub-tag of “{sub.name}”, so it cannot also be its parent "
                    "tag: that would make a cycle."
                )
            raise ValidationError({"parents": [message]})
        return _link(fresh, new_parents)


def remove_parents(tags: Sequence[Tag], *, parents: Sequence[Tag], by: User) -> list[Tag]:
    """Remove parent (meta) tags. A tag that did not have one is left alone."""
    _check_wrangler(by)
    with transaction.atomic():
        fresh = _lock(tags, "tags")
        old_parents = _lock(parents, "parents")
        wrong = [p.name for p in old_parents if any(p.type != t.type for t in fresh)]
        if wrong:
            raise ValidationError(
                {"parents": [f"{_names(wrong)}: parent tags are of the tag's own type (fandoms are removed as fandoms)."]}
            )
        return _unlink(fresh, old_parents)


# ---------------------------------------------------------------- fandoms


def assign_fandoms(tags: Sequence[Tag], *, fandoms: Sequence[Tag], by: User) -> list[Tag]:
    """Put characters, relationships and additional tags in canonical fandoms.

    Any such tag can be in a fandom, wrangled or not: that is how AO3 takes a tag out of
    the unwrangled bin before deciding whether it is canonical.
    """
    _check_wrangler(by)
    with transaction.atomic():
        fresh = _lock(tags, "tags")
        new_fandoms = _lock(fandoms, "fandoms")
        _check_fandom_link(fresh, new_fandoms)
        not_canonical = [f.name for f in new_fandoms if not f.canonical]
        if not_canonical:
            raise ValidationError(
                {"fandoms": [f"{_names(not_canonical)}: only canonical fandoms can have tags in them."]}
            )
        return _link(fresh, new_fandoms)


def remove_fandoms(tags: Sequence[Tag], *, fandoms: Sequence[Tag], by: User) -> list[Tag]:
    """Take tags out of fandoms. A tag that was not in one is left alone."""
    _check_wrangler(by)
    with transaction.atomic():
        fresh = _lock(tags, "tags")
        old_fandoms = _lock(fandoms, "fandoms")
        _check_fandom_link(fresh, old_fandoms)
        return _unlink(fresh, old_fandoms)


# ---------------------------------------------------------------- checks, shared with the admin


def synonym_problem(tag: Tag, target: Tag) -> str | None:
    """Why `tag` cannot be a synonym of `target`, or None."""
    if tag.is_fixed or target.is_fixed:
        return "The archive's ratings, warnings and categories cannot be wrangled."
    if tag.pk == target.pk:
        return f"“{tag.name}” cannot be a synonym of itself."
    if not target.canonical:
        return f"“{target.name}” is not canonical: make it canonical before adding synonyms to it."
    if tag.type != target.type:
        return f"“{target.name}” is a {_type_name(target)} tag: synonyms must be of the same type."
    return None


def parent_problem(tag: Tag, parent: Tag) -> str | None:
    """Why `parent` cannot be a parent (meta tag or fandom) of `tag`, or None."""
    if tag.is_fixed or parent.is_fixed:
        return "The archive's ratings, warnings and categories cannot be wrangled."
    if parent.type == TagType.FANDOM and tag.type != TagType.FANDOM:
        if tag.type not in FANDOM_MEMBER_TYPES:
            return f"A {_type_name(tag)} tag does not belong to fandoms."
        return None if parent.canonical else f"“{parent.name}” is not a canonical fandom."
    if parent.type != tag.type:
        return f"“{parent.name}” is a {_type_name(parent)} tag: parent tags must be of the same type."
    if not tag.canonical or not parent.canonical:
        return "Only canonical tags have parent tags."
    if tag.pk is not None and _first_path({tag.pk}, {parent.pk}, tag.type) is not None:
        return f"“{parent.name}” is a sub-tag of “{tag.name}”: that would make a cycle."
    return None


# ---------------------------------------------------------------- helpers


def _check_wrangler(by: User) -> None:
    if not can_wrangle(by):
        raise PermissionDenied("Only tag wranglers can wrangle tags.")


def _lock(tags: Iterable[Tag], field: str) -> list[Tag]:
    """The tags as they are now, locked until the transaction ends (on PostgreSQL).

    Validation runs against these rows rather than the caller's copies, so two wranglers
    working on the same tags cannot each pass a check the other's change breaks.
    """
    ids = {tag.pk for tag in tags}
    if not ids:
        raise ValidationError({field: ["Choose at least one tag."]})
    fresh = list(Tag.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(fresh) != len(ids):
        raise ValidationError({field: ["One of these tags no longer exists."]})
    return fresh


def _refuse_fixed(tags: Sequence[Tag], field: str) -> None:
    fixed = [tag.name for tag in tags if tag.is_fixed]
    if fixed:
        raise ValidationError(
            {field: [f"{_names(fixed)}: the archive's ratings, warnings and categories cannot be wrangled."]}
        )


def _check_meta_link(tags: Sequence[Tag], parents: Sequence[Tag]) -> None:
    errors = []
    for parent in parents:
        other_types = {t.type for t in tags if t.type != parent.type}
        if other_types:
            hint = " (put tags in a fandom with “assign fandom”)" if parent.type == TagType.FANDOM else ""
            errors.append(f"“{parent.name}” is a {_type_name(parent)} tag: parent tags must be of the same type{hint}.")
        elif not parent.canonical:
            errors.append(f"“{parent.name}” is not canonical: only canonical tags can be parent tags.")
    if errors:
        raise ValidationError({"parents": errors})
    not_canonical = [t.name for t in tags if not t.canonical]
    if not_canonical:
        raise ValidationError(
            {"tags": [f"{_names(not_canonical)}: only canonical tags have parent tags; make them canonical first."]}
        )


def _check_fandom_link(tags: Sequence[Tag], fandoms: Sequence[Tag]) -> None:
    not_fandoms = [f.name for f in fandoms if f.type != TagType.FANDOM]
    if not_fandoms:
        raise ValidationError({"fandoms": [f"{_names(not_fandoms)}: not a fandom."]})
    wrong = [t.name for t in tags if t.type not in FANDOM_MEMBER_TYPES]
    if wrong:
        raise ValidationError(
            {"tags": [f"{_names(wrong)}: only characters, relationships and additional tags belong to fandoms."]}
        )


def _link(tags: Sequence[Tag], parents: Sequence[Tag]) -> list[Tag]:
    existing = set(
        Parents.objects.filter(from_tag_id__in=_ids(tags), to_tag_id__in=_ids(parents)).values_list(
            "from_tag_id", "to_tag_id"
        )
    )
    new = [(tag, parent) for tag in tags for parent in parents if (tag.pk, parent.pk) not in existing]
    Parents.objects.bulk_create([Parents(from_tag_id=tag.pk, to_tag_id=parent.pk) for tag, parent in new])
    changed = _unique(tag for tag, _ in new)
    _wrangled(changed, _ids(changed) | {parent.pk for _, parent in new})
    return changed


def _unlink(tags: Sequence[Tag], parents: Sequence[Tag]) -> list[Tag]:
    links = Parents.objects.filter(from_tag_id__in=_ids(tags), to_tag_id__in=_ids(parents))
    pairs = set(links.values_list("from_tag_id", "to_tag_id"))
    links.delete()
    changed = [tag for tag in tags if any(child == tag.pk for child, _ in pairs)]
    _wrangled(changed, {child for child, _ in pairs} | {parent for _, parent in pairs})
    return changed


def _merge_into(tags: Sequence[Tag], target: Tag) -> set[int]:
    """Make `tags` synonyms of `target`, handing their links over; the ids of every tag touched."""
    ids = _ids(tags)
    if not ids:
        return set()
    tag_type = target.type
    loop = _first_path(ids | {target.pk}, ids | {target.pk}, tag_type, through_others=True)
    if loop is not None:
        upper, lower = loop
        message = (
            f"“{lower.name}” is a sub-tag of “{upper.name}” through other tags, so merging them would make "
            "a cycle: remove the parent tags between them first."
        )
        raise ValidationError({"tags": [message]})
    touched = ids | {target.pk}
    # Synonyms of a merged canonical tag follow it to its new canonical tag.
    moved = Tag.objects.filter(synonym_of_id__in=ids).exclude(pk__in=ids)
    touched |= set(moved.values_list("pk", flat=True))
    moved.update(synonym_of=target)
    # Parent links out of the merged tags (meta tags and fandoms) and into them (sub-tags,
    # and a fandom's tags) move to the target; links between the merged tags and the target
    # would make it its own parent and are dropped.
    up = Parents.objects.filter(from_tag_id__in=ids).exclude(to_tag_id__in=ids | {target.pk})
    down = Parents.objects.filter(to_tag_id__in=ids).exclude(from_tag_id__in=ids | {target.pk})
    parent_ids = set(up.values_list("to_tag_id", flat=True))
    child_ids = set(down.values_list("from_tag_id", flat=True))
    touched |= parent_ids | child_ids
    existing_up = set(Parents.objects.filter(from_tag_id=target.pk).values_list("to_tag_id", flat=True))
    existing_down = set(Parents.objects.filter(to_tag_id=target.pk).values_list("from_tag_id", flat=True))
    Parents.objects.bulk_create(
        [Parents(from_tag_id=target.pk, to_tag_id=pk) for pk in parent_ids - existing_up]
        + [Parents(from_tag_id=pk, to_tag_id=target.pk) for pk in child_ids - existing_down]
    )
    # A synonym keeps its fandoms (so it leaves the unwrangled bin) but no other links.
    Parents.objects.filter(from_tag_id__in=ids, to_tag__type=tag_type).delete()
    Parents.objects.filter(to_tag_id__in=ids).delete()
    Tag.objects.filter(pk__in=ids).update(canonical=False, synonym_of=target)
    return touched


def _first_path(
    starts: set[int], goals: set[int], tag_type: str, *, through_others: bool = False
) -> tuple[Tag, Tag] | None:
    """(start, goal) for the first goal that is a start or one of its sub-tags, transitively.

    Only links between tags of `tag_type` count: fandom membership never makes a cycle.
    With `through_others`, a start only counts as reaching a goal through at least one
    tag outside both sets (merging tags that link directly just drops that link).
    One query per level of the hierarchy, however many tags are being checked.
    """
    origin = {pk: pk for pk in starts}
    if not through_others:
        hit = next((pk for pk in sorted(starts) if pk in goals), None)
        if hit is not None:
            return _pair(hit, hit)
    frontier = set(starts)
    members = starts | goals
    while frontier:
        links = Parents.objects.filter(to_tag_id__in=frontier, from_tag__type=tag_type).values_list(
            "to_tag_id", "from_tag_id"
        )
        next_frontier = set()
        for parent_id, child_id in links:
            if through_others and parent_id in members and child_id in members:
                continue
            if child_id in goals and (not through_others or parent_id not in members):
                return _pair(origin[parent_id], child_id)
            if child_id not in origin:
                origin[child_id] = origin[parent_id]
                next_frontier.add(child_id)
        frontier = next_frontier
    return None


def _pair(start_id: int, goal_id: int) -> tuple[Tag, Tag]:
    tags = Tag.objects.in_bulk([start_id, goal_id])
    return tags[start_id], tags[goal_id]


def _wrangled(changed: Sequence[Tag], touched: set[int]) -> None:
    """Move `wrangled_at` on every tag whose meaning changed, and tell the filter index."""
    if not touched:
        return
    now = timezone.now()
    Tag.objects.filter(pk__in=touched).update(wrangled_at=now)
    for tag in changed:
        tag.wrangled_at = now
    tags_wrangled()
    transaction.on_commit(lambda: reindex_tags.enqueue(sorted(touched)))


def _ids(tags: Iterable[Tag]) -> set[int]:
    return {tag.pk for tag in tags}


def _unique(tags: Iterable[Tag]) -> list[Tag]:
    return list({tag.pk: tag for tag in tags}.values())


def _type_name(tag: Tag) -> str:
    return tag.get_type_display().lower()


def _names(names: Iterable[str], limit: int = 5) -> str:
    names = list(names)
    shown = ", ".join(f"“{name}”" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
