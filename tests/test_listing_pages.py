"""The filtered listings: all works, a tag's, a pseud's and a user's, with the filter sidebar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from chapbook.people.models import User
from chapbook.tags.models import Tag
from chapbook.works.models import Work
from tests.conftest import default_tags, listed_titles, make_user, queries_for

MakeWork = Callable[..., Work]
ClientFor = Callable[[User], Client]


# What each filter and sort leaves of the archive below, in order; the search page's
# tests run the same cases on a query every listed work matches.
FILTER_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"include": "Lighthouse Stories, Storms"}, ["Harbour Lights"]),
    ({"include": ["Lighthouse Stories", "Storms"]}, ["Harbour Lights"]),
    ({"include": "lighthouse stories"}, ["Crossing Over", "Salt Roads", "Harbour Lights"]),
    ({"exclude": "Storms"}, ["Crossing Over", "Salt Roads"]),
    ({"exclude": ["Storms", "Angst"]}, ["Crossing Over"]),
    ({"include": "Paper Worlds", "exclude": "Lighthouse Stories"}, ["Paper Boats"]),
    ({"rating": "Explicit"}, ["Salt Roads"]),
    ({"rating": ["Explicit", "Teen And Up Audiences"]}, ["Paper Boats", "Salt Roads"]),
    ({"warning": "Major Character Death"}, ["Salt Roads"]),
    ({"category": "F/M"}, ["Harbour Lights"]),
    ({"complete": "on"}, ["Harbour Lights"]),
    ({"crossover": "only"}, ["Crossing Over"]),
    ({"crossover": "exclude"}, ["Paper Boats", "Salt Roads", "Harbour Lights"]),
    ({"language": "fr"}, ["Paper Boats"]),
    ({"words_min": "50"}, ["Salt Roads"]),
    ({"words_max": "50"}, ["Paper Boats", "Crossing Over", "Harbour Lights"]),
    ({"words_min": "13", "words_max": "30"}, ["Paper Boats", "Crossing Over"]),
]

SORT_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({}, ["Paper Boats", "Crossing Over", "Salt Roads", "Harbour Lights"]),
    ({"sort": "updated", "order": "asc"}, ["Harbour Lights", "Salt Roads", "Crossing Over", "Paper Boats"]),
    ({"sort": "posted"}, ["Paper Boats", "Crossing Over", "Salt Roads", "Harbour Lights"]),
    ({"sort": "title"}, ["Crossing Over", "Harbour Lights", "Paper Boats", "Salt Roads"]),
    ({"sort": "title", "order": "desc"}, ["Salt Roads", "Paper Boats", "Harbour Lights", "Crossing Over"]),
    ({"sort": "creator"}, ["Harbour Lights", "Salt Roads", "Crossing Over", "Paper Boats"]),
    ({"sort": "words"}, ["Salt Roads", "Paper Boats", "Crossing Over", "Harbour Lights"]),
    ({"sort": "words", "order": "asc"}, ["Harbour Lights", "Crossing Over", "Paper Boats", "Salt Roads"]),
    ({"sort": "kudos"}, ["Paper Boats", "Harbour Lights", "Crossing Over", "Salt Roads"]),
    ({"sort": "kudos", "order": "asc"}, ["Salt Roads", "Crossing Over", "Harbour Lights", "Paper Boats"]),
    ({"sort": "hits"}, ["Paper Boats", "Harbour Lights", "Crossing Over", "Salt Roads"]),
    ({"sort": "comments"}, ["Salt Roads", "Crossing Over", "Harbour Lights", "Paper Boats"]),
    ({"sort": "bookmarks"}, ["Crossing Over", "Paper Boats", "Harbour Lights", "Salt Roads"]),
]


def words(count: int) -> str:
    return "<p>" + " ".join(["wave"] * count) + "</p>"


def days_ago(days: float) -> datetime:
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def archive(author: User, co_author: User, make_work: MakeWork) -> dict[str, Work]:
    """A small archive: four listed works by alice and carol, one restricted, one draft.

    Harbour Lights  alice  Lighthouse Stories  General  F/M, Mara/Jun, Storms  complete  12 words
    Salt Roads      alice  Lighthouse Stories  Explicit Major Character Death, Angst  60 words
    Crossing Over   carol  Lighthouse Stories + Paper Worlds (a crossover)  General  20 words
    Paper Boats     carol  Paper Worlds        Teen     Storms, Fluff  in French  30 words
    """
    lighthouse = ["Lighthouse Stories"]
    works = {
        "Harbour Lights": make_work(
            author,
            title="Harbour Lights",
            tags=default_tags(fandoms=lighthouse, categories=["F/M"], relationships=["Mara/Jun"], freeforms=["Storms"]),
            expected_chapters=1,
            backdate=days_ago(5),
        ),
        "Salt Roads": make_work(
            author,
            title="Salt Roads",
            chapters=[words(60)],
            tags=default_tags(
                fandoms=lighthouse, ratings=["Explicit"], warnings=["Major Character Death"], freeforms=["Angst"]
            ),
            backdate=days_ago(3),
        ),
        "Crossing Over": make_work(
            co_author,
            title="Crossing Over",
            chapters=[words(20)],
            tags=default_tags(fandoms=["Lighthouse Stories", "Paper Worlds"]),
            backdate=days_ago(2),
        ),
        "Paper Boats": make_work(
            co_author,
            title="Paper Boats",
            chapters=[words(30)],
            tags=default_tags(fandoms=["Paper Worlds"], ratings=["Teen And Up Audiences"], freeforms=["Storms", "Fluff"]),
            language="fr",
            backdate=days_ago(1),
        ),
        "Members Only": make_work(author, title="Members Only", tags=default_tags(fandoms=lighthouse), restricted=True),
        "Still Drafting": make_work(author, title="Still Drafting", tags=default_tags(fandoms=lighthouse), draft=True),
    }
    return works


def titles(client: Client, url: str, params: dict[str, Any] | None = None) -> list[str]:
    response = client.get(url, params or {})
    assert response.status_code == 200, url
    return listed_titles(response)


def facet_counts(response: Any) -> dict[str, int | None]:
    """What the sidebar counts, by tag name: the fixed tags' checkboxes and the facet lists."""
    listing = response.context["listing"]
    return {entry.name: entry.count for group in listing.fixed_groups + listing.facet_groups for entry in group.entries}


