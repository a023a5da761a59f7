"""Writes to works. Each is one transaction: a work is never left half-posted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from chapbook.feedback import counters, subscriptions
from chapbook.feedback.models import CommentStatus
from chapbook.lib.formats import Format, render
from chapbook.lib.wordcount import count_words
from chapbook.listings.services import forget_work
from chapbook.people.models import Pseud, User
from chapbook.search.services import works_changed
from chapbook.tags.models import Tag, TagType
from chapbook.works.gifts import set_gifts
from chapbook.works.models import (
    LANGUAGE_NAMES,
    Chapter,
    CommentPermission,
    Creatorship,
    Series,
    SeriesPart,
    Work,
    WorkTag,
)

if TYPE_CHECKING:
    from chapbook.collections.models import Prompt

MAX_TAG_LENGTH = 150
# Character limits, shared by the form, the API and the importer because all three call
# these services. AO3 allows 500,000 characters of chapter text; notes are kept shorter.
LIMITS = {
    "summary": 5_000,
    "notes": 10_000,
    "end_notes": 10_000,
    "text": 510_000,
    "source_site": 100,
    "source_url": 500,
    "prompt_text": 10_000,
    "prompt_relationship": 150,
}
# A relationship is "A/B" (romantic) or "A & B" (platonic), as on AO3.
RELATIONSHIP_RE = re.compile(r"\S.*(/| & ).*\S")
TAG_FIELDS = {
    "fandoms": TagType.FANDOM,
    "ratings": TagType.RATING,
    "warnings": TagType.WARNING,
    "categories": TagType.CATEGORY,
    "relationships": TagType.RELATIONSHIP,
    "characters": TagType.CHARACTER,
    "freeforms": TagType.FREEFORM,
}


class Keep:
    """The default of update_work's fields where None means something ("unknown")."""


KEEP = Keep()


@dataclass
class ChapterInput:
    text: str
    format: Format = "html"
    title: str = ""
    notes: str = ""
    end_notes: str = ""


@dataclass
class TagInput:
    fandoms: list[str] = field(default_factory=list)
    ratings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    relationships: list[str] = field(default_factory=list)
    characters: list[str] = field(default_factory=list)
    freeforms: list[str] = field(default_factory=list)

    @classmethod
    def from_work(cls, work: Work) -> TagInput:
        return cls(**{name: [t.name for t in work.tags_of(tag_type)] for name, tag_type in TAG_FIELDS.items()})


@dataclass
class Rendered:
    """Sanitized HTML plus what the sanitizer removed, so a preview can show it."""

    html: str
    removed: list[str]


def render_html_field(value: str, fmt: Format = "html") -> Rendered:
    if not value.strip():
        return Rendered("", [])
    result = render(value, fmt)
    return Rendered(result.html, list(result.removed))


def split_tag_names(value: str | Iterable[str]) -> list[str]:
    """Tags arrive as a comma-separated string (forms) or a list (API); both mean the same."""
    items = value.split(",") if isinstance(value, str) else list(value)
    seen: dict[str, str] = {}
    for item in items:
        name = " ".join(str(item).split())
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    return list(seen.values())


def resolve_tags(tags: TagInput, *, for_draft: bool = False) -> list[Tag]:
    """Find or create the tags a creator wrote. Raises ValidationError naming the field."""
    errors: dict[str, list[str]] = {}
    resolved: list[Tag] = []
    for field_name, tag_type in TAG_FIELDS.items():
        names = split_tag_names(getattr(tags, field_name))
        for name in names:
            problem = _tag_problem(name, tag_type)
            if problem:
                errors.setdefault(field_name, []).append(problem)
                continue
            if tag_type in (TagType.RATING, TagType.WARNING, TagType.CATEGORY):
                existing = Tag.fixed(name, tag_type)
                if existing is None:
                    errors.setdefault(field_name, []).append(
                        f"“{name}” is not one of this archive's {field_name}; choose from the list."
                    )
                    continue
            else:
                existing = _find_or_create_tag(name, tag_type)
            if existing.type != tag_type:
                errors.setdefault(field_name, []).append(
                    f"“{name}” is already a {existing.get_type_display().lower()} tag, so it cannot be used as a {tag_type.label.lower()}."
                )
                continue
            resolved.append(existing)
    counts = {tag_type: sum(1 for t in resolved if t.type == tag_type) for tag_type in TagType}
    if not errors:
        if counts[TagType.FANDOM] == 0:
            errors["fandoms"] = ["Add at least one fandom."]
        if counts[TagType.RATING] != 1:
            errors["ratings"] = ["Choose exactly one rating."]
        if counts[TagType.WARNING] == 0:
            errors["warnings"] = ["Choose at least one archive warning (or “Creator Chose Not To Use Archive Warnings”)."]
    if errors:
        raise ValidationError(errors)
    return resolved


