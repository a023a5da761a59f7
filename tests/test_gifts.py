"""Gifts: a work given to users (who may refuse it) or to names without an account."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from chapbook.people.models import ApiToken, User
from chapbook.works.gifts import MAX_GIFTS, refuse_gift, set_gifts
from chapbook.works.models import Gift, Work
from chapbook.works.services import update_work
from tests.conftest import default_tags, make_user

MakeWork = Callable[..., Work]
ClientFor = Callable[[User], Client]


def gift_line(client: Client, work: Work) -> str:
    """The work page's "For …" line, or "" when it has none."""
    page = client.get(work.get_absolute_url()).content.decode()
    start = page.find('<p class="gifts">')
    return page[start : page.index("</p>", start)] if start >= 0 else ""


def api(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {ApiToken.issue(user)[1]}"}


# --- Giving ------------------------------------------------------------------------------


def test_work_page_says_who_it_is_for_linking_users(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author, gifts=["bob", "Dana from the old forum"])

    line = gift_line(Client(), work)

    assert line.startswith('<p class="gifts">For ')
    assert '<a href="/users/bob">bob</a>' in line
    assert "Dana from the old forum" in line


def test_a_username_in_any_case_is_a_gift_to_that_user(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author, gifts=["BOB", "  bob "])

    assert [(g.recipient, g.recipient_name) for g in Gift.objects.filter(work=work)] == [(reader, "")]


def test_a_name_without_an_account_is_kept_as_written(author: User, make_work: MakeWork) -> None:
    work = make_work(author, gifts=["Mx. Rowan", "mx. rowan"])

    assert [(g.recipient, g.recipient_name) for g in Gift.objects.filter(work=work)] == [(None, "Mx. Rowan")]


def test_a_work_cannot_be_a_gift_to_its_own_creator(author: User, make_work: MakeWork) -> None:
    with pytest.raises(ValidationError) as caught:
        make_work(author, title="For Me", gifts=["alice"])

    assert "own creator" in caught.value.message_dict["gifts"][0]
    # Nothing half-written: the work itself was not posted either.
    assert not Work.objects.filter(title="For Me").exists()


def test_too_many_or_too_long_names_are_refused(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    with pytest.raises(ValidationError):
        set_gifts(work, by=author, recipients=[f"friend {n}" for n in range(MAX_GIFTS + 1)])
    with pytest.raises(ValidationError):
        set_gifts(work, by=author, recipients=["x" * 101])
    assert not Gift.objects.filter(work=work).exists()


def test_only_creators_can_change_the_gifts(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)

    with pytest.raises(PermissionDenied):
        set_gifts(work, by=reader, recipients=["bob"])


def test_editing_replaces_the_gifts_and_leaving_them_out_keeps_them(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author, gifts=["bob", "Dana"])

    update_work(work, by=author, title="Renamed")
    assert {str(g.recipient or g.recipient_name) for g in Gift.objects.filter(work=work)} == {"bob", "Dana"}

    update_work(work, by=author, gifts=["carol"])
    assert [g.recipient for g in Gift.objects.filter(work=work)] == [co_author]


def test_the_posting_form_has_a_gift_to_field(author: User, reader: User, client_for: ClientFor) -> None:
    client = client_for(author)
    assert 'name="gifts"' in client.get("/works/new").content.decode()

    response = client.post(
        "/works/new",
        {
            "title": "A Present",
            "pseuds": [author.default_pseud.pk],
            "fandoms": "Original Work",
            "rating": "General Audiences",
            "warnings": ["No Archive Warnings Apply"],
            "language": "en",
            "text": "<p>Wrapped in brown paper.</p>",
            "format": "html",
            "gifts": "bob, Dana",
            "action": "post",
        },
    )

    work = Work.objects.get(title="A Present")
    assert response.status_code == 302
    assert {str(g.recipient or g.recipient_name) for g in Gift.objects.filter(work=work)} == {"bob", "Dana"}
    edit = client.get(f"/works/{work.pk}/edit").content.decode()
    assert 'value="bob, Dana"' in edit


def test_the_form_shows_a_refused_gift_as_an_error_on_its_field(
    author: User, reader: User, client_for: ClientFor, make_work: MakeWork
) -> None:
    work = make_work(author, gifts=["bob"])
    refuse_gift(Gift.objects.get(work=work), by=reader)

    response = client_for(author).post(
        f"/works/{work.pk}/edit",
        {
            "title": work.title,
            "pseuds": [author.default_pseud.pk],
            "fandoms": "Original Work",
            "rating": "General Audiences",
            "warnings": ["No Archive Warnings Apply"],
            "language": "en",
            "gifts": "bob",
            "action": "save",
        },
    )

    assert response.status_code == 200
    assert "bob has refused this work as a gift." in response.content.decode()


# --- Refusing ----------------------------------------------------------------------------


def test_recipient_refuses_and_the_gift_disappears(
    author: User, reader: User, client_for: ClientFor, make_work: MakeWork
) -> None:
    work = make_work(author, gifts=["bob", "Dana"])
    assert "bob" in gift_line(Client(), work)  # cached for guests from here on
    gift = Gift.objects.get(work=work, recipient=reader)
    client = client_for(reader)

    response = client.post(f"/gifts/{gift.pk}/refuse", follow=True)

    assert "You refused" in response.content.decode()
    assert "bob" not in gift_line(Client(), work) and "Dana" in gift_line(Client(), work)
    assert work.title not in client.get("/users/bob/gifts").content.decode()
    assert Client().get(f"/api/v1/works/{work.pk}").json()["gifts"] == ["Dana"]


def test_nobody_else_can_refuse_a_gift(
    author: User, reader: User, co_author: User, client_for: ClientFor, make_work: MakeWork
) -> None:
    work = make_work(author, gifts=["bob"])
    gift = Gift.objects.get(work=work)

    assert client_for(co_author).post(f"/gifts/{gift.pk}/refuse").status_code == 404
    assert client_for(author).post(f"/gifts/{gift.pk}/refuse").status_code == 404
    with pytest.raises(PermissionDenied):
        refuse_gift(gift, by=author)
    assert not Gift.objects.get(pk=gift.pk).refused


def test_a_refused_gift_cannot_be_given_again(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author, gifts=["bob"])
    refuse_gift(Gift.objects.get(work=work), by=reader)

    with pytest.raises(ValidationError) as caught:
        set_gifts(work, by=author, recipients=["bob"])

    assert caught.value.message_dict["gifts"] == ["bob has refused this work as a gift."]
    # Other edits leave the refusal in place.
    set_gifts(work, by=author, recipients=["Dana"])
    assert Gift.objects.get(work=work, recipient=reader).refused


# --- Gift pages ----------------------------------------------------------------------------


def test_gift_page_lists_the_works_the_viewer_may_see(author: User, reader: User, make_work: MakeWork) -> None:
    shown = make_work(author, title="Open Present", gifts=["bob"])
    make_work(author, title="Members Present", gifts=["bob"], restricted=True)
    make_work(author, title="Unfinished Present", gifts=["bob"], draft=True)
    make_work(author, title="Someone Else's", gifts=["carol-the-name"])

    page = Client().get("/users/bob/gifts").content.decode()

    assert "Open Present" in page and f"/works/{shown.pk}/" in page
    assert "Members Present" not in page and "Unfinished Present" not in page and "Someone Else" not in page
    assert "Refuse gift" not in page


def test_recipient_sees_refuse_buttons_on_their_own_gift_page(
    author: User, reader: User, client_for: ClientFor, make_work: MakeWork
) -> None:
    make_work(author, title="Members Present", gifts=["bob"], restricted=True)

    mine = client_for(reader).get("/users/bob/gifts").content.decode()
    someone_elses = client_for(author).get("/users/bob/gifts").content.decode()

    assert "Members Present" in mine and "Refuse gift" in mine
    assert "Members Present" in someone_elses and "Refuse gift" not in someone_elses


def test_gift_page_of_an_unknown_user_is_404(db: None) -> None:
    assert Client().get("/users/nobody-here/gifts").status_code == 404


def test_gift_page_redirects_to_the_usernames_own_case(reader: User) -> None:
    response = Client().get("/users/BOB/gifts")
    assert response.status_code == 301 and response["Location"] == "/users/bob/gifts"


def test_profile_links_to_the_gift_page(reader: User) -> None:
    assert 'href="/users/bob/gifts"' in Client().get("/users/bob").content.decode()


def test_gift_page_costs_a_fixed_number_of_queries(
    author: User, reader: User, make_work: MakeWork, django_assert_max_num_queries: Any
) -> None:
    for n in range(8):
        make_work(author, title=f"Present {n}", gifts=["bob"])
    from django.core.cache import cache

    cache.clear()
    with django_assert_max_num_queries(12):
        assert Client().get("/users/bob/gifts").status_code == 200


# --- Anonymous works -----------------------------------------------------------------------


def test_an_anonymous_works_gift_names_the_recipient_not_the_creator(
    author: User, reader: User, make_work: MakeWork
) -> None:
    work = make_work(author, gifts=["bob"])
    Work.objects.filter(pk=work.pk).update(anonymous=True)

    page = Client().get(work.get_absolute_url()).content.decode()
    gifts_page = Client().get("/users/bob/gifts").content.decode()

    assert '<a href="/users/bob">bob</a>' in gift_line(Client(), work)
    assert "/users/alice" not in page and "/users/alice" not in gifts_page
    assert work.title in gifts_page and "Anonymous" in gifts_page


# --- API -----------------------------------------------------------------------------------


def test_api_shows_gifts_and_takes_them_when_posting(author: User, reader: User) -> None:
    body = {
        "title": "Low Tide",
        "fandoms": ["Original Work"],
        "ratings": ["General Audiences"],
        "warnings": ["No Archive Warnings Apply"],
        "chapters": [{"text": "<p>The boats lay on their sides.</p>"}],
        "gifts": ["Bob", "Dana"],
    }
    response = Client().post("/api/v1/works", json.dumps(body), content_type="application/json", headers=api(author))

    assert response.status_code == 201
    assert response.json()["gifts"] == ["bob", "Dana"]
    listed = Client().get("/api/v1/works").json()["items"]
    assert listed[0]["gifts"] == ["bob", "Dana"]


def test_api_patch_replaces_or_clears_the_gifts(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author, gifts=["bob"])
    headers = api(author)

    def patch(body: dict[str, Any]) -> Any:
        return Client().patch(f"/api/v1/works/{work.pk}", json.dumps(body), content_type="application/json", headers=headers)

    assert patch({"title": "Kept"}).json()["gifts"] == ["bob"]
    assert patch({"gifts": ["Dana"]}).json()["gifts"] == ["Dana"]
    assert patch({"gifts": None}).json()["gifts"] == []


def test_api_reports_a_bad_gift_on_its_field(author: User, make_work: MakeWork) -> None:
    work = make_work(author)

    response = Client().patch(
        f"/api/v1/works/{work.pk}", json.dumps({"gifts": ["alice"]}), content_type="application/json", headers=api(author)
    )

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "gifts"]]


def test_a_user_who_signs_up_later_does_not_take_over_a_name_gift(author: User, make_work: MakeWork) -> None:
    """A plain name stays a plain name until a creator saves the gifts again."""
    work = make_work(author, gifts=["dana"], tags=default_tags())
    make_user("dana")

    assert [(g.recipient_id, g.recipient_name) for g in Gift.objects.filter(work=work)] == [(None, "dana")]