# --------------------------------------------------------------------- what is listed


@pytest.mark.usefixtures("archive")
def test_it_lists_every_work_a_guest_may_see_most_recently_updated_first(client: Client) -> None:
    assert titles(client, "/works/") == ["Paper Boats", "Crossing Over", "Salt Roads", "Harbour Lights"]


@pytest.mark.usefixtures("archive")
def test_it_lists_restricted_works_to_logged_in_readers_but_drafts_to_nobody(
    author: User, reader: User, client_for: ClientFor
) -> None:
    as_reader = titles(client_for(reader), "/works/")
    as_author = titles(client_for(author), "/works/")

    assert "Members Only" in as_reader and "Members Only" in as_author
    assert "Still Drafting" not in as_reader and "Still Drafting" not in as_author
    assert "Members Only" not in titles(Client(), "/works/")


@pytest.mark.usefixtures("archive")
def test_it_never_lists_a_hidden_work(client_for: ClientFor, staff: User) -> None:
    Work.objects.filter(title="Salt Roads").update(hidden=True, revised_at=timezone.now())

    assert "Salt Roads" not in titles(Client(), "/works/")
    assert "Salt Roads" not in titles(client_for(staff), "/works/")


@pytest.mark.usefixtures("archive")
def test_it_heads_the_page_with_the_range_and_the_total(client: Client) -> None:
    with override_settings(WORKS_PER_PAGE=3):
        first = client.get("/works/").content.decode()
        second = client.get("/works/?page=2").content.decode()

    assert "<h1>1 – 3 of 4 Works</h1>" in first
    assert "<h1>4 – 4 of 4 Works</h1>" in second
    tag_page = client.get("/tags/Paper Worlds/works").content.decode()
    assert '<h1>1 – 2 of 2 Works in <a href="/tags/Paper%20Worlds/">Paper Worlds</a></h1>' in tag_page