def _tag_problem(name: str, tag_type: str) -> str | None:
    if len(name) > MAX_TAG_LENGTH:
        return f"Tags can be at most {MAX_TAG_LENGTH} characters long: “{name[:30]}…”."
    if any(char in name for char in "<>{}"):
        return f"“{name}” has a character tags cannot contain (< > {{ }})."
    if tag_type == TagType.RELATIONSHIP and not RELATIONSHIP_RE.fullmatch(name):
        return f"“{name}” is not a relationship: write A/B for a romantic one or A & B for a platonic one."
    return None


def _check_limits(**values: str | None) -> None:
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if value is not None and len(value) > LIMITS[name]:
            errors[name] = [f"This can be at most {LIMITS[name]:,} characters long (it is {len(value):,})."]
    source_url = values.get("source_url")
    if source_url and source_url.strip() and "source_url" not in errors:
        try:
            URLValidator(schemes=["http", "https"])(source_url.strip())
        except ValidationError:
            errors["source_url"] = ["Enter a full http:// or https:// address."]
    if errors:
        raise ValidationError(errors)


def _find_or_create_tag(name: str, tag_type: str) -> Tag:
    existing = Tag.objects.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    try:
        # A savepoint, so that losing a race to another post creating the same new tag
        # costs a re-read instead of the whole transaction.
        with transaction.atomic():
            return Tag.objects.create(name=name, type=tag_type)
    except IntegrityError:
        return Tag.objects.get(name__iexact=name)


def _check_language(language: str) -> None:
    if language not in LANGUAGE_NAMES:
        raise ValidationError({"language": [f"Unknown language code “{language}”."]})


def _check_comment_permission(value: str) -> None:
    if value not in CommentPermission.values:
        allowed = ", ".join(CommentPermission.values)
        raise ValidationError({"comment_permission": [f"Choose one of: {allowed}."]})


def _check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise ValidationError({"title": ["A work needs a title."]})
    if len(title) > 255:
        raise ValidationError({"title": ["Titles can be at most 255 characters long."]})
    return title


def _check_expected(expected_chapters: int | None, posted: int = 0) -> None:
    if expected_chapters is not None and not (1 <= expected_chapters <= 10000):
        raise ValidationError({"expected_chapters": ["Expected chapters must be between 1 and 10000, or unknown."]})
    if expected_chapters is not None and expected_chapters < posted:
        raise ValidationError(
            {"expected_chapters": [f"The work already has {posted} chapters; expect at least that many, or leave it unknown."]}
        )


def _build_chapter(work: Work, position: int, chapter: ChapterInput) -> tuple[Chapter, list[str]]:
    if len(chapter.text) > LIMITS["text"]:
        raise ValidationError({"chapters": [f"Chapter {position} is longer than {LIMITS['text']:,} characters."]})
    if len(chapter.notes) > LIMITS["notes"] or len(chapter.end_notes) > LIMITS["end_notes"]:
        raise ValidationError({"chapters": [f"Chapter {position}'s notes are longer than {LIMITS['notes']:,} characters."]})
    body = render_html_field(chapter.text, chapter.format)
    if not body.html.strip() or not count_words(body.html) and "<img" not in body.html:
        raise ValidationError({"chapters": [f"Chapter {position} has no text."]})
    notes = render_html_field(chapter.notes)
    end_notes = render_html_field(chapter.end_notes)
    title = " ".join(chapter.title.split())
    if len(title) > 255:
        raise ValidationError({"chapters": [f"Chapter {position}'s title is longer than 255 characters."]})
    return (
        Chapter(
            work=work,
            position=position,
            title=title,
            notes=notes.html,
            end_notes=end_notes.html,
            html=body.html,
            word_count=count_words(body.html),
        ),
        body.removed + notes.removed + end_notes.removed,
    )


