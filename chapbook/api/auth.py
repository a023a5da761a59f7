"""Who is calling: a bearer token, or nobody (a guest).

The API never looks at the session cookie: a token is the only credential, so no
request needs a CSRF token and a page in a browser cannot act on the API by accident.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from chapbook.people.models import ApiToken, User


class TokenAuth(HttpBearer):
    """`Authorization: Bearer TOKEN`, checked against the ApiToken digests.

    With `required=False` a request without the header is let through as a guest, so
    that reads work for everyone. A header that is there but wrong is still a 401:
    a client whose token was revoked must be told, not quietly shown less.
    """

    def __init__(self, *, required: bool) -> None:
        super().__init__()
        self.required = required

    def __call__(self, request: HttpRequest) -> User | AnonymousUser | None:
        if not self.required and not request.headers.get(self.header):
            # Ninja treats a falsy result as "not authenticated"; AnonymousUser is truthy.
            return AnonymousUser()
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return ApiToken.authenticate(token.strip())


token_optional = TokenAuth(required=False)
token_required = TokenAuth(required=True)

# For operations that let guests in: OpenAPI says "the token is optional" with an empty
# security requirement next to the bearer one, which ninja has already listed (it
# extends lists from openapi_extra).
OPTIONAL_TOKEN_DOC: dict[str, Any] = {"security": [{}]}


def caller(request: HttpRequest) -> User | AnonymousUser:
    """The user a request acts as; set by TokenAuth before any view runs."""
    user: User | AnonymousUser = getattr(request, "auth", None) or AnonymousUser()
    return user


def signed_in(request: HttpRequest) -> User:
    """The caller of an operation declared with `auth=token_required`."""
    user = caller(request)
    if not isinstance(user, User):
        raise AuthenticationError()
    return user