@pytest.mark.usefixtures("archive")
def test_it_keeps_the_filters_in_the_pagination_links(client: Client) -> None:
    with override_settings(WORKS_PER_PAGE=2):
        first = client.get("/works/", {"sort": "title"})
        second = client.get("/works/", {"sort": "title", "page": "2"})

    assert 'rel="next" href="?sort=title&amp;page=2"' in first.content.decode()
    assert listed_titles(first) == ["Crossing Over", "Harbour Lights"]
    assert listed_titles(second) == ["Paper Boats", "Salt Roads"]


@pytest.mark.usefixtures("archive")
def test_it_shows_an_empty_page_with_a_way_back_past_the_last_page(client: Client) -> None:
    response = client.get("/works/", {"page": "9", "sort": "title"})

    assert response.status_code == 200
    assert listed_titles(response) == []
    page = response.content.decode()
    assert "There is no page 9 of these works." in page
    assert 'href="/works/?sort=title">Go to the last page' in page


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize("page", ["0", "-2", "two", "99999999999999999999"])
def test_it_reads_a_bad_page_number_as_a_page_not_an_error(client: Client, page: str) -> None:
    response = client.get("/works/", {"page": page})

    assert response.status_code == 200
    assert response.context["page"].number in {1, 5000}


# --------------------------------------------------------------------- each filter


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize(
    "params, expected",
    FILTER_CASES,

)
def test_it_applies_each_filter(client: Client, params: dict[str, Any], expected: list[str]) -> None:
    assert titles(client, "/works/", params) == expected


@pytest.mark.usefixtures("archive")
def test_it_lists_works_updated_since_a_date(client: Client) -> None:
    since = days_ago(2).date().isoformat()

    assert titles(client, "/works/", {"updated_since": since}) == ["Paper Boats", "Crossing Over"]


@pytest.mark.usefixtures("archive")
def test_it_shows_the_filters_it_applied_in_the_form(client: Client) -> None:
    page = client.get("/works/", {"rating": "Explicit", "include": ["Storms", "Angst"], "words_min": "5"}).content.decode()

    assert 'name="rating" value="Explicit" id="id_rating_4" checked' in page
    assert 'name="include" value="Storms, Angst"' in page
    assert 'name="words_min" value="5"' in page
    assert "<details class=\"more-options\" open>" in page


# --------------------------------------------------------------------- sorting


@pytest.fixture
def counted(archive: dict[str, Work]) -> dict[str, Work]:
    """Distinct feedback counts, so that each sort has one right order."""
    numbers = {"Harbour Lights": 5, "Salt Roads": 1, "Crossing Over": 3, "Paper Boats": 9}
    for title, number in numbers.items():
        Work.objects.filter(pk=archive[title].pk).update(
            kudos_count=number,
            hits_count=number * 10,
            comments_count=10 - number,
            bookmarks_count=number * 2 % 7,
            revised_at=timezone.now(),
        )
    return archive


@pytest.mark.usefixtures("counted")
@pytest.mark.parametrize(
    "params, expected",
    SORT_CASES,

)
def test_it_sorts_by_each_key(client: Client, params: dict[str, str], expected: list[str]) -> None:
    assert titles(client, "/works/", params) == expected


# --------------------------------------------------------------------- form errors


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize(
    "params, message",
    [
        ({"include": "Storms, No Such Tag"}, "No tag named “No Such Tag”."),
        ({"exclude": "Nowhere, Nothing"}, "No tags named “Nowhere”, “Nothing”."),
        ({"words_min": "-3"}, "A word count cannot be negative."),
        ({"words_max": "lots"}, "Enter a whole number."),
        ({"words_min": "100", "words_max": "10"}, "The highest word count is below the lowest."),
        ({"updated_since": "last tuesday"}, "Enter a valid date."),
        ({"sort": "vibes"}, "Select a valid choice."),
        ({"rating": "Unrated Chaos"}, "Select a valid choice."),
    ],
)
def test_it_shows_a_mistake_in_the_filters_to_the_reader(client: Client, params: dict[str, str], message: str) -> None:
    response = client.get("/works/", params)

    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "the filters have a mistake" in page
    assert listed_titles(response) == []


