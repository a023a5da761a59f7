"""Bookmarks of works and series: saving and deleting them, and who may see which.

A reader has at most one bookmark of a work or series (the database's unique constraints
say so); saving again edits it. `Work.bookmarks_count` counts public bookmarks only, as
AO3's blurbs do, so it moves when a bookmark is created, deleted or made public/private.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.safestring import SafeString

from chapbook.feedback import counters
from chapbook.feedback.models import Bookmark, BookmarkTag
from chapbook.people.models import Pseud, User
from chapbook.tags.models import Tag, TagType
from chapbook.works.blurbs import VERSION_FIELDS, render_blurbs
from chapbook.works.models import Creatorship, Series, Work, WorkTag
from chapbook.works.selectors import AnyUser, series_visible_to, works_visible_to
from chapbook.works.services import _find_or_create_tag, _tag_problem, render_html_field, split_tag_names

NOTES_LIMIT = 5_000
MAX_TAGS = 75
BOOKMARKS_PER_PAGE = 20
SORTS = {"created": ("-created_at", "-pk"), "updated": ("-updated_at", "-pk")}


# Services ------------------------------------------------------------------------------


def _clean_notes(notes: str) -> str:
    if len(notes) > NOTES_LIMIT:
        message = f"Notes can be at most {NOTES_LIMIT:,} characters long (they are {len(notes):,})."
        raise ValidationError({"notes": [message]})
    return render_html_field(notes, "html").html


def _resolve_tags(names: Sequence[str] | str) -> list[Tag]:
    """The bookmarker's own tags, found or created as freeform tags.

    An existing tag of another type (a fandom, say) is used as it is: on AO3 a bookmarker
    may tag with any tag, and a name means one tag archive-wide.
    """
    wanted = split_tag_names(names)
    if len(wanted) > MAX_TAGS:
        raise ValidationError({"tags": [f"A bookmark can have at most {MAX_TAGS} tags (this one has {len(wanted)})."]})
    problems = [problem for name in wanted if (problem := _tag_problem(name, TagType.FREEFORM))]
    if problems:
        raise ValidationError({"tags": problems})
    return [_find_or_create_tag(name, TagType.FREEFORM) for name in wanted]


def _check_pseud(by: User, pseud: Pseud | None) -> None:
    if pseud is not None and pseud.user_id != by.pk:
        raise ValidationError({"pseud": [f"“{pseud.name}” is not one of your pseuds."]})


def _check_bookmarkable(by: User, work: Work | None, series: Series | None) -> None:
    """Raise as if the item did not exist when `by` may not see it; refuse drafts."""
    if (work is None) == (series is None):
        raise ValidationError("Bookmark either a work or a series.")
    if work is not None:
        visible = works_visible_to(by).filter(pk=work.pk).values_list("draft", flat=True).first()
        if visible is None:
            raise Work.DoesNotExist("No such work.")
        if visible:
            raise ValidationError("Drafts cannot be bookmarked; post the work first.")
    elif series is not None and not series_visible_to(by).filter(pk=series.pk).exists():
        raise Series.DoesNotExist("No such series.")


def _set_tags(bookmark: Bookmark, tags: list[Tag]) -> None:
    BookmarkTag.objects.filter(bookmark=bookmark).exclude(tag__in=tags).delete()
    existing = set(BookmarkTag.objects.filter(bookmark=bookmark).values_list("tag_id", flat=True))
    BookmarkTag.objects.bulk_create([BookmarkTag(bookmark=bookmark, tag=tag) for tag in tags if tag.pk not in existing])


def _public_delta(before: bool | None, after: bool | None) -> int:
    """How a bookmark's change moves the public count: None means no bookmark."""
    return int(after is False) - int(before is False)


def save_bookmark(
    *,
    by: User,
    work: Work | None = None,
    series: Series | None = None,
    notes: str = "",
    tags: Sequence[str] = (),
    private: bool = False,
    rec: bool = False,
    pseud: Pseud | None = None,
) -> Bookmark:
    """Bookmark a work or a series for `by`, or edit their bookmark of it.

    Raises Work.DoesNotExist / Series.DoesNotExist for an item `by` may not see (so that a
    caller answers 404, as for an item that does not exist), ValidationError for a draft
    or bad notes, tags or pseud.
    """
    _check_bookmarkable(by, work, series)
    _check_pseud(by, pseud)
    clean_notes = _clean_notes(notes)
    target = {"work": work} if work is not None else {"series": series}
    with transaction.atomic():
        resolved = _resolve_tags(tags)
        # Locked, so that a concurrent edit or delete of the same bookmark cannot make the
        # public count move twice for one change.
        current = Bookmark.objects.select_for_update().filter(user=by, **target).first()
        if current is None:
            try:
                # A savepoint: a double submit racing this one may insert first; the unique
                # constraint stops the second row and this save edits the winner's instead.
                with transaction.atomic():
                    now = timezone.now()
                    bookmark = Bookmark.objects.create(
                        user=by,
                        pseud=pseud or by.default_pseud,
                        notes=clean_notes,
                        private=private,
                        rec=rec,
                        created_at=now,
                        updated_at=now,
                        **target,
                    )
                before: bool | None = None  # no bookmark before this save
            except IntegrityError:
                current = Bookmark.objects.select_for_update().filter(user=by, **target).first()
                if current is None:
                    raise ValidationError("This bookmark could not be saved; please try again.") from None
        if current is not None:
            before = current.private
            # Editing without naming a pseud keeps the one the bookmark was made under.
            current.pseud_id = pseud.pk if pseud is not None else current.pseud_id
            current.notes, current.private, current.rec = clean_notes, private, rec
            current.updated_at = timezone.now()
            current.save(update_fields=["pseud", "notes", "private", "rec", "updated_at"])
            bookmark = current
        _set_tags(bookmark, resolved)
        if work is not None and (delta := _public_delta(before, private)):
            counters.bump(work.pk, bookmarks=delta)
    return bookmark


