"""/api/v1/works: read, post, edit and delete works.

Reads start from `works_visible_to(caller)` like every page of the site; a work the
caller may not see is a 404 whatever the reason, so the API never confirms that a
draft or restricted work exists. Writes go through works.services.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.cache import cache
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, JsonResponse
from ninja import Query, Router, Status
from ninja.errors import ValidationError as RequestValidationError
from ninja.responses import NinjaJSONEncoder

from chapbook.api.auth import OPTIONAL_TOKEN_DOC, caller, signed_in, token_required
from chapbook.api.prompts import fill_prompt_from_id
from chapbook.api.schemas import (
    ChapterIn,
    FacetOut,
    Facets,
    FieldErrors,
    Message,
    PathId,
    WorkDetail,
    WorkFilters,
    WorkIn,
    WorkPage,
    WorkPatch,
    WorkSummary,
)
from chapbook.collections.prompts import prefetch_fills
from chapbook.collections.selectors import approved_items_prefetch
from chapbook.listings.query import (
    FACET_TYPES,
    FacetCount,
    Filters,
    find_works,
    tag_key,
    tags_by_name,
)
from chapbook.people.models import Pseud, User
from chapbook.tags.models import TagType
from chapbook.works.models import Work
from chapbook.works.selectors import chapters_of, with_blurb, works_visible_to
from chapbook.works.services import (
    TAG_FIELDS,
    ChapterInput,
    TagInput,
    add_chapter,
    delete_work,
    post_work,
    require_creator,
    update_work,
)

router = Router(tags=["works"])

READ_ERRORS: dict[int, Any] = {404: Message}
WRITE_ERRORS: dict[int, Any] = {400: Message, 401: Message, 403: Message, 404: Message, 422: FieldErrors}


def visible_work(user: User | AnonymousUser, work_id: int) -> Work:
    work = (
        with_blurb(works_visible_to(user))
        .prefetch_related("gifts__recipient", approved_items_prefetch())
        .filter(pk=work_id)
        .first()
    )
    if work is None:
        raise Http404
    return work


def work_detail(user: User | AnonymousUser, work_id: int) -> WorkDetail:
    work = visible_work(user, work_id)
    return WorkDetail.from_work_and_chapters(work, chapters_of(work))


@router.get(
    "",
    response={200: WorkPage, 400: FieldErrors},
    summary="List and filter works, most recently updated first",
    description=(
        "Filters combine: every `include` must match, no `exclude` may, and each of "
        "`rating`, `warning` and `category` needs any one of its values. An unknown tag name, "
        "or a `rating`/`warning`/`category` that is not one, is a 400 naming it. A page past "
        "the end is an empty page with the full count."
    ),
    openapi_extra=OPTIONAL_TOKEN_DOC,
    # Only so that `facets` is left out, not null, when it was not asked for: every
    # other field of the page and its summaries is always set.
    exclude_unset=True,
)
def list_works(request: HttpRequest, filters: Query[WorkFilters]) -> WorkPage:
    user = caller(request)
    wanted = listing_filters(filters)
    if wanted is None:
        return empty_page(filters)
    # Past this the offset alone outgrows any archive: ask for the first page, for the
    # count and facets only, so a huge number never reaches the index as an offset.
    beyond = filters.page > MAX_PAGE
    result = find_works(
        wanted, user=user, page=1 if beyond else filters.page, page_size=filters.page_size, facets=filters.facets
    )
    payload: dict[str, Any] = {"count": result.count, "items": summaries(user, [] if beyond else result.ids)}
    if filters.facets:
        payload["facets"] = facets_out(result.facets).model_dump()
    # Rendered here rather than by ninja: the summaries are already the schema's output
    # (cached per version of each work), and validating twenty of them again through the
    # schema would cost more than the whole query.
    return JsonResponse(payload, encoder=NinjaJSONEncoder)  # type: ignore[return-value]


# Farther than any archive's last page (10**8 works at 100 a page).
MAX_PAGE = 10**6
# Query parameter -> the fixed tag type its values must be, one any-of group each.
FIXED_TYPE_PARAMETERS = {"rating": TagType.RATING, "warning": TagType.WARNING, "category": TagType.CATEGORY}
WHAT_IT_TAKES = {"rating": "a rating", "warning": "an archive warning", "category": "a category"}


def listing_filters(filters: WorkFilters) -> Filters | None:
    """`filters` with tag names turned into ids, or None when the `tag` alias names no tag.

    Raises a 400 (ninja's ValidationError, the shape of every query error) for unknown
    names, and for rating/warning/category values that are tags of another type.
    """
    by_parameter = {name: getattr(filters, name) for name in ("include", "exclude", *FIXED_TYPE_PARAMETERS)}
    alias = (filters.tag or "").strip()
    # One lookup for every name in the request.
    names = [name for values in by_parameter.values() for name in values if name]
    tags, _missing = tags_by_name([*names, alias] if alias else names)
    errors = []
    for parameter, values in by_parameter.items():
        unknown = unique(name for name in values if name and tag_key(name) not in tags)
        if unknown:
            errors.append(query_error(parameter, f"No such tag: {quoted(unknown)}."))
        if parameter in FIXED_TYPE_PARAMETERS:
            known = (tags[tag_key(name)] for name in values if tag_key(name) in tags)
            wrong = unique(tag.name for tag in known if tag.type != FIXED_TYPE_PARAMETERS[parameter])
            if wrong:
                errors.append(query_error(parameter, f"Not {WHAT_IT_TAKES[parameter]}: {quoted(wrong)}."))
    if errors:
        raise RequestValidationError(errors)
    if alias and tag_key(alias) not in tags:
        # The older `tag` parameter answered an unknown name with an empty page; clients rely on it.
        return None

    def ids(values: Iterable[str]) -> tuple[int, ...]:
        return tuple(unique(tags[tag_key(name)].pk for name in values if name))

    groups = (ids(by_parameter[parameter]) for parameter in FIXED_TYPE_PARAMETERS)
    return Filters(
        include=ids([*by_parameter["include"], alias]),
        exclude=ids(by_parameter["exclude"]),
        any_of=tuple(group for group in groups if group),
        complete=filters.complete,
        crossover=filters.crossover,
        language=filters.lang,
        words_min=filters.words_min,
        words_max=filters.words_max,
        updated_since=filters.updated_since,
        sort=filters.sort,
        order=filters.order,
    )


SUMMARY_CACHE_SECONDS = 24 * 3600


def summaries(user: User | AnonymousUser, ids: list[int]) -> list[dict[str, Any]]:
    """The page's work summaries, as the schema renders them, in the listing's order.

    Like the site's blurbs, each is built once per version of its work (its revision and
    counters) and then served from the cache; only the version rows are queried, through
    the visibility selector, so a work hidden since the index looked is dropped.
    """
    if not ids:
        return []
    fields = ("pk", "revised_at", "kudos_count", "hits_count", "comments_count", "bookmarks_count", "subscriptions_count")
    rows = {row[0]: row for row in works_visible_to(user).filter(pk__in=ids).values_list(*fields)}
    keys = {
        pk: f"api-summary:{pk}:{row[1].timestamp()}:{':'.join(map(str, row[2:]))}" for pk, row in rows.items()
    }
    cached = cache.get_many(list(keys.values()))
    missing = [pk for pk, key in keys.items() if key not in cached]
    if missing:
        fresh = {keys[work.pk]: WorkSummary.from_work(work).model_dump() for work in page_works(user, missing)}
        cache.set_many(fresh, SUMMARY_CACHE_SECONDS)
        cached.update(fresh)
    return [cached[keys[pk]] for pk in ids if pk in keys and keys[pk] in cached]


def page_works(user: User | AnonymousUser, ids: list[int]) -> list[Work]:
    """The page's works in the listing's order, through the visibility selector.

    The index may be a moment behind: a work that stopped being visible since is
    dropped here rather than shown.
    """
    if not ids:
        return []
    # Gifts too: the summary names them, and one query for the page beats one per work.
    works = {
        work.pk: work
        for work in with_blurb(works_visible_to(user).filter(pk__in=ids)).prefetch_related("gifts__recipient")
    }
    prefetch_fills(list(works.values()))
    prefetch_related_objects(list(works.values()), approved_items_prefetch())
    return [works[pk] for pk in ids if pk in works]


def facets_out(facets: dict[str, list[FacetCount]]) -> Facets:
    return Facets(
        **{
            str(tag_type): [FacetOut(name=facet.name, count=facet.count) for facet in facets.get(tag_type, [])]
            for tag_type in FACET_TYPES
        }
    )


def empty_page(filters: WorkFilters) -> WorkPage:
    if filters.facets:
        return WorkPage(count=0, items=[], facets=facets_out({}))
    return WorkPage(count=0, items=[])


def query_error(parameter: str, message: str) -> dict[str, Any]:
    return {"type": "value_error", "loc": ["query", parameter], "msg": message}


def quoted(names: Iterable[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


T = TypeVar("T")


def unique(values: Iterable[T]) -> list[T]:
    """`values` without repeats, in their first order."""
    return list(dict.fromkeys(values))


@router.get(
    "/{work_id}",
    response={200: WorkDetail, **READ_ERRORS},
    summary="A work with its chapters",
    openapi_extra=OPTIONAL_TOKEN_DOC,
)
def get_work(request: HttpRequest, work_id: PathId) -> WorkDetail:
    return work_detail(caller(request), work_id)


@router.post("", auth=token_required, response={201: WorkDetail, **WRITE_ERRORS}, summary="Post a work")
def create_work(request: HttpRequest, payload: WorkIn) -> Status[WorkDetail]:
    user = signed_in(request)
    source, prompt = payload.source, payload.prompt
    work, _removed = post_work(
        by=user,
        title=payload.title,
        chapters=[chapter_input(chapter) for chapter in payload.chapters],
        tags=TagInput(**{name: getattr(payload, name) for name in TAG_FIELDS}),
        pseuds=own_pseuds(user, payload.pseuds),
        gifts=payload.gifts,
        collections=payload.collections,
        summary=payload.summary,
        notes=payload.notes,
        end_notes=payload.end_notes,
        notes_format=payload.notes_format,
        language=payload.language,
        expected_chapters=payload.expected_chapters,
        restricted=payload.restricted,
        draft=payload.draft,
        comment_permission=payload.comment_permission,
        moderate_comments=payload.moderate_comments,
        source_site=source.site if source else "",
        source_url=source.url if source else "",
        prompt_text=prompt.text if prompt else "",
        prompt_relationship=prompt.relationship if prompt else "",
        fill_prompt=fill_prompt_from_id(payload.fill_prompt),
    )
    return Status(201, work_detail(user, work.pk))


@router.patch(
    "/{work_id}", auth=token_required, response={200: WorkDetail, **WRITE_ERRORS}, summary="Change a work's metadata"
)
def edit_work(request: HttpRequest, work_id: PathId, payload: WorkPatch) -> WorkDetail:
    user = signed_in(request)
    work = visible_work(user, work_id)
    # Before pseuds and tags are looked up: someone who may not edit the work gets a 403,
    # not the service's opinion of their changes.
    require_creator(work, user)
    update_work(work, by=user, **update_fields(work, user, payload))
    return work_detail(user, work_id)


@router.post(
    "/{work_id}/chapters",
    auth=token_required,
    response={201: WorkDetail, **WRITE_ERRORS},
    summary="Add a chapter at the end",
)
def append_chapter(request: HttpRequest, work_id: PathId, payload: ChapterIn) -> Status[WorkDetail]:
    user = signed_in(request)
    work = visible_work(user, work_id)
    try:
        add_chapter(work, by=user, chapter=chapter_input(payload))
    except ValidationError as error:
        # The service names a work's "chapters"; this body is one chapter, and its text is the problem.
        if hasattr(error, "error_dict") and "chapters" in error.error_dict:
            raise ValidationError({"text": error.message_dict["chapters"]}) from error
        raise
    return Status(201, work_detail(user, work_id))


@router.delete("/{work_id}", auth=token_required, response={204: None, **WRITE_ERRORS}, summary="Delete a work")
def remove_work(request: HttpRequest, work_id: PathId) -> Status[None]:
    user = signed_in(request)
    delete_work(visible_work(user, work_id), by=user)
    return Status(204, None)


def chapter_input(chapter: ChapterIn) -> ChapterInput:
    return ChapterInput(
        text=chapter.text, format=chapter.format, title=chapter.title, notes=chapter.notes, end_notes=chapter.end_notes
    )


def own_pseuds(user: User, names: Sequence[str]) -> list[Pseud]:
    """The caller's pseuds by name (any case); an empty list means the default pseud."""
    pseuds = []
    for name in names:
        pseud = user.pseuds.filter(name__iexact=name.strip()).first()
        if pseud is None:
            raise ValidationError({"pseuds": [f"“{name}” is not one of your pseuds."]})
        pseuds.append(pseud)
    return pseuds


