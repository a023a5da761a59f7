"""Refuse NUL characters anywhere in an API request, before any view sees them.

PostgreSQL cannot store U+0000 in text and raises on it, which would be a 500; the
site's forms already refuse it (Django's CharField does). One check here covers every
path, query string and JSON body of the API, whatever schema the endpoint has.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

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
        return self.get_response(request)