def delete_bookmark(bookmark: Bookmark, *, by: User) -> None:
    """Delete a bookmark: its owner may, and staff (to moderate what public bookmarks say)."""
    if bookmark.user_id != by.pk and not by.is_staff:
        raise PermissionDenied("Only its owner can delete a bookmark.")
    with transaction.atomic():
        # Re-read under a lock: two deletes racing must take one bookmark off the count once.
        current = Bookmark.objects.select_for_update().filter(pk=bookmark.pk).first()
        if current is None:
            return
        current.delete()
        if current.work_id is not None and not current.private:
            counters.bump(current.work_id, bookmarks=-1)


# Selectors -----------------------------------------------------------------------------


def bookmarks_visible_to(viewer: AnyUser) -> QuerySet[Bookmark]:
    """Bookmarks `viewer` may see: the one place that decides it.

    A private bookmark is its owner's alone. A bookmark of a work the viewer may not read
    (a draft, a restricted work for a guest, a hidden one) is not shown at all, not even
    as "a bookmark of something"; a series bookmark shows while any part is visible.
    A creator's bookmark of their own anonymous work is theirs alone too: "Bookmarked by"
    would name the creator.
    """
    works = works_visible_to(viewer).filter(draft=False).values("pk")
    series = series_visible_to(viewer).values("pk")
    items = Q(work__in=works) | Q(series__in=series)
    by_anonymous_creator = Q(work__anonymous=True) & Q(
        Exists(Creatorship.objects.filter(work_id=OuterRef("work_id"), pseud__user_id=OuterRef("user_id"), accepted=True))
    )
    if viewer is not None and viewer.is_authenticated:
        shown = Bookmark.objects.filter(items, Q(private=False) | Q(user_id=viewer.pk))
        return shown.exclude(by_anonymous_creator & ~Q(user_id=viewer.pk))
    return Bookmark.objects.filter(items, private=False).exclude(by_anonymous_creator)


def matching_tags(name: str) -> QuerySet[Tag]:
    """The tag called `name` (any case) and, when it is wrangled, its canonical and synonyms.

    Only subqueries, so filtering by it adds no query to a page.
    """
    roots = Tag.objects.filter(name__iexact=name.strip()).annotate(root=Coalesce("synonym_of_id", "pk")).values("root")
    return Tag.objects.filter(Q(pk__in=roots) | Q(synonym_of_id__in=roots))


def filter_bookmarks(
    bookmarks: QuerySet[Bookmark], *, tag: str = "", rec: bool = False, sort: str = "created"
) -> QuerySet[Bookmark]:
    """Narrow a listing: `tag` matches the bookmarker's tags or the bookmarked work's."""
    if tag.strip():
        tags = matching_tags(tag)
        by_bookmarker = BookmarkTag.objects.filter(tag__in=tags).values("bookmark_id")
        by_work = WorkTag.objects.filter(tag__in=tags).values("work_id")
        bookmarks = bookmarks.filter(Q(pk__in=by_bookmarker) | Q(work_id__in=by_work))
    if rec:
        bookmarks = bookmarks.filter(rec=True)
    return bookmarks.order_by(*SORTS.get(sort, SORTS["created"]))


@dataclass
class Entry:
    """One bookmark as a listing shows it: the bookmark and its item's rendered blurb."""

    bookmark: Bookmark
    blurb: SafeString | None


def _blurbs_by_work(works: list[Work]) -> dict[int, SafeString]:
    rows = [tuple(getattr(work, field) for field in VERSION_FIELDS) for work in works]
    blurbs = render_blurbs(rows)
    if len(blurbs) == len(rows):
        return {work.pk: blurb for work, blurb in zip(works, blurbs, strict=True)}
    # A work was deleted between the page's query and its blurbs' (so was its bookmark):
    # match the rest one by one. Only in that race does a page cost more queries.
    found: dict[int, SafeString] = {}
    for work, row in zip(works, rows, strict=True):
        if one := render_blurbs([row]):
            found[work.pk] = one[0]
    return found


def bookmark_page(bookmarks: QuerySet[Bookmark], number: str | int | None, *, blurbs: bool = True) -> Page:
    """One page of bookmarks, `page.object_list` holding Entry rows, in a fixed number of queries.

    Work blurbs come from the shared blurb cache (rendered from `works/_blurb.html` with
    `with_blurb`'s prefetches when missing), keyed on the version columns loaded here.
    """
    loaded = bookmarks.select_related("pseud__user", "series__owner", "work").prefetch_related("tags")
    page = Paginator(loaded, BOOKMARKS_PER_PAGE).get_page(number)
    marks: list[Bookmark] = list(page.object_list)
    rendered: dict[int, SafeString] = {}
    if blurbs:
        works = list({m.work_id: m.work for m in marks if m.work is not None}.values())
        rendered = _blurbs_by_work(works)
    entries = [
        Entry(bookmark=mark, blurb=rendered.get(mark.work_id) if mark.work_id else None)
        for mark in marks
        # A work bookmark whose blurb vanished belongs to a work deleted meanwhile.
        if not blurbs or mark.work_id is None or mark.work_id in rendered
    ]
    page.object_list = entries  # type: ignore[assignment]
    return page


def own_bookmark(user: AnyUser, *, work: Work | None = None, series: Series | None = None) -> Bookmark | None:
    if user is None or not user.is_authenticated:
        return None
    target = {"work": work} if work is not None else {"series": series}
    return Bookmark.objects.filter(user_id=user.pk, **target).prefetch_related("tags").first()
