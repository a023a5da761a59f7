from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path

from chapbook.api.api import api


def no_such_endpoint(request: HttpRequest) -> JsonResponse:
    # A client that mistypes a path (or adds a trailing slash) still gets JSON, not the site's HTML page.
    return JsonResponse({"detail": "Not found"}, status=404)


urlpatterns = [
    path("v1/", api.urls),
    re_path(r"", no_such_endpoint),
]
