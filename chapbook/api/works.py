"""/api/v1/works: read, post, edit and delete works.

Reads start from `works_visible_to(caller)` like every page of the site; a work the
caller may not see is a 404 whatever the reason, so the API never confirms that a
draft or restricted work exists. Writes go through works.services.
"""

from __future__ import annotations

from typing import Any, Sequence

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import P, PathEx, Query, Router, Status

from chapbook.api.auth import OPTIONAL_TOKEN_DOC, caller, signed_in, token_required
from chapbook.api.schemas import (
    ChapterIn,
    FieldErrors,
    Message,
    WorkDetail,
    WorkFilters,
    WorkIn,
    WorkPage,
    WorkPatch,
    WorkSummary,
)
from chapbook.people.models import Pseud, User
from chapbook.works.models import Work
from chapbook.works.selectors import chapters_of, listing, with_blurb, works_visible_to
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

# Ids are BIGINTs: a larger number in the URL would overflow the query instead of missing.
WorkId = PathEx[int, P(ge=1, le=2**63 - 1)]

READ_ERRORS: dict[int, Any] = {404: Message}
WRITE_ERRORS: dict[int, Any] = {400: Message, 401: Message, 403: Message, 404: Message, 422: FieldErrors}


def visible_work(user: User | AnonymousUser, work_id: int) -> Work:
    work = with_blurb(works_visible_to(user)).filter(pk=work_id).first()
    if work is None:
        raise Http404
    return work


def work_detail(user: User | AnonymousUser, work_id: int) -> WorkDetail:
    work = visible_work(user, work_id)
    return WorkDetail.from_work_and_chapters(work, chapters_of(work))


@router.get(
    "",
    response={200: WorkPage, 400: FieldErrors},
    summary="List works, most recently updated first",
    openapi_extra=OPTIONAL_TOKEN_DOC,
)
def list_works(request: HttpRequest, filters: Query[WorkFilters]) -> WorkPage:
    works = listing(works_visible_to(caller(request)))
    if filters.tag:
        # Tag names are unique whatever their case, so this join cannot repeat a work.
        works = works.filter(tags__name__iexact=filters.tag)
    count = works.count()
    start = (filters.page - 1) * filters.page_size
    # Past the end is an empty page; skipping the query also keeps a huge page number
    # from reaching the database as an OFFSET it cannot represent.
    items = list(works[start : start + filters.page_size]) if start < count else []
    return WorkPage(count=count, items=[WorkSummary.from_work(work) for work in items])


@router.get(
    "/{work_id}",
    response={200: WorkDetail, **READ_ERRORS},
    summary="A work with its chapters",
    openapi_extra=OPTIONAL_TOKEN_DOC,
)
def get_work(request: HttpRequest, work_id: WorkId) -> WorkDetail:
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
        summary=payload.summary,
        notes=payload.notes,
        end_notes=payload.end_notes,
        notes_format=payload.notes_format,
        language=payload.language,
        expected_chapters=payload.expected_chapters,
        restricted=payload.restricted,
        draft=payload.draft,
        source_site=source.site if source else "",
        source_url=source.url if source else "",
        prompt_text=prompt.text if prompt else "",
        prompt_relationship=prompt.relationship if prompt else "",
    )
    return Status(201, work_detail(user, work.pk))


@router.patch(
    "/{work_id}", auth=token_required, response={200: WorkDetail, **WRITE_ERRORS}, summary="Change a work's metadata"
)
def edit_work(request: HttpRequest, work_id: WorkId, payload: WorkPatch) -> WorkDetail:
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
def append_chapter(request: HttpRequest, work_id: WorkId, payload: ChapterIn) -> Status[WorkDetail]:
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
def remove_work(request: HttpRequest, work_id: WorkId) -> Status[None]:
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
        for name in ("title", "summary", "notes", "end_notes", "language", "restricted", "draft", "expected_chapters")
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
    return fields
