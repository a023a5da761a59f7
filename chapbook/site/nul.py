"""NUL characters in requests, handled once before any view sees them.

PostgreSQL cannot store or compare U+0000 in text and raises on it, which would be a 500.
The site's forms already refuse it (Django's CharField does); this covers the rest:
the API refuses a NUL anywhere (path, query string, JSON body) with a 4xx, and a page's
path with one is a 404 while its query string simply loses them, since no tag, name or
search term can hold one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict

MESSAGE = "Null characters are not allowed."


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            if "\x00" in request.path or any(
                _has_nul(key) or _has_nul(values) for key, values in request.GET.lists()
            ):
                error = {"type": "value_error", "loc": ["query"], "msg": MESSAGE}
                return JsonResponse({"detail": [error]}, status=400)
            if request.body and b"\\u0000" in request.body.lower():
                try:
                    body = json.loads(request.body)
                except ValueError:
                    body = None  # ninja answers a body that is not JSON
                if _has_nul(body):
                    error = {"type": "value_error", "loc": ["body"], "msg": MESSAGE}
                    return JsonResponse({"detail": [error]}, status=422)
        else:
            if "\x00" in request.path:
                raise Http404("No such page.")
            if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
                cleaned = QueryDict(mutable=True)
                for key, values in request.GET.lists():
                    cleaned.setlist(key.replace("\x00", ""), [value.replace("\x00", "") for value in values])
                cleaned._mutable = False
                request.GET = cleaned  # type: ignore[assignment]  # read-only again, as Django's own
        return self.get_response(request)
