"""API authentication: a bearer token or nobody; never the session cookie."""

from __future__ import annotations

import json
from typing import Any, Callable

from django.test import Client

from chapbook.people.models import ApiToken, User
from chapbook.works.models import Work
from tests.test_api_works import ApiCaller, api_as, new_work_body

MakeWork = Callable[..., Work]


def with_header(value: str) -> ApiCaller:
    return ApiCaller(authorization=value)


def assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {"detail": "A valid API token is required."}


def test_caller_without_a_token_is_a_guest(author: User, make_work: MakeWork) -> None:
    public = make_work(author, title="Public")
    make_work(author, title="Restricted", restricted=True)

    response = api_as().get("/api/v1/works")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [public.pk]


def test_issued_token_acts_as_its_user(author: User, reader: User, make_work: MakeWork) -> None:
    draft = make_work(author, draft=True)
    _, raw = ApiToken.issue(author, label="script")

    response = with_header(f"Bearer {raw}").get(f"/api/v1/works/{draft.pk}")

    assert response.status_code == 200
    assert response.json()["draft"] is True


def test_token_scheme_is_case_insensitive(author: User, make_work: MakeWork) -> None:
    draft = make_work(author, draft=True)
    _, raw = ApiToken.issue(author)

    assert with_header(f"bearer {raw}").get(f"/api/v1/works/{draft.pk}").status_code == 200


def test_wrong_token_is_401_even_on_reads(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    _, raw = ApiToken.issue(author)

    for header in [f"Bearer {raw}x", "Bearer ", "Bearer cb_not-a-token", f"Token {raw}", "Basic YWxpY2U6cGFzcw=="]:
        assert_unauthorized(with_header(header).get(f"/api/v1/works/{work.pk}"))
        assert_unauthorized(with_header(header).get("/api/v1/works"))


def test_token_of_a_deactivated_user_is_401(author: User) -> None:
    _, raw = ApiToken.issue(author)
    User.objects.filter(pk=author.pk).update(is_active=False)

    assert_unauthorized(with_header(f"Bearer {raw}").get("/api/v1/works"))


def test_deleted_token_stops_working(author: User) -> None:
    token, raw = ApiToken.issue(author)
    token.delete()

    assert_unauthorized(with_header(f"Bearer {raw}").get("/api/v1/works"))


def test_writing_without_a_token_is_401(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    guest = api_as()

    assert_unauthorized(guest.post("/api/v1/works", new_work_body()))
    assert_unauthorized(guest.patch(f"/api/v1/works/{work.pk}", {"title": "Defaced"}))
    assert_unauthorized(guest.post(f"/api/v1/works/{work.pk}/chapters", {"text": "Defaced."}))
    assert_unauthorized(guest.delete(f"/api/v1/works/{work.pk}"))
    assert list(Work.objects.values_list("title", flat=True)) == ["A Quiet Harbour"]
    assert work.chapters.count() == 1


def test_a_logged_in_session_is_not_an_api_credential(
    author: User, make_work: MakeWork, client_for: Callable[[User], Client]
) -> None:
    """The API takes tokens only, so a page in the browser cannot post through it with the cookie."""
    draft = make_work(author, draft=True)
    browser = client_for(author)

    assert browser.get(f"/api/v1/works/{draft.pk}").status_code == 404
    response = browser.post("/api/v1/works", json.dumps(new_work_body()), content_type="application/json")
    assert_unauthorized(response)
    assert Work.objects.count() == 1


def test_token_writes_need_no_csrf_token(author: User) -> None:
    _, raw = ApiToken.issue(author)
    strict = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})

    response = strict.post("/api/v1/works", json.dumps(new_work_body()), content_type="application/json")

    assert response.status_code == 201
