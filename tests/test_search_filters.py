"""Every listing filter and sort on the search page and the API, on the listings' own archive.

The search matches all four listed works, so each filter and sort must leave exactly
what it leaves of the plain listing: the cases are the listing tests' own.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chapbook.search.tasks import index_works
from chapbook.works.models import Work
from tests.conftest import listed_titles
from tests.test_listing_pages import FILTER_CASES, SORT_CASES, archive, counted, days_ago  # noqa: F401 (fixtures)

EVERY_LISTED_WORK = "wave OR harbour"  # "wave" fills three works' chapters; Harbour Lights has its harbour


@pytest.fixture
def searchable(counted: dict[str, Work]) -> dict[str, Work]:  # noqa: F811 (the imported fixture)
    """The listings' archive with feedback counts, indexed for search."""
    index_works.call([work.pk for work in counted.values()])
    return counted


def searched(client: Client, params: dict[str, Any]) -> list[str]:
    response = client.get("/search", {"q": EVERY_LISTED_WORK, **params})
    assert response.status_code == 200, params
    return listed_titles(response)


def as_api(params: dict[str, Any]) -> dict[str, Any]:
    """The page's parameters as the API names them: `lang`, and tag names one a parameter."""
    named = {"lang" if key == "language" else key: value for key, value in params.items()}
    for key in ("include", "exclude"):
        if isinstance(named.get(key), str):
            named[key] = [name.strip() for name in named[key].split(",")]
    return named


def api_searched(client: Client, params: dict[str, Any]) -> list[str]:
    response = client.get("/api/v1/search", {"q": EVERY_LISTED_WORK, **as_api(params)})
    assert response.status_code == 200, (params, response.content)
    return [item["title"] for item in response.json()["items"]]


@pytest.mark.usefixtures("searchable")
def test_the_query_alone_finds_every_listed_work(client: Client) -> None:
    assert sorted(searched(client, {})) == ["Crossing Over", "Harbour Lights", "Paper Boats", "Salt Roads"]


@pytest.mark.usefixtures("searchable")
@pytest.mark.parametrize("params, expected", FILTER_CASES)
def test_every_listing_filter_leaves_what_it_leaves_of_the_listing(
    client: Client, params: dict[str, Any], expected: list[str]
) -> None:
    assert sorted(searched(client, params)) == sorted(expected)
    assert sorted(api_searched(client, params)) == sorted(expected)


@pytest.mark.usefixtures("searchable")
def test_the_date_filter_leaves_the_works_updated_since(client: Client) -> None:
    since = days_ago(2).date().isoformat()

    assert sorted(searched(client, {"updated_since": since})) == ["Crossing Over", "Paper Boats"]
    assert sorted(api_searched(client, {"updated_since": since})) == ["Crossing Over", "Paper Boats"]


@pytest.mark.usefixtures("searchable")
@pytest.mark.parametrize("params, expected", [(params, expected) for params, expected in SORT_CASES if params])
def test_every_sort_orders_the_works_found_as_it_orders_the_listing(
    client: Client, params: dict[str, str], expected: list[str]
) -> None:
    assert searched(client, params) == expected
    assert api_searched(client, params) == expected
