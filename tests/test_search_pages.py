"""The search page and the header's search box: a query with every listing filter, as blurbs with snippets."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from chapbook.lib.searchquery import NOTE_CUT, NOTE_NOTHING, NOTE_ONLY_EXCLUDED
from chapbook.people.models import User
from chapbook.search.backend import SearchTooSlow, get_backend
from chapbook.search.services import NOTE_TOO_SLOW
from chapbook.works.models import Work
from tests.conftest import default_tags, listed_titles, make_user, queries_for

MakeWork = Callable[..., Work]
ClientFor = Callable[[User], Client]
URL = "/search"


@pytest.fixture
def archive(
    author: User, co_author: User, make_work: MakeWork, django_capture_on_commit_callbacks: Any
) -> dict[str, Work]:
    """Six works, four of them listed, most with a dragon somewhere.

    Harbour Lights   alice  General   chapter 2: "a silver dragon slept under the pier"
    Salt Roads       alice  Explicit  Angst: "the dragon burned the salt roads"
    Café Stories     carol  General   Fluff; summary "A café at the end of the pier" (no dragon)
    Don’t Look Back  carol  Teen      "“Don’t,” said the dragon, and the gulls laughed."
    Members Only     alice  restricted, "a members' dragon"
    Still Drafting   alice  a draft,    "a drafted dragon"

    Posting queues each work's indexing for after the commit, which a test never reaches;
    the callbacks are run here instead.
    """
    with django_capture_on_commit_callbacks(execute=True):
        return {
            "Harbour Lights": make_work(
                author,
                title="Harbour Lights",
                chapters=["<p>The gulls argued over the harbour wall.</p>", "<p>Below, a silver dragon slept under the pier.</p>"],
            ),
            "Salt Roads": make_work(
                author,
                title="Salt Roads",
                chapters=["<p>Long ago the dragon burned the salt roads.</p>"],
                tags=default_tags(ratings=["Explicit"], freeforms=["Angst"]),
            ),
            "Café Stories": make_work(
                co_author,
                title="Café Stories",
                summary="<p>A café at the end of the pier.</p>",
                chapters=["<p>Coffee, mostly, and the sea.</p>"],
                tags=default_tags(freeforms=["Fluff"]),
            ),
            "Don’t Look Back": make_work(
                co_author,
                title="Don’t Look Back",
                chapters=["<p>“Don’t,” said the dragon, and the gulls laughed.</p>"],
                tags=default_tags(ratings=["Teen And Up Audiences"]),
            ),
            "Members Only": make_work(author, title="Members Only", chapters=["<p>A members' dragon.</p>"], restricted=True),
            "Still Drafting": make_work(author, title="Still Drafting", chapters=["<p>A drafted dragon.</p>"], draft=True),
        }


def found(client: Client, params: dict[str, Any]) -> list[str]:
    response = client.get(URL, params)
    assert response.status_code == 200, params
    return listed_titles(response)


def page(client: Client, params: dict[str, Any]) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200, params
    return response.content.decode()


def blurb_of(content: str, work: Work) -> str:
    """The HTML of one work's blurb, snippet included."""
    match = re.search(rf'<li class="blurb" id="work-{work.pk}">.*?</dl>.*?</li>', content, re.DOTALL)
    assert match, f"no blurb for {work.title}"
    return match.group(0)


# --------------------------------------------------------------------- the search box


@pytest.mark.parametrize("url", ["/", "/works/", "/search"])
def test_every_page_has_a_labelled_search_box_in_its_header(db: None, client: Client, url: str) -> None:
    content = client.get(url).content.decode()

    header = content[content.index('<header class="site-header"') : content.index("</header>")]
    assert '<form method="get" action="/search"' in header
    assert '<label for="site-search-q" class="visually-hidden">Search works</label>' in header
    assert 'name="q"' in header


def test_without_a_query_it_shows_how_to_search_and_lists_nothing(client: Client, archive: dict[str, Work]) -> None:
    content = page(client, {})

    assert "How to search" in content
    assert listed_titles(client.get(URL)) == []
    assert "Type a word" not in content


@pytest.mark.parametrize("q", ["", "   "])
def test_an_empty_query_asks_for_a_word(client: Client, archive: dict[str, Work], q: str) -> None:
    response = client.get(URL, {"q": q, "rating": "Explicit"})

    assert response.status_code == 200
    assert listed_titles(response) == []
    assert 'Type a word or a "phrase in quotes" to search for.' in response.content.decode()


# --------------------------------------------------------------------- what it finds


@pytest.mark.usefixtures("archive")
def test_it_finds_the_works_whose_text_matches(client: Client) -> None:
    assert sorted(found(client, {"q": "dragon"})) == ["Don’t Look Back", "Harbour Lights", "Salt Roads"]
    assert found(client, {"q": "coffee"}) == ["Café Stories"]