def update_fields(work: Work, user: User, payload: WorkPatch) -> dict[str, Any]:
    """update_work's keyword arguments for the fields the client sent, and only those."""
    sent = payload.model_fields_set
    fields: dict[str, Any] = {
        name: getattr(payload, name)
        for name in (
            "title", "summary", "notes", "end_notes", "language", "restricted", "draft", "expected_chapters",
            "comment_permission", "moderate_comments",
        )
        if name in sent
    }
    fields["notes_format"] = payload.notes_format
    if sent & TAG_FIELDS.keys():
        # A PATCH of one tag list keeps the others: start from the work's current tags.
        tags = TagInput.from_work(work)
        for name in sent & TAG_FIELDS.keys():
            setattr(tags, name, getattr(payload, name))
        fields["tags"] = tags
    if "source" in sent:
        fields["source_site"] = payload.source.site if payload.source else ""
        fields["source_url"] = payload.source.url if payload.source else ""
    if "prompt" in sent:
        fields["prompt_text"] = payload.prompt.text if payload.prompt else ""
        fields["prompt_relationship"] = payload.prompt.relationship if payload.prompt else ""
    if "pseuds" in sent and payload.pseuds is not None:
        fields["pseuds"] = own_pseuds(user, payload.pseuds)
    if payload.fill_prompt is not None:
        fields["fill_prompt"] = fill_prompt_from_id(payload.fill_prompt)
    if "gifts" in sent:
        fields["gifts"] = payload.gifts or []
    if "collections" in sent:
        fields["collections"] = payload.collections or []
    return fields