def _own_pseuds(user: User, pseuds: Sequence[Pseud]) -> list[Pseud]:
    if not pseuds:
        return [user.default_pseud]
    for pseud in pseuds:
        if pseud.user_id != user.pk:
            raise ValidationError({"pseuds": [f"“{pseud.name}” is not one of your pseuds."]})
    return list(pseuds)


def _set_tags(work: Work, tags: list[Tag]) -> None:
    WorkTag.objects.filter(work=work).exclude(tag__in=tags).delete()
    existing = set(WorkTag.objects.filter(work=work).values_list("tag_id", flat=True))
    WorkTag.objects.bulk_create([WorkTag(work=work, tag=tag) for tag in tags if tag.pk not in existing])


def _invite_co_creators(work: Work, *, by: User, co_creators: Sequence[Pseud], start: int) -> None:
    for offset, pseud in enumerate(co_creators):
        if Creatorship.objects.filter(work=work, pseud=pseud).exists():
            continue
        # Someone else's pseud is credited only once they accept: nobody can be made the
        # author of a work they did not agree to.
        Creatorship.objects.create(
            work=work, pseud=pseud, accepted=pseud.user_id == by.pk, position=start + offset, invited_by=by
        )


def _add_to_series(work: Work, *, by: User, series: Series | None, series_title: str) -> None:
    if series is None and series_title.strip():
        series = Series.objects.create(title=series_title.strip()[:255], owner=by)
    if series is None:
        return
    if series.owner_id != by.pk:
        raise ValidationError({"series": ["You can only add works to your own series."]})
    if SeriesPart.objects.filter(series=series, work=work).exists():
        return
    last = series.parts.aggregate(last=Max("position"))["last"] or 0
    SeriesPart.objects.create(series=series, work=work, position=last + 1)


