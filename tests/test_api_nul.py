"""NUL characters anywhere in an API request are a clear 4xx, never PostgreSQL's 500."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from django.test import Client

from chapbook.people.models import ApiToken, User
from chapbook.works.models import Work


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {ApiToken.issue(user)[1]}"}


def test_it_refuses_a_nul_in_a_posted_works_title(author: User) -> None:
    body = {"title": "A\x00B", "fandoms": ["F"], "ratings": ["General Audiences"],
            "warnings": ["No Archive Warnings Apply"], "chapters": [{"text": "Hello."}]}

    response = Client().post("/api/v1/works", body, content_type="application/json", headers=bearer(author))

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "Null characters are not allowed."
    assert not Work.objects.exists()


@pytest.mark.parametrize("url", ["/api/v1/works?include=a%00b", "/api/v1/tags/a%00b", "/api/v1/search?q=x%00"])
def test_it_refuses_a_nul_in_a_path_or_query(db: None, url: str) -> None:
    response = Client().get(url)

    assert response.status_code == 400
    assert "Null characters" in response.json()["detail"][0]["msg"]


def test_it_still_accepts_the_text_backslash_u0000_typed_by_a_writer(
    author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author)
    body: dict[str, Any] = {"summary": "Escapes look like \\u0000 in JSON."}

    response = Client().patch(f"/api/v1/works/{work.pk}", body, content_type="application/json",
                              headers=bearer(author))

    assert response.status_code == 200