@pytest.mark.usefixtures("archive")
def test_it_says_how_many_works_were_found(client: Client) -> None:
    assert "<strong>3 works found</strong>" in page(client, {"q": "dragon"})
    assert "<strong>1 work found</strong>" in page(client, {"q": "coffee"})
    assert "<strong>0 works found</strong>" in page(client, {"q": "kraken"})
    assert "No works match this search." in page(client, {"q": "kraken"})


@pytest.mark.usefixtures("archive")
def test_it_folds_accents_case_and_quote_marks(client: Client) -> None:
    assert found(client, {"q": "CAFE"}) == ["Café Stories"]
    assert found(client, {"q": "café"}) == ["Café Stories"]
    assert found(client, {"q": "don't"}) == ["Don’t Look Back"]
    assert found(client, {"q": "“don’t” gulls"}) == ["Don’t Look Back"]


@pytest.mark.usefixtures("archive")
def test_it_reads_the_query_language(client: Client) -> None:
    assert sorted(found(client, {"q": "dragon -angst"})) == ["Don’t Look Back", "Harbour Lights"]
    assert found(client, {"q": '"silver dragon"'}) == ["Harbour Lights"]
    assert found(client, {"q": '"dragon silver"'}) == []
    assert sorted(found(client, {"q": "coffee OR silver"})) == ["Café Stories", "Harbour Lights"]
    assert found(client, {"q": "title:harbour"}) == ["Harbour Lights"]
    assert found(client, {"q": "creator:carol dragon"}) == ["Don’t Look Back"]
    assert found(client, {"q": "tag:fluff"}) == ["Café Stories"]
    assert found(client, {"q": "summary:pier"}) == ["Café Stories"]


# --------------------------------------------------------------------- who sees what


@pytest.mark.usefixtures("archive")
def test_it_never_finds_a_restricted_work_for_a_guest(client: Client, reader: User, client_for: ClientFor) -> None:
    assert "Members Only" not in found(client, {"q": "dragon"})
    assert found(client, {"q": "members"}) == []
    assert "<strong>0 works found</strong>" in page(client, {"q": "members"})
    assert found(client_for(reader), {"q": "members"}) == ["Members Only"]


@pytest.mark.usefixtures("archive")
def test_it_never_finds_a_draft_not_even_for_its_author(author: User, client_for: ClientFor, staff: User) -> None:
    for user in (author, staff):
        assert found(client_for(user), {"q": "drafted"}) == []
        assert "Still Drafting" not in found(client_for(user), {"q": "dragon"})


def test_it_never_finds_a_hidden_work(client: Client, archive: dict[str, Work]) -> None:
    Work.objects.filter(pk=archive["Salt Roads"].pk).update(hidden=True, revised_at=timezone.now())

    assert "Salt Roads" not in found(client, {"q": "dragon"})


# --------------------------------------------------------------------- filters and sorts


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize(
    "params, expected",
    [
        ({"rating": "Explicit"}, ["Salt Roads"]),
        ({"rating": ["Explicit", "Teen And Up Audiences"]}, ["Don’t Look Back", "Salt Roads"]),
        ({"exclude": "Angst"}, ["Don’t Look Back", "Harbour Lights"]),
        ({"include": "Angst"}, ["Salt Roads"]),
        ({"words_min": "10"}, ["Harbour Lights"]),
        ({"language": "fr"}, []),
    ],
)
def test_every_listing_filter_narrows_a_search(client: Client, params: dict[str, Any], expected: list[str]) -> None:
    assert sorted(found(client, {"q": "dragon", **params})) == expected


@pytest.mark.usefixtures("archive")
def test_a_filter_with_a_mistake_lists_nothing_and_says_so(client: Client) -> None:
    content = page(client, {"q": "dragon", "include": "No Such Tag"})

    assert "the filters have a mistake" in content
    assert "No tag named “No Such Tag”." in content


@pytest.mark.usefixtures("archive")
def test_best_match_is_a_sort_and_the_default_only_with_a_query(client: Client) -> None:
    with_query = client.get(URL, {"q": "dragon"})
    sort = with_query.context["form"].fields["sort"]

    assert sort.choices[0] == ("best", "Best match")
    assert "Sorted by best match." in with_query.content.decode()
    assert "best" not in dict(client.get(URL).context["form"].fields["sort"].choices)