# --------------------------------------------------------------------- facets


@pytest.mark.usefixtures("archive")
def test_it_counts_the_top_tags_of_each_type_among_the_listed_works(client: Client) -> None:
    counts = facet_counts(client.get("/works/"))

    assert counts["Lighthouse Stories"] == 3 and counts["Paper Worlds"] == 2
    assert counts["Storms"] == 2 and counts["Angst"] == 1 and counts["Mara/Jun"] == 1
    assert counts["General Audiences"] == 2 and counts["Explicit"] == 1 and counts["Mature"] == 0
    assert counts["Major Character Death"] == 1 and counts["F/M"] == 1


@pytest.mark.usefixtures("archive")
def test_it_counts_facets_for_the_current_filters_only(client: Client, reader: User, client_for: ClientFor) -> None:
    filtered = facet_counts(client.get("/works/", {"include": "Storms"}))
    as_reader = facet_counts(client_for(reader).get("/works/"))

    assert filtered["Lighthouse Stories"] == 1 and filtered["Paper Worlds"] == 1
    assert "Angst" not in filtered
    # The restricted work counts for a logged-in reader, never for a guest.
    assert as_reader["Lighthouse Stories"] == 4


@pytest.mark.usefixtures("archive")
def test_it_shows_each_facet_with_its_count_and_links_to_add_or_exclude_it(client: Client) -> None:
    response = client.get("/works/", {"rating": "General Audiences"})
    page = response.content.decode()

    assert '<a class="facet-name" href="/works/?rating=General+Audiences&amp;include=Storms">Storms</a>' in page
    assert 'href="/works/?rating=General+Audiences&amp;exclude=Storms" aria-label="Exclude Storms"' in page
    assert titles(client, "/works/?rating=General+Audiences&include=Storms") == ["Harbour Lights"]
    assert titles(client, "/works/?rating=General+Audiences&exclude=Storms") == ["Crossing Over"]


@pytest.mark.usefixtures("archive")
def test_it_marks_the_tag_of_a_tag_listing_as_included_in_its_facets(client: Client) -> None:
    response = client.get("/tags/Storms/works")
    storms = next(
        entry for group in response.context["listing"].facet_groups for entry in group.entries if entry.name == "Storms"
    )

    assert storms.state == "included" and storms.count == 2
    assert '<a class="facet-name" href="/tags/Storms/works?include=Lighthouse+Stories">' in response.content.decode()


# --------------------------------------------------------------------- the tag, pseud and user listings


@pytest.mark.usefixtures("archive")
def test_it_lists_a_tags_works_with_its_filters(client: Client) -> None:
    assert titles(client, "/tags/Storms/works") == ["Paper Boats", "Harbour Lights"]
    assert titles(client, "/tags/Storms/works", {"include": "Lighthouse Stories"}) == ["Harbour Lights"]
    assert titles(client, "/tags/Explicit/works") == ["Salt Roads"]


def test_it_404s_the_listing_of_a_tag_that_does_not_exist(db: None, client: Client) -> None:
    assert client.get("/tags/No Such Tag Anywhere/works").status_code == 404


def test_it_404s_a_tag_only_a_draft_carries(author: User, make_work: MakeWork, client: Client) -> None:
    make_work(author, title="Secret", tags=default_tags(freeforms=["Unannounced Plot"]), draft=True)

    assert client.get("/tags/Unannounced Plot/works").status_code == 404


@pytest.mark.usefixtures("archive")
def test_it_redirects_a_synonyms_listing_to_its_canonical_tag(client: Client) -> None:
    storms = Tag.objects.get(name="Storms")
    Tag.objects.create(name="Stormy Weather", type=storms.type, synonym_of=storms)

    response = client.get("/tags/stormy weather/works", {"sort": "title"})

    assert response.status_code == 302
    assert response["Location"] == "/tags/Storms/works?sort=title"


