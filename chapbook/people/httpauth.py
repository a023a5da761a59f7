"""Who a request without a session comes from: HTTP Basic or a bearer token.

E-reader apps (OPDS catalogs and the downloads they link to) and API clients send
credentials with every request instead of logging in.
"""

from __future__ import annotations

import base64
import binascii

from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from chapbook.people.models import ApiToken, User


def credentials_user(request: HttpRequest) -> User | AnonymousUser | None:
    """Who an OPDS request comes from: HTTP Basic or a bearer token, never the session.

    No header is a guest; a header that is there but wrong is None (answered with 401),
    so that a reader with a stale password is told instead of quietly shown less.
    """
    header = request.headers.get("Authorization", "")
    if not header:
        return AnonymousUser()
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return ApiToken.authenticate(value.strip())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, colon, password = decoded.partition(":")
        if not colon:
            return None
        user = authenticate(request, username=username, password=password)
        return user if isinstance(user, User) else None
    return None


def challenge() -> HttpResponse:
    response = HttpResponse("Authentication required.\n", status=401, content_type="text/plain; charset=utf-8")
    response["WWW-Authenticate"] = 'Basic realm="Chapbook"'
    return response