def test_best_match_puts_a_title_above_a_newer_work_that_only_mentions_it(
    client: Client, author: User, make_work: MakeWork, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        make_work(author, title="Lantern", chapters=["<p>Night fell on the pier.</p>"])
        make_work(author, title="Other Lights", chapters=["<p>She lit a lantern once.</p>"])

    assert found(client, {"q": "lantern"}) == ["Lantern", "Other Lights"]  # newest first on a tie
    assert found(client, {"q": "lantern", "sort": "updated"}) == ["Other Lights", "Lantern"]


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize(
    "params, expected",
    [
        ({"sort": "title"}, ["Don’t Look Back", "Harbour Lights", "Salt Roads"]),
        ({"sort": "title", "order": "desc"}, ["Salt Roads", "Harbour Lights", "Don’t Look Back"]),
        ({"sort": "posted", "order": "asc"}, ["Harbour Lights", "Salt Roads", "Don’t Look Back"]),
    ],
)
def test_every_sort_applies_to_a_search(client: Client, params: dict[str, str], expected: list[str]) -> None:
    assert found(client, {"q": "dragon", **params}) == expected


@pytest.mark.usefixtures("archive")
def test_a_stale_best_sort_without_a_query_is_not_an_error(client: Client) -> None:
    response = client.get(URL, {"q": "", "sort": "best"})

    assert response.status_code == 200
    assert not response.context["form"].errors


@pytest.mark.usefixtures("archive")
def test_the_filter_sidebar_keeps_the_query(client: Client) -> None:
    content = page(client, {"q": "silver dragon", "rating": "General Audiences"})

    sidebar = content[content.index('<aside class="filters"') :]
    assert '<input type="hidden" name="q" value="silver dragon">' in sidebar
    assert 'href="/search?q=silver+dragon">Clear filters</a>' in sidebar


@pytest.mark.usefixtures("archive")
def test_it_counts_facets_among_the_works_found(client: Client) -> None:
    listing = client.get(URL, {"q": "dragon"}).context["listing"]
    counts = {entry.name: entry.count for group in listing.fixed_groups + listing.facet_groups for entry in group.entries}

    assert counts["Explicit"] == 1
    assert counts["General Audiences"] == 1
    assert counts["Angst"] == 1
    assert "Fluff" not in counts
    [freeforms] = [group for group in listing.facet_groups if group.name == "freeform"]
    assert freeforms.entries[0].include_url == "/search?q=dragon&include=Angst"


@pytest.mark.usefixtures("archive")
def test_pagination_keeps_the_query_and_the_filters(client: Client) -> None:
    with override_settings(WORKS_PER_PAGE=2):
        first = client.get(URL, {"q": "dragon", "sort": "title"})
        second = client.get(URL, {"q": "dragon", "sort": "title", "page": "2"})

    assert 'rel="next" href="?q=dragon&amp;sort=title&amp;page=2"' in first.content.decode()
    assert listed_titles(first) == ["Don’t Look Back", "Harbour Lights"]
    assert listed_titles(second) == ["Salt Roads"]


@pytest.mark.usefixtures("archive")
def test_a_page_past_the_end_offers_the_last_page(client: Client) -> None:
    content = page(client, {"q": "dragon", "page": "7"})

    assert "There is no page 7 of these works." in content


# --------------------------------------------------------------------- snippets and notes


def test_a_match_in_a_chapter_shows_a_snippet_linking_to_that_chapter(client: Client, archive: dict[str, Work]) -> None:
    work = archive["Harbour Lights"]

    blurb = blurb_of(page(client, {"q": "silver"}), work)

    snippet = blurb[blurb.index('<div class="snippet">') :]
    assert "<mark>silver</mark>" in snippet.lower()
    assert f'<a href="/works/{work.pk}/chapters/2/">In chapter 2</a>' in snippet


def test_a_match_outside_the_chapters_shows_a_snippet_without_a_chapter_link(
    client: Client, archive: dict[str, Work]
) -> None:
    blurb = blurb_of(page(client, {"q": "summary:pier"}), archive["Café Stories"])

    snippet = blurb[blurb.index('<div class="snippet">') :]
    assert "<mark>pier</mark>" in snippet.lower()
    assert "/chapters/" not in snippet


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize(
    "q, note",
    [
        ("the of and", NOTE_NOTHING),
        ("?!*", NOTE_NOTHING),
        ("-angst", NOTE_ONLY_EXCLUDED),
        ("dragon " * 300, NOTE_CUT),
    ],
)
def test_it_says_what_it_read_differently_from_what_was_typed(client: Client, q: str, note: str) -> None:
    content = page(client, {"q": q})

    assert f'<li class="message warning">{note}</li>' in content


# --------------------------------------------------------------------- hostile input

HOSTILE = [
    '"unbalanced quote',
    'dragon "',
    '"',
    '""',
    "OR",
    "dragon OR",
    "OR dragon",
    "AND",
    "NOT dragon",
    "-",
    "- -",
    "--dragon",
    "the",
    "the of and a",
    "***",
    "dragon*",
    "*dragon",
    "^dragon",
    "dragon^2",
    "NEAR",
    "NEAR(dragon pier)",
    "NEAR(dragon pier, 2)",
    "dragon NEAR/2 pier",
    ":",
    "title:",
    "title:(dragon)",
    "col:dragon",
    "{title}: dragon",
    "(",
    ")",
    "(dragon OR",
    "+dragon",
    "dragon~",
    "\\",
    "'",
    "’",
    "'; DROP TABLE works; --",
    'dragon" OR "1"="1',
    "%",
    "_",
    "dragon\x00pier",
    "\u200b",
    "𝕕𝕣𝕒𝕘𝕠𝕟",
    "龍",
    "ДРАКОН",
    "x" * 10_000,
    "dragon " * 2000,
    "é" * 5000,
]


@pytest.mark.usefixtures("archive")
@pytest.mark.parametrize("q", HOSTILE, ids=range(len(HOSTILE)))
def test_any_query_gives_results_or_a_message_never_an_error(client: Client, q: str) -> None:
    response = client.get(URL, {"q": q})

    assert response.status_code == 200
    content = response.content.decode()
    assert "works found</strong>" in content or "work found</strong>" in content
    assert "the filters have a mistake" not in content


# Random queries: any text, and runs of the query language's and the databases' syntax.
SYNTAX = ['"', "-", "OR", "AND", "NOT", "NEAR", "*", "^", ":", "(", ")", "{", "}", "title:", "tag:", "creator:", "'", "’", "“", "%", "_", "\\", "dragon", "pier", "the"]
RANDOM_QUERIES = st.text(max_size=300) | st.lists(st.sampled_from(SYNTAX), max_size=30).map(" ".join) | st.lists(st.sampled_from(SYNTAX), max_size=30).map("".join)


@pytest.mark.usefixtures("archive")
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=RANDOM_QUERIES)
def test_any_random_query_gives_results_or_a_message_never_an_error(client: Client, q: str) -> None:
    response = client.get(URL, {"q": q})

    assert response.status_code == 200
    content = response.content.decode()
    assert "works found</strong>" in content or "work found</strong>" in content or "Type a word" in content


