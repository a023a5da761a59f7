"""A NUL character in a page's query string is never a 500 (PostgreSQL refuses to store or
compare text holding one, so every page that looks a parameter up must cope)."""

from __future__ import annotations

import pytest
from django.test import Client

from chapbook.people.models import User
from tests.conftest import login

URLS = [
    "/works/?include=%00&exclude=a%00b&lang=%00&sort=%00",
    "/search?q=%00&include=%00",
    "/bookmarks?tag=%00",
    "/users/alice/bookmarks?tag=%00&sort=%00",
    "/users/alice/works?include=%00",
    "/tags/%00/",
    "/tags/a%00b/works",
    "/collections?page=%00",
    "/collections/%00",
    "/inbox?page=%00",
    "/history?page=%00",
    "/stats?sort=%00&days=%00&work=%00",
    "/tags/wrangle/?q=%00&type=%00&status=%00",
    "/works/new?fill=%00",
]


@pytest.mark.parametrize("url", URLS)
def test_a_nul_in_the_query_is_never_a_server_error(author: User, staff: User, url: str) -> None:
    for client in (Client(), login(author), login(staff)):
        client.raise_request_exception = False
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