@transaction.atomic
def post_work(
    *,
    by: User,
    title: str,
    chapters: Sequence[ChapterInput],
    tags: TagInput,
    pseuds: Sequence[Pseud] = (),
    co_creators: Sequence[Pseud] = (),
    summary: str = "",
    notes: str = "",
    end_notes: str = "",
    notes_format: Format = "html",
    language: str = "en",
    expected_chapters: int | None = None,
    restricted: bool = False,
    draft: bool = False,
    source_site: str = "",
    source_url: str = "",
    prompt_text: str = "",
    prompt_relationship: str = "",
    series: Series | None = None,
    series_title: str = "",
    backdate: datetime | None = None,
    comment_permission: str = CommentPermission.EVERYONE,
    moderate_comments: bool = False,
    gifts: Sequence[str] = (),
    fill_prompt: Prompt | None = None,
    collections: Sequence[str] | None = None,
) -> tuple[Work, list[str]]:
    """Create a work with its chapters, tags and creators.

    Returns the work and the list of things the sanitizer removed (for the preview).
    """
    if not chapters:
        raise ValidationError({"chapters": ["A work needs at least one chapter."]})
    title = _check_title(title)
    _check_language(language)
    _check_comment_permission(comment_permission)
    _check_expected(expected_chapters, posted=len(chapters))
    _check_limits(
        summary=summary,
        notes=notes,
        end_notes=end_notes,
        source_site=source_site,
        source_url=source_url,
        prompt_text=prompt_text,
        prompt_relationship=prompt_relationship,
    )
    own = _own_pseuds(by, pseuds)
    resolved = resolve_tags(tags)
    # AO3 lets creators backdate a work (to when it was first posted elsewhere).
    now = backdate or timezone.now()
    summary_r = render_html_field(summary, notes_format)
    notes_r = render_html_field(notes, notes_format)
    end_r = render_html_field(end_notes, notes_format)
    work = Work.objects.create(
        title=title,
        summary=summary_r.html,
        notes=notes_r.html,
        end_notes=end_r.html,
        language=language,
        expected_chapters=expected_chapters,
        restricted=restricted,
        draft=draft,
        created_at=now,
        published_at=None if draft else now,
        updated_at=None if draft else now,
        # Always the real time, even when backdated: the filter index and every cache
        # key read it as "changed at".
        revised_at=timezone.now(),
        source_site=source_site.strip(),
        source_url=source_url.strip(),
        prompt_text=prompt_text.strip(),
        prompt_relationship=prompt_relationship.strip(),
        comment_permission=comment_permission,
        moderate_comments=moderate_comments,
    )
    removed = summary_r.removed + notes_r.removed + end_r.removed
    built = []
    for position, chapter in enumerate(chapters, start=1):
        row, chapter_removed = _build_chapter(work, position, chapter)
        row.created_at = now
        built.append(row)
        removed += chapter_removed
    Chapter.objects.bulk_create(built)
    for position, pseud in enumerate(own):
        Creatorship.objects.create(work=work, pseud=pseud, accepted=True, position=position, invited_by=by)
    _invite_co_creators(work, by=by, co_creators=co_creators, start=len(own))
    _set_tags(work, resolved)
    _add_to_series(work, by=by, series=series, series_title=series_title)
    if gifts:
        set_gifts(work, by=by, recipients=gifts)
    work.refresh_counts()
    work.save(update_fields=["chapter_count", "word_count", "complete"])
    if collections:
        _set_collections(work, by=by, names=collections)
    if fill_prompt is not None:
        # Imported here: the prompt services import this module. After every other write,
        # so that the work joins the prompt's collection as it finally is.
        from chapbook.collections import prompts as prompt_memes

        prompt_memes.fill_prompt(work=work, prompt=fill_prompt, by=by)
    works_changed([work.pk])
    if not draft:
        subscriptions.work_posted(work)
    return work, list(dict.fromkeys(removed))


def require_creator(work: Work, user: User) -> None:
    if not user.is_authenticated or not Creatorship.objects.filter(work=work, pseud__user=user, accepted=True).exists():
        raise PermissionDenied("Only the work's creators can change it.")


