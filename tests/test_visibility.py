"""Who sees which work, on every page that shows works.

Alice posts four works, co-written with Carol (who accepted): one posted, one restricted to
logged-in readers, one draft, and one hidden by a moderator. Each persona visits each page.
Every case asserts both ways: where a work should be seen it is there, where it should not
it is absent (a 404 for a page of its own, missing from a listing or count).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest
from django.db import transaction
from django.test import Client

from chapbook.people.models import ApiToken, User
from chapbook.works.models import Creatorship, Series, Work
from chapbook.works.services import answer_co_creator_invitation
from tests.conftest import build_work, default_tags, make_user

PERSONAS = ["guest", "reader", "author", "co_author", "staff"]
STATES = ["posted", "restricted", "draft", "hidden"]

WHO_SEES = {
    "posted": {"guest", "reader", "author", "co_author", "staff"},
    "restricted": {"reader", "author", "co_author", "staff"},
    # Staff moderate hidden works but never read someone else's drafts.
    "draft": {"author", "co_author"},
    "hidden": {"author", "co_author", "staff"},
}

# Each state gets names no other state's names contain, so one page can hold all four.
TITLES = {state: f"{state.capitalize()} Lanterns Over The Harbour" for state in STATES}
FANDOMS = {state: f"Harbour Tales {state.capitalize()}" for state in STATES}
SERIES = {state: f"The {state.capitalize()} Lantern Cycle" for state in STATES}
FREEFORM = "Lanterns"


@dataclass
class World:
    works: dict[str, Work]
    series: dict[str, Series]
    # One client per persona for the whole module: each new Client builds the middleware
    # chain again, and WhiteNoise rescans the static files every time.
    clients: dict[str, Client]


@dataclass(frozen=True)
class Page:
    # "own": the work has a page of its own (200 or 404); "listing": the work is listed or
    # not on a page everyone may open; "count": the fandom index counts it or leaves its fandom out.
    kind: str
    url: Callable[[World, str], str]
    # As on AO3, the public listings never show drafts, not even to their creators, and
    # the filtered listings leave out works a moderator hid (staff find those in moderation).
    lists_drafts: bool = True
    lists_hidden: bool = True


PAGES = {
    "work_page": Page("own", lambda w, s: f"/works/{w.works[s].pk}/"),
    "chapter_page": Page("own", lambda w, s: f"/works/{w.works[s].pk}/chapters/2/"),
    "home": Page("listing", lambda w, s: "/", lists_drafts=False),
    "works_index": Page("listing", lambda w, s: "/works/", lists_drafts=False, lists_hidden=False),
    "tag_page": Page("listing", lambda w, s: f"/tags/{FREEFORM}/", lists_drafts=False),
    "tag_works": Page("listing", lambda w, s: f"/tags/{FREEFORM}/works", lists_drafts=False, lists_hidden=False),
    "fandom_index": Page("count", lambda w, s: "/fandoms/", lists_drafts=False),
    "series_page": Page("own", lambda w, s: f"/series/{w.series[s].pk}/"),
    "profile": Page("listing", lambda w, s: "/users/alice"),
    "pseud_page": Page("listing", lambda w, s: "/users/alice/pseuds/alice"),
    # The API's list is the filtered listing: a creator's tools read drafts by id.
    "api_list": Page("listing", lambda w, s: "/api/v1/works", lists_drafts=False, lists_hidden=False),
    "api_detail": Page("own", lambda w, s: f"/api/v1/works/{w.works[s].pk}"),
}


def client_as(persona: str, users: dict[str, User], tokens: dict[str, str]) -> Client:
    if persona == "guest":
        return Client()
    # The API authenticates with bearer tokens, the pages with the session: send both.
    client = Client(headers={"Authorization": f"Bearer {tokens[persona]}"})
    client.force_login(users[persona])
    return client


def build_world() -> World:
    users = {
        "author": make_user("alice"),
        "co_author": make_user("carol"),
        "reader": make_user("bob"),
        "staff": make_user("sam", is_staff=True, is_superuser=True),
    }
    works: dict[str, Work] = {}
    for state in STATES:
        work = build_work(
            users["author"],
            title=TITLES[state],
            chapters=["<p>The first lantern is lit.</p>", "<p>The second lantern is lit.</p>"],
            tags=default_tags(fandoms=[FANDOMS[state]], freeforms=[FREEFORM]),
            co_creators=[users["co_author"].default_pseud],
            series_title=SERIES[state],
            draft=state == "draft",
            restricted=state == "restricted",
        )
        invitation = Creatorship.objects.get(work=work, pseud__user=users["co_author"])
        answer_co_creator_invitation(invitation, by=users["co_author"], accept=True)
        works[state] = work
    # Moderators hide works from the admin; there is no service for it.
    Work.objects.filter(pk=works["hidden"].pk).update(hidden=True)
    tokens = {persona: ApiToken.issue(user)[1] for persona, user in users.items()}
    return World(
        works=works,
        series={state: Series.objects.get(title=SERIES[state]) for state in STATES},
        clients={persona: client_as(persona, users, tokens) for persona in PERSONAS},
    )


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once for the module, inside a transaction rolled back at its end.

    The same idea as Django's setUpTestData: each test runs in a savepoint inside it, so
    220 cases cost one GET each instead of four users and a posted work each.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        built = build_world()
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def should_see(persona: str, state: str, page: Page) -> bool:
    if state == "draft" and not page.lists_drafts:
        return False
    if state == "hidden" and not page.lists_hidden:
        return False
    return persona in WHO_SEES[state]


@pytest.mark.parametrize("page_name", list(PAGES))
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_each_work_only_to_those_allowed_to_see_it(
    persona: str, state: str, page_name: str, world: World, db: None
) -> None:
    page = PAGES[page_name]
    visible = should_see(persona, state, page)

    response = world.clients[persona].get(page.url(world, state))
    body = response.content.decode()

    if page.kind == "own":
        assert response.status_code == (200 if visible else 404), body[:500]
        assert (TITLES[state] in body) is visible
    elif page.kind == "listing":
        assert response.status_code == 200, body[:500]
        assert (TITLES[state] in body) is visible
    else:
        assert response.status_code == 200, body[:500]
        if visible:
            assert f'{FANDOMS[state]}</a> <span class="muted">(1)</span>' in body
        else:
            assert FANDOMS[state] not in body


def test_it_builds_each_work_of_the_matrix_as_described(world: World, db: None) -> None:
    """Guards the matrix itself: every work has two chapters, two credited creators and its series."""
    for state, work in world.works.items():
        work = Work.objects.get(pk=work.pk)
        assert work.chapter_count == 2
        assert sorted(p.user.username for p in work.creators) == ["alice", "carol"]
        assert list(world.series[state].parts.values_list("work_id", flat=True)) == [work.pk]
        assert (work.draft, work.restricted, work.hidden) == (state == "draft", state == "restricted", state == "hidden")