# --------------------------------------------------------------------- cost


# Most of a search's queries are its backend's (matching, field scores, snippets), so the
# pin depends on the database. PostgreSQL asks the filter index for the works the filters
# allow before matching (one query: whether the index changed), to check phrases in those
# works alone; its snippets read the other fields only of works whose text did not match.
SEARCH_QUERIES = {"sqlite": 22, "postgresql": 22}


@pytest.mark.usefixtures("archive")
def test_it_pins_the_queries_of_a_search(reader: User, client_for: ClientFor) -> None:
    """Warm: the filter index built and the blurbs cached, as on any busy archive.

    A logged-in reader adds six, as on every listing: the session, the user, their saved
    exclusions, the two permission queries of the site menu's Wrangle link, and the
    header's inbox count.
    """
    url = f"{URL}?q=dragon&rating=Explicit&rating=Teen+And+Up+Audiences&sort=best"
    guest, logged_in = Client(), client_for(reader)
    assert guest.get(url).status_code == 200

    assert queries_for(guest, url, cold_cache=False) == SEARCH_QUERIES[connection.vendor]
    assert queries_for(logged_in, url, cold_cache=False) == SEARCH_QUERIES[connection.vendor] + 6


def test_it_finds_ten_works_in_as_many_queries_as_two(
    author: User, make_work: MakeWork, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    def post(numbers: range) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            for number in numbers:
                make_work(make_user(f"writer{number}"), title=f"Kraken {number}", chapters=["<p>The kraken sang.</p>"])

    url = f"{URL}?q=kraken"
    post(range(2))
    client.get(url)
    two = queries_for(client, url, cold_cache=False)
    post(range(2, 10))
    client.get(url)

    assert queries_for(client, url, cold_cache=False) == two
    assert len(found(client, {"q": "kraken"})) == 10


@pytest.mark.usefixtures("archive")
def test_a_query_with_nothing_to_search_for_costs_a_guest_no_query(client: Client) -> None:
    assert queries_for(client, f"{URL}?q=the+of") == 0


@pytest.mark.usefixtures("archive")
def test_a_search_that_runs_out_of_time_is_an_empty_page_that_says_so(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def too_slow(self: Any, query: Any, within: Any = None) -> Any:
        raise SearchTooSlow

    monkeypatch.setattr(type(get_backend()), "match", too_slow)
    content = page(client, {"q": "dragon"})

    assert f'<li class="message warning">{NOTE_TOO_SLOW}</li>' in content
    assert "0 works found" in content
