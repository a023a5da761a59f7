"""/api/v1/tags: what a tag is and how many works the caller can find under it."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Router

from chapbook.api.auth import OPTIONAL_TOKEN_DOC, caller
from chapbook.api.schemas import Message, TagOut, absolute
from chapbook.tags.models import Tag
from chapbook.works.selectors import works_visible_to

router = Router(tags=["tags"])


# `path:` lets the name keep its slashes: relationships are written "A/B".
@router.get(
    "/{path:name}",
    response={200: TagOut, 404: Message},
    summary="A tag by its exact name (any case)",
    openapi_extra=OPTIONAL_TOKEN_DOC,
)
def get_tag(request: HttpRequest, name: str) -> TagOut:
    tag = Tag.objects.filter(name__iexact=name).first()
    if tag is None:
        raise Http404
    return TagOut(
        name=tag.name,
        type=tag.type,
        canonical=tag.canonical,
        # The same works as GET /works?tag=NAME would count for this caller.
        works_count=works_visible_to(caller(request)).filter(tags=tag).count(),
        url=absolute(tag.get_absolute_url()),
    )
