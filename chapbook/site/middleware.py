from __future__ import annotations

from typing import Callable

from django.http import HttpRequest, HttpResponse


class HealthzMiddleware:
    """Answer /healthz before sessions, auth or the database are touched.

    Load balancers poll it, and benchmarks use it as the cheapest request the stack can
    serve, so it must not depend on anything but the process being up.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return HttpResponse("ok", content_type="text/plain")
        return self.get_response(request)
