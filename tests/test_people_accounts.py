"""Signing up, logging in and out, changing and resetting a password."""

from __future__ import annotations

import re
from typing import Callable
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from chapbook.people.models import ApiToken, User
from chapbook.people.services import sign_up
from tests.conftest import PASSWORD

ClientFor = Callable[[User], Client]
NEW_PASSWORD = "a lighthouse keeps its own hours"


def signup_data(**overrides: str) -> dict[str, str]:
    data = {"username": "dora", "email": "dora@example.org", "password": PASSWORD, "password_confirm": PASSWORD}
    data.update(overrides)
    return data


def test_signup_creates_user_with_default_pseud_and_logs_in(db: None, client: Client) -> None:
    response = client.post(reverse("people:signup"), signup_data())

    user = User.objects.get(username="dora")
    assert response.status_code == 302
    assert response["Location"] == reverse("people:profile", args=["dora"])
    assert [(p.name, p.is_default) for p in user.pseuds.all()] == [("dora", True)]
    assert user.check_password(PASSWORD)
    assert client.get(reverse("people:profile", args=["dora"])).context["user"] == user


def test_signup_redirects_to_a_local_next_but_not_elsewhere(db: None, client: Client) -> None:
    response = client.post(reverse("people:signup"), signup_data(next="/works/"))
    assert response["Location"] == "/works/"

    other = Client()
    response = other.post(reverse("people:signup"), signup_data(username="eve", email="eve@example.org", next="https://evil.example/"))
    assert response["Location"] == reverse("people:profile", args=["eve"])


def test_signup_rejects_a_username_taken_in_another_case(author: User, client: Client) -> None:
    response = client.post(reverse("people:signup"), signup_data(username="Alice"))

    assert response.status_code == 200
    assert "The username “Alice” is already taken." in response.context["form"].errors["username"]
    assert not User.objects.filter(username="Alice").exists()


@pytest.mark.parametrize("username", ["al", "a" * 41, "_alice", "alice_", "al ice", "al-ice", "alicé", "new"])
def test_signup_rejects_a_username_outside_the_rules(db: None, client: Client, username: str) -> None:
    response = client.post(reverse("people:signup"), signup_data(username=username))

    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert not User.objects.exists()


def test_signup_accepts_underscores_and_digits_inside_a_username(db: None) -> None:
    user = sign_up(username="Dora_the_2nd", email="dora@example.org", password=PASSWORD)
    assert user.default_pseud.name == "Dora_the_2nd"


def test_signup_rejects_a_weak_password(db: None, client: Client) -> None:
    response = client.post(reverse("people:signup"), signup_data(password="password", password_confirm="password"))

    assert response.status_code == 200
    assert "This password is too common." in response.context["form"].errors["password"]
    assert not User.objects.exists()


def test_signup_rejects_mismatched_passwords(db: None, client: Client) -> None:
    response = client.post(reverse("people:signup"), signup_data(password_confirm=PASSWORD + "!"))

    assert response.context["form"].errors["password_confirm"] == ["The two passwords do not match."]


def test_signup_rejects_an_email_taken_in_another_case(author: User, client: Client) -> None:
    response = client.post(reverse("people:signup"), signup_data(email="ALICE@example.org"))

    assert "An account with this email address already exists." in response.context["form"].errors["email"]


def test_signup_form_labels_every_field(db: None, client: Client) -> None:
    html = client.get(reverse("people:signup")).content.decode()

    for field in ("username", "email", "password", "password_confirm"):
        assert f'<label for="id_{field}">' in html


def test_login_and_logout_by_post(author: User, client: Client) -> None:
    response = client.post(reverse("people:login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"] == author

    response = client.post(reverse("people:logout"))
    assert response.status_code == 302
    assert not client.get("/").context["user"].is_authenticated


def test_login_ignores_the_case_of_the_username(author: User, client: Client) -> None:
    response = client.post(reverse("people:login"), {"username": "ALICE", "password": PASSWORD})

    assert response.status_code == 302
    assert client.get("/").context["user"] == author


def test_login_with_a_wrong_password_shows_an_error(author: User, client: Client) -> None:
    response = client.post(reverse("people:login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_logout_by_get_is_refused(author: User, client_for: ClientFor) -> None:
    client = client_for(author)

    assert client.get(reverse("people:logout")).status_code == 405
    assert client.get("/").context["user"] == author


def test_password_change_takes_the_new_password(author: User, client_for: ClientFor) -> None:
    client = client_for(author)
    response = client.post(
        reverse("people:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == reverse("people:password_change_done")
    author.refresh_from_db()
    assert author.check_password(NEW_PASSWORD)


def test_password_change_needs_login(db: None, client: Client) -> None:
    response = client.get(reverse("people:password_change"))
    assert response["Location"].startswith(reverse("people:login"))


def test_password_reset_link_works_end_to_end(author: User, client: Client) -> None:
    response = client.post(reverse("people:password_reset"), {"email": "Alice@Example.org"})
    assert response["Location"] == reverse("people:password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.org"]
    link = re.search(r"https?://\S+", mail.outbox[0].body)
    assert link is not None

    # Django swaps the token for a session marker and redirects, so the token never sits in a URL the page loads.
    form_page = client.get(urlparse(link.group()).path, follow=True)
    assert form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("people:password_reset_complete")

    assert Client().login(username="alice", password=NEW_PASSWORD)
    assert not Client().login(username="alice", password=PASSWORD)


def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(db: None, client: Client) -> None:
    response = client.post(reverse("people:password_reset"), {"email": "nobody@example.org"})

    assert response["Location"] == reverse("people:password_reset_done")
    assert mail.outbox == []


def test_staff_can_open_the_people_admin_pages(author: User, staff: User, client_for: ClientFor) -> None:
    client = client_for(staff)
    token, _ = ApiToken.issue(author, label="laptop")

    for url in (
        reverse("admin:people_user_change", args=[author.pk]),
        reverse("admin:people_pseud_change", args=[author.default_pseud.pk]),
        reverse("admin:people_apitoken_change", args=[token.pk]),
        reverse("admin:people_user_changelist") + "?q=ali",
    ):
        assert client.get(url).status_code == 200, url
    # A raw token is shown once, when issued; the admin could only ever make unusable ones.
    assert client.get(reverse("admin:people_apitoken_add")).status_code == 403


def test_an_account_added_in_the_admin_gets_its_default_pseud(staff: User, client_for: ClientFor) -> None:
    response = client_for(staff).post(
        reverse("admin:people_user_add"),
        {"username": "dora", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    assert [p.name for p in User.objects.get(username="dora").pseuds.all()] == ["dora"]


def test_readers_cannot_open_the_admin(reader: User, client_for: ClientFor) -> None:
    response = client_for(reader).get(reverse("admin:people_user_changelist"))

    assert response.status_code == 302