@transaction.atomic
def update_work(
    work: Work,
    *,
    by: User,
    title: str | None = None,
    tags: TagInput | None = None,
    summary: str | None = None,
    notes: str | None = None,
    end_notes: str | None = None,
    notes_format: Format = "html",
    language: str | None = None,
    expected_chapters: int | None | Keep = KEEP,
    restricted: bool | None = None,
    draft: bool | None = None,
    source_site: str | None = None,
    source_url: str | None = None,
    prompt_text: str | None = None,
    prompt_relationship: str | None = None,
    pseuds: Sequence[Pseud] | None = None,
    co_creators: Sequence[Pseud] = (),
    series: Series | None = None,
    series_title: str = "",
    comment_permission: str | None = None,
    moderate_comments: bool | None = None,
    gifts: Sequence[str] | None = None,
    fill_prompt: Prompt | None = None,
    collections: Sequence[str] | None = None,
) -> tuple[Work, list[str]]:
    """Change a work's metadata. Only the fields given change (`gifts=None` keeps the gifts)."""
    require_creator(work, by)
    _check_limits(
        summary=summary,
        notes=notes,
        end_notes=end_notes,
        source_site=source_site,
        source_url=source_url,
        prompt_text=prompt_text,
        prompt_relationship=prompt_relationship,
    )
    work = Work.objects.select_for_update().get(pk=work.pk)
    removed: list[str] = []
    if title is not None:
        work.title = _check_title(title)
    if language is not None:
        _check_language(language)
        work.language = language
    if not isinstance(expected_chapters, Keep):
        _check_expected(expected_chapters, posted=work.chapters.count())
        work.expected_chapters = expected_chapters
    for name, value in (("summary", summary), ("notes", notes), ("end_notes", end_notes)):
        if value is not None:
            rendered = render_html_field(value, notes_format)
            setattr(work, name, rendered.html)
            removed += rendered.removed
    if restricted is not None:
        work.restricted = restricted
    if comment_permission is not None:
        _check_comment_permission(comment_permission)
        work.comment_permission = comment_permission
    if moderate_comments is not None:
        work.moderate_comments = moderate_comments
    for name, text_value in (
        ("source_site", source_site),
        ("source_url", source_url),
        ("prompt_text", prompt_text),
        ("prompt_relationship", prompt_relationship),
    ):
        if text_value is not None:
            setattr(work, name, text_value.strip())
    now = timezone.now()
    published = False
    if draft is not None and draft != work.draft:
        if draft and work.published_at is not None:
            raise ValidationError({"draft": ["A posted work cannot become a draft again."]})
        work.draft = draft
        if not draft:
            work.published_at = now
            work.updated_at = now
            published = True
    if tags is not None:
        _set_tags(work, resolve_tags(tags))
    if pseuds is not None:
        own = _own_pseuds(by, pseuds)
        mine = Creatorship.objects.filter(work=work, pseud__user=by)
        mine.exclude(pseud__in=own).delete()
        start = Creatorship.objects.filter(work=work).count()
        for offset, pseud in enumerate(own):
            Creatorship.objects.get_or_create(
                work=work, pseud=pseud, defaults={"accepted": True, "position": start + offset, "invited_by": by}
            )
    _invite_co_creators(work, by=by, co_creators=co_creators, start=Creatorship.objects.filter(work=work).count())
    _add_to_series(work, by=by, series=series, series_title=series_title)
    if gifts is not None:
        set_gifts(work, by=by, recipients=gifts)
    work.revised_at = now
    work.refresh_counts()
    work.save()
    if collections is not None:
        # After the save, which writes the whole row (flags included); before a fill,
        # whose collection the names (read from the form before the fill) may not list.
        _set_collections(work, by=by, names=collections)
    if published or fill_prompt is not None:
        # After the save, which writes the whole row: the fill's collection may change the
        # work's anonymous/unrevealed flags. Prompters of fills linked while it was a
        # draft hear of it now; a new fill tells its own prompter.
        from chapbook.collections import prompts as prompt_memes

        if published:
            prompt_memes.fills_posted(work)
        if fill_prompt is not None:
            prompt_memes.fill_prompt(work=work, prompt=fill_prompt, by=by)
    works_changed([work.pk])
    if published:
        subscriptions.work_posted(work)
    return work, list(dict.fromkeys(removed))


def _set_collections(work: Work, *, by: User, names: Sequence[str]) -> None:
    """The collections the work is in, by name (`collections=None` keeps them as they are)."""
    # Imported here: the collection services import this module.
    from chapbook.collections.services import set_work_collections

    set_work_collections(work, by=by, names=names)
    # The collections may have made the work anonymous or unrevealed; later writes read it.
    work.refresh_from_db(fields=["anonymous", "unrevealed", "revised_at"])


@transaction.atomic
def publish_work(work: Work, *, by: User) -> Work:
    updated, _ = update_work(work, by=by, draft=False)
    return updated


@transaction.atomic
def delete_work(work: Work, *, by: User) -> None:
    require_creator(work, by)
    delete_works([work.pk])


@transaction.atomic
def delete_works(work_ids: Iterable[int]) -> None:
    """Delete works, and take them out of the filter and search indexes.

    Without a permission check: its callers decide who may (`delete_work`, the admin).
    """
    ids = sorted({int(pk) for pk in work_ids})
    for pk in ids:
        forget_work(pk)
    works_changed(ids)
    Work.objects.filter(pk__in=ids).delete()