def test_it_lists_works_tagged_with_a_synonym_under_the_canonical_tag(
    author: User, make_work: MakeWork, client: Client
) -> None:
    make_work(author, title="Thunder", tags=default_tags(freeforms=["Stormy Weather"]))
    make_work(author, title="Lightning", tags=default_tags(freeforms=["Storms"]))
    Tag.objects.filter(name="Storms").update(canonical=True, wrangled_at=timezone.now())
    Tag.objects.filter(name="Stormy Weather").update(
        synonym_of=Tag.objects.get(name="Storms"), wrangled_at=timezone.now()
    )

    assert sorted(titles(client, "/tags/Storms/works")) == ["Lightning", "Thunder"]
    assert titles(client, "/works/", {"include": "Stormy Weather"}) == titles(client, "/works/", {"include": "Storms"})


@pytest.mark.usefixtures("archive")
def test_it_lists_a_pseuds_works_with_its_filters(co_author: User, client: Client) -> None:
    url = reverse("listings:pseud_works", args=["carol", "carol"])

    assert titles(client, url) == ["Paper Boats", "Crossing Over"]
    assert titles(client, url, {"crossover": "exclude"}) == ["Paper Boats"]
    assert client.get(reverse("listings:pseud_works", args=["carol", "nobody"])).status_code == 404


@pytest.mark.usefixtures("archive")
def test_it_lists_a_users_works_with_its_filters(author: User, client_for: ClientFor, reader: User) -> None:
    url = reverse("people:works", args=["alice"])

    assert titles(Client(), url) == ["Salt Roads", "Harbour Lights"]
    assert titles(Client(), url, {"rating": "Explicit"}) == ["Salt Roads"]
    # As on AO3, a creator's drafts stay on their work pages, even for the creator.
    assert sorted(titles(client_for(author), url)) == ["Harbour Lights", "Members Only", "Salt Roads"]
    assert "<h1>1 – 3 of 3 Works by" in client_for(reader).get(url).content.decode()


# --------------------------------------------------------------------- query counts


def _warm(client: Client, url: str) -> None:
    # The filter index is built once per process and change; what is pinned is a request's own cost.
    assert client.get(url).status_code == 200


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize(
    "url, guest_cold, guest_warm",
    [
        ("/works/", 6, 3),
        ("/works/?include=Storms&rating=General+Audiences&sort=kudos", 7, 4),
        ("/tags/Storms/works", 7, 4),
        ("/users/carol/pseuds/carol/works", 7, 4),
        ("/users/carol/works", 8, 5),
    ],
)
def test_it_pins_the_queries_of_each_listing(
    reader: User, client_for: ClientFor, url: str, guest_cold: int, guest_warm: int
) -> None:
    """Cold: no blurb cached, so the page's works are read with their tags and creators.

    A logged-in reader adds five: the session, the user, their saved exclusions, and the
    two permission queries of the site menu's Wrangle link; and a sixth, the header's
    inbox count.
    """
    guest, logged_in = Client(), client_for(reader)
    _warm(guest, url)

    assert queries_for(guest, url) == guest_cold
    assert queries_for(guest, url, cold_cache=False) == guest_warm
    assert queries_for(logged_in, url) == guest_cold + 6
    assert queries_for(logged_in, url, cold_cache=False) == guest_warm + 6


def test_it_lists_ten_works_in_as_many_queries_as_two(author: User, make_work: MakeWork, client: Client) -> None:
    for number in range(2):
        make_work(author, title=f"Work {number}", tags=default_tags(freeforms=[f"Tag {number}"]))
    _warm(client, "/works/")
    two = queries_for(client, "/works/")
    for number in range(2, 10):
        make_work(make_user(f"writer{number}"), title=f"Work {number}", tags=default_tags(freeforms=[f"Tag {number}"]))
    _warm(client, "/works/")

    assert queries_for(client, "/works/") == two
    assert len(titles(client, "/works/")) == 10
