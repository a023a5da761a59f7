"""Saved exclusions: tags a reader never wants listed, hidden from every listing until turned off."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from chapbook.listings.models import SavedExclusion
from chapbook.people.models import User
from chapbook.tags.models import Tag
from chapbook.works.models import Work
from tests.conftest import default_tags, listed_titles

MakeWork = Callable[..., Work]
ClientFor = Callable[[User], Client]

LISTINGS = [
    "/works/",
    "/tags/Lighthouse Stories/works",
    "/users/alice/works",
    "/users/alice/pseuds/alice/works",
]


@pytest.fixture
def archive(author: User, make_work: MakeWork) -> None:
    lighthouse = ["Lighthouse Stories"]
    make_work(author, title="Calm Night", tags=default_tags(fandoms=lighthouse, freeforms=["Fluff"]))
    make_work(author, title="Wreckage", tags=default_tags(fandoms=lighthouse, freeforms=["Angst", "Storms"]))
    make_work(author, title="Squall", tags=default_tags(fandoms=lighthouse, freeforms=["Storms"]))


def hide(user: User, *names: str) -> None:
    for name in names:
        SavedExclusion.objects.create(user=user, tag=Tag.objects.get(name=name))


def titles(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    return sorted(listed_titles(response))


def hidden_names(user: User) -> list[str]:
    return list(SavedExclusion.objects.filter(user=user).values_list("tag__name", flat=True))


# --------------------------------------------------------------------- managing the list


@pytest.mark.usefixtures("archive")
def test_a_reader_hides_a_tag_by_name(reader: User, client_for: ClientFor) -> None:
    client = client_for(reader)

    response = client.post(reverse("listings:exclusions"), {"name": "  storms "})

    assert response.status_code == 302 and response["Location"] == reverse("listings:exclusions")
    assert hidden_names(reader) == ["Storms"]
    page = client.get(reverse("listings:exclusions")).content.decode()
    assert "Works tagged “Storms” are now hidden from every listing." in page
    assert 'aria-label="Stop hiding Storms"' in page


@pytest.mark.usefixtures("archive")
def test_it_refuses_to_hide_a_tag_that_does_not_exist(reader: User, client_for: ClientFor) -> None:
    response = client_for(reader).post(reverse("listings:exclusions"), {"name": "Whirlpools"})

    assert response.status_code == 200
    assert "No tag named “Whirlpools”." in response.content.decode()
    assert hidden_names(reader) == []


@pytest.mark.usefixtures("archive")
def test_hiding_a_tag_twice_keeps_it_once(reader: User, client_for: ClientFor) -> None:
    client = client_for(reader)
    client.post(reverse("listings:exclusions"), {"name": "Storms"})
    client.post(reverse("listings:exclusions"), {"name": "STORMS"})

    assert hidden_names(reader) == ["Storms"]


@pytest.mark.usefixtures("archive")
def test_a_reader_stops_hiding_a_tag(reader: User, client_for: ClientFor) -> None:
    hide(reader, "Storms", "Angst")
    storms = Tag.objects.get(name="Storms")

    response = client_for(reader).post(reverse("listings:exclusion_remove", args=[storms.pk]))

    assert response.status_code == 302
    assert hidden_names(reader) == ["Angst"]


@pytest.mark.usefixtures("archive")
def test_removing_is_a_post_and_only_touches_the_readers_own_list(
    author: User, reader: User, client_for: ClientFor
) -> None:
    hide(author, "Storms")
    storms = Tag.objects.get(name="Storms")
    url = reverse("listings:exclusion_remove", args=[storms.pk])

    assert client_for(author).get(url).status_code == 405
    client_for(reader).post(url)

    assert hidden_names(author) == ["Storms"]


def test_a_guest_is_sent_to_log_in_to_manage_hidden_tags(db: None, client: Client) -> None:
    assert client.get(reverse("listings:exclusions"))["Location"].startswith("/login")
    assert client.post(reverse("listings:exclusions"), {"name": "Storms"})["Location"].startswith("/login")


# --------------------------------------------------------------------- hiding in listings


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize("url", LISTINGS)
def test_it_hides_saved_exclusions_on_every_listing(reader: User, client_for: ClientFor, url: str) -> None:
    hide(reader, "Storms")

    assert titles(client_for(reader), url) == ["Calm Night"]


@pytest.mark.usefixtures("archive")
def test_it_hides_saved_exclusions_until_turned_off_for_one_page(reader: User, client_for: ClientFor) -> None:
    hide(reader, "Storms", "Angst")
    client = client_for(reader)

    hiding = client.get("/works/?sort=title&page=1").content.decode()
    assert "Hiding works tagged Angst, Storms" in hiding
    assert '<a href="/works/?sort=title&amp;exclusions=off">show them on this page</a>' in hiding

    shown = client.get("/works/?sort=title&exclusions=off")
    assert listed_titles(shown) == ["Calm Night", "Squall", "Wreckage"]
    assert "Showing works tagged Angst, Storms, which you usually hide" in shown.content.decode()
    # Filtering further from that page keeps them shown; the next page without it hides them.
    assert '<input type="hidden" name="exclusions" value="off">' in shown.content.decode()
    assert '<a href="/works/?sort=title">hide them again</a>' in shown.content.decode()
    assert titles(client, "/works/") == ["Calm Night"]


@pytest.mark.usefixtures("archive")
def test_it_shows_a_hidden_tag_the_page_asks_for(reader: User, client_for: ClientFor) -> None:
    """Excluding the very tag a listing is about would only ever list nothing."""
    hide(reader, "Storms", "Fluff")
    client = client_for(reader)

    assert titles(client, "/tags/Storms/works") == ["Squall", "Wreckage"]
    assert titles(client, "/works/?include=Storms") == ["Squall", "Wreckage"]
    assert "Hiding works tagged Fluff —" in client.get("/tags/Storms/works").content.decode()


@pytest.mark.usefixtures("archive")
def test_guests_are_unaffected_by_anyones_hidden_tags(reader: User) -> None:
    hide(reader, "Storms")

    page = Client().get("/works/")

    assert sorted(listed_titles(page)) == ["Calm Night", "Squall", "Wreckage"]
    assert "Hiding works tagged" not in page.content.decode()


@pytest.mark.usefixtures("archive")
def test_another_readers_hidden_tags_are_irrelevant(author: User, reader: User, client_for: ClientFor) -> None:
    hide(author, "Storms")

    assert titles(client_for(reader), "/works/") == ["Calm Night", "Squall", "Wreckage"]


# --------------------------------------------------------------------- from the sidebar


@pytest.mark.usefixtures("archive")
def test_the_sidebar_offers_to_always_hide_a_tag_to_logged_in_readers_only(reader: User, client_for: ClientFor) -> None:
    button = 'form="always-hide" name="name" value="Storms"'

    assert button in client_for(reader).get("/works/").content.decode()
    assert button not in Client().get("/works/").content.decode()


@pytest.mark.usefixtures("archive")
def test_always_hiding_from_the_sidebar_returns_to_the_listing_without_the_tag(
    reader: User, client_for: ClientFor
) -> None:
    client = client_for(reader)

    response = client.post(reverse("listings:exclusions"), {"name": "Storms", "next": "/works/?sort=title"}, follow=True)

    assert response.redirect_chain == [("/works/?sort=title", 302)]
    assert listed_titles(response) == ["Calm Night"]
    assert "Works tagged “Storms” are now hidden from every listing." in response.content.decode()


@pytest.mark.usefixtures("archive")
def test_it_never_returns_to_another_site(reader: User, client_for: ClientFor) -> None:
    response = client_for(reader).post(
        reverse("listings:exclusions"), {"name": "Storms", "next": "https://elsewhere.example/works/"}
    )

    assert response["Location"] == reverse("listings:exclusions")
