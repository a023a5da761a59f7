"""The JSON API, version 1, served under /api/v1/ with its OpenAPI schema and docs page.

Every error is JSON with a `detail` key. Field errors, whether pydantic found them in the
request or a service found them in the data, share one shape:

    {"detail": [{"type": "value_error", "loc": ["body", "fandoms"], "msg": "Add at least one fandom."}]}

Statuses: 400 for a query string or body that cannot be parsed, 401 for a missing or
wrong token, 403 for someone who may see a work but not change it, 404 for anything the
caller may not see, 422 for a body that parses but does not validate.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as RequestValidationError

from chapbook.api import collections as collections_api
from chapbook.api import feedback, prompts, search, tags, works
from chapbook.api.auth import token_optional

api = NinjaAPI(
    title="Chapbook API",
    version="1",
    description=(
        "Read and post works. Send `Authorization: Bearer TOKEN` to act as yourself "
        "(`chapbook token USERNAME` prints a token); without it you are a guest."
    ),
    urls_namespace="api",
    # Every operation resolves its caller; reads let guests through, writes say auth=token_required.
    auth=token_optional,
)
api.add_router("/works", works.router)
api.add_router("/works", feedback.works_router)
api.add_router("/bookmarks", feedback.bookmarks_router)
api.add_router("/subscriptions", feedback.subscriptions_router)
api.add_router("/inbox", feedback.inbox_router)
api.add_router("/tags", tags.router)
api.add_router("/search", search.router)
api.add_router("/collections", collections_api.router)
api.add_router("/collections", prompts.collections_router)
api.add_router("/prompts", prompts.prompts_router)
api.add_router("/claims", prompts.claims_router)

# Views name their body parameter `payload`; clients never see that name, so it is
# dropped from error locations: ["body", "payload", "title"] -> ["body", "title"].
BODY_PARAMETER = "payload"


def field_error(loc: list[str | int], msg: str) -> dict[str, Any]:
    return {"type": "value_error", "loc": loc, "msg": msg}


@api.exception_handler(RequestValidationError)
def request_invalid(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        loc = list(error["loc"])
        if loc[:2] == ["body", BODY_PARAMETER]:
            loc = ["body", *loc[2:]]
        errors.append({**error, "loc": loc})
    sources = {error["loc"][0] for error in errors}
    if "path" in sources:
        # Only ids are path parameters, and an id that cannot exist names nothing.
        return api.create_response(request, {"detail": "Not found"}, status=404)
    status = 400 if "query" in sources else 422
    return api.create_response(request, {"detail": errors}, status=status)


@api.exception_handler(DjangoValidationError)
def service_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """The services' ValidationError({field: [messages]}), in the shape of ninja's own errors."""
    if hasattr(exc, "error_dict"):
        errors = [
            field_error(["body"] if field == NON_FIELD_ERRORS else ["body", field], message)
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        errors = [field_error(["body"], message) for message in exc.messages]
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Never the exception's message: "not found" and "not yours to see" must read the same.
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(request, {"detail": "A valid API token is required."}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