@transaction.atomic
def set_hidden(work_ids: Iterable[int], *, hidden: bool) -> list[int]:
    """Hide works from everyone, or show them again (staff, from the admin, which checks
    their permission). Returns the ids of the works that changed."""
    ids = list(Work.objects.filter(pk__in=list(work_ids)).exclude(hidden=hidden).values_list("pk", flat=True))
    Work.objects.filter(pk__in=ids).update(hidden=hidden, revised_at=timezone.now())
    works_changed(ids)
    return ids


@transaction.atomic
def add_chapter(work: Work, *, by: User, chapter: ChapterInput, position: int | None = None) -> tuple[Chapter, list[str]]:
    """Add a chapter (at the end by default). Adding one moves the work's Updated date."""
    require_creator(work, by)
    work = Work.objects.select_for_update().get(pk=work.pk)
    count = work.chapters.count()
    position = count + 1 if position is None else max(1, min(position, count + 1))
    row, removed = _build_chapter(work, position, chapter)
    work.chapters.filter(position__gte=position).update(position=F("position") + 1)
    row.save()
    now = timezone.now()
    work.revised_at = now
    if not work.draft:
        work.updated_at = now
    if work.expected_chapters is not None and count + 1 > work.expected_chapters:
        # As on AO3: a chapter beyond the expected count makes the total unknown again,
        # rather than showing "4/3".
        work.expected_chapters = None
    work.refresh_counts()
    work.save()
    works_changed([work.pk])
    if not work.draft:
        subscriptions.chapter_posted(work, row)
    return row, removed


@transaction.atomic
def update_chapter(chapter: Chapter, *, by: User, data: ChapterInput) -> tuple[Chapter, list[str]]:
    require_creator(chapter.work, by)
    row, removed = _build_chapter(chapter.work, chapter.position, data)
    chapter.title, chapter.notes, chapter.end_notes = row.title, row.notes, row.end_notes
    chapter.html, chapter.word_count = row.html, row.word_count
    chapter.save()
    work = Work.objects.select_for_update().get(pk=chapter.work_id)
    work.revised_at = timezone.now()
    work.refresh_counts()
    work.save()
    works_changed([work.pk])
    return chapter, removed


@transaction.atomic
def delete_chapter(chapter: Chapter, *, by: User) -> None:
    work = Work.objects.select_for_update().get(pk=chapter.work_id)
    require_creator(work, by)
    if work.chapters.count() <= 1:
        raise ValidationError({"chapters": ["A work needs at least one chapter; delete the work instead."]})
    # The chapter's comments go with it (the foreign key cascades); the work's count must follow.
    counted = chapter.comments.filter(status=CommentStatus.APPROVED, deleted=False).count()
    chapter.delete()
    if counted:
        counters.bump(work.pk, comments=-counted)
    _renumber(work, [c.pk for c in work.chapters.order_by("position")])


def _renumber(work: Work, order: list[int]) -> None:
    chapters = {c.pk: c for c in work.chapters.all()}
    for position, pk in enumerate(order, start=1):
        chapters[pk].position = position
    Chapter.objects.bulk_update(chapters.values(), ["position"])
    work.revised_at = timezone.now()
    work.refresh_counts()
    work.save()
    works_changed([work.pk])


@transaction.atomic
def reorder_chapters(work: Work, *, by: User, order: Sequence[int]) -> None:
    """Put the chapters in the given order (a list of every chapter id, each once)."""
    require_creator(work, by)
    work = Work.objects.select_for_update().get(pk=work.pk)
    ids = list(work.chapters.values_list("pk", flat=True))
    if sorted(order) != sorted(ids):
        raise ValidationError({"order": ["List every chapter of the work exactly once."]})
    _renumber(work, list(order))


@transaction.atomic
def answer_co_creator_invitation(creatorship: Creatorship, *, by: User, accept: bool) -> None:
    if creatorship.pseud.user_id != by.pk:
        raise PermissionDenied("This invitation is not yours.")
    if accept:
        creatorship.accepted = True
        creatorship.save(update_fields=["accepted"])
        # The byline changed: a new version, so cached pages of the work are not reused.
        Work.objects.filter(pk=creatorship.work_id).update(revised_at=timezone.now())
        works_changed([creatorship.work_id])
    else:
        creatorship.delete()
