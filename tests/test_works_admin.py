"""The works admin, where staff hide, edit and delete works: the listings and search follow."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from chapbook.lib.searchquery import parse
from chapbook.listings.models import RemovedWork
from chapbook.people.models import User
from chapbook.search.backend import get_backend
from chapbook.works.models import Work
from tests.conftest import listed_titles, login

MakeWork = Callable[..., Work]
CHANGELIST = "/admin/works/work/"


class FormReader(HTMLParser):
    """What a browser would submit from a page's form: every named field's current value."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "button", "file"}:
            if a.get("type") not in {"checkbox", "radio"} or "checked" in a:
                self.data.setdefault(name, []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            # The parser hands over a textarea's first newline, which a browser drops.
            text = self.data[self._textarea][0] + data
            self.data[self._textarea] = [text.removeprefix("\n")]


def form_data(html: str) -> dict[str, list[str]]:
    reader = FormReader()
    reader.feed(html)
    return reader.data


def searched(text: str) -> list[int]:
    return get_backend().match(parse(text)).ids.tolist()


@pytest.fixture
def works(author: User, make_work: MakeWork, django_capture_on_commit_callbacks: Any) -> dict[str, Work]:
    with django_capture_on_commit_callbacks(execute=True):
        return {
            title: make_work(author, title=title, chapters=[f"<p>The {word} rang at noon.</p>"])
            for title, word in (("Bell Tower", "bell"), ("Gong Hall", "gong"))
        }


def test_hiding_works_from_the_list_takes_them_out_of_listings_and_search(
    staff: User, works: dict[str, Work], django_capture_on_commit_callbacks: Any
) -> None:
    bell = works["Bell Tower"]
    admin = login(staff)
    assert searched("bell") == [bell.pk]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(CHANGELIST, {"action": "hide_works", "_selected_action": [bell.pk]}, follow=True)

    assert "1 work hidden." in response.content.decode()
    assert Work.objects.get(pk=bell.pk).hidden
    assert listed_titles(Client().get("/works/")) == ["Gong Hall"]
    assert searched("bell") == []
    assert "<strong>0 works found</strong>" in Client().get("/search", {"q": "bell"}).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(CHANGELIST, {"action": "unhide_works", "_selected_action": [bell.pk]})

    assert sorted(listed_titles(Client().get("/works/"))) == ["Bell Tower", "Gong Hall"]
    assert searched("bell") == [bell.pk]


def test_an_edit_in_the_change_form_reaches_listings_and_search(
    staff: User, works: dict[str, Work], django_capture_on_commit_callbacks: Any
) -> None:
    bell = works["Bell Tower"]
    admin = login(staff)
    url = f"{CHANGELIST}{bell.pk}/change/"
    data = form_data(admin.get(url).content.decode())
    data["title"] = ["Carillon Tower"]
    before = Work.objects.get(pk=bell.pk).revised_at

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Work.objects.get(pk=bell.pk).revised_at > before
    assert "Carillon Tower" in listed_titles(Client().get("/works/"))
    assert searched("carillon") == [bell.pk]

    data["hidden"] = ["on"]
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(url, data)

    assert listed_titles(Client().get("/works/")) == ["Gong Hall"]
    assert searched("carillon") == []


def test_deleting_a_work_in_the_admin_takes_it_out_of_listings_and_search(
    staff: User, works: dict[str, Work], django_capture_on_commit_callbacks: Any
) -> None:
    bell, gong = works["Bell Tower"], works["Gong Hall"]
    admin = login(staff)
    assert listed_titles(Client().get("/works/")) == ["Gong Hall", "Bell Tower"]  # the filter index is built

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"{CHANGELIST}{bell.pk}/delete/", {"post": "yes"})
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [gong.pk], "post": "yes"})

    assert not Work.objects.exists()
    assert set(RemovedWork.objects.values_list("work_id", flat=True)) == {bell.pk, gong.pk}
    assert listed_titles(Client().get("/works/")) == []
    assert "<strong>0 works found</strong>" in Client().get("/search", {"q": "bell OR gong"}).content.decode()
    assert searched("bell") == searched("gong") == []
