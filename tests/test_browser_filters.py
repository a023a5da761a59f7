"""The filter sidebar in a real browser: ticking, typing, following facets, hiding a tag.

Like tests/test_browser.py, the live server reads the test database from its own thread,
so the world built here is committed (transactional_db) and the seeded fixed tags are put
back after each test (serialized_rollback).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from chapbook.people.models import User
from chapbook.works.models import Work
from tests.conftest import default_tags
from tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def archive(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Harbour Lights", tags=default_tags(freeforms=["Storms"]))
    make_work(author, title="Salt Roads", tags=default_tags(ratings=["Explicit"], relationships=["Mara/Jun"], freeforms=["Storms"]))
    make_work(author, title="Calm Night", tags=default_tags(freeforms=["Fluff"]))


def sidebar(page: Page) -> Locator:
    return page.get_by_role("complementary", name="Filters")


def results(page: Page) -> Locator:
    return page.locator(".blurbs")


@pytest.mark.usefixtures("archive")
def test_a_reader_ticks_a_rating_and_types_a_tag_to_include(page: Page) -> None:
    page.goto("/works/")
    expect(page.get_by_role("heading", level=1)).to_have_text("1 – 3 of 3 Works")

    filters = sidebar(page)
    filters.get_by_label("General Audiences").check()
    filters.get_by_label("Other tags to include").fill("Storms")
    filters.get_by_role("button", name="Sort and filter").first.click()

    expect(page).to_have_url(re.compile(r"rating=General\+Audiences.*include=Storms"))
    expect(page.get_by_role("heading", level=1)).to_have_text("1 – 1 of 1 Work")
    expect(results(page).get_by_role("link", name="Harbour Lights")).to_be_visible()
    expect(results(page).get_by_role("link", name="Salt Roads")).to_have_count(0)
    expect(results(page).get_by_role("link", name="Calm Night")).to_have_count(0)
    # The form says what it applied.
    expect(sidebar(page).get_by_label("General Audiences")).to_be_checked()
    expect(sidebar(page).get_by_label("Other tags to include")).to_have_value("Storms")


@pytest.mark.usefixtures("archive")
def test_a_reader_follows_a_facet_to_narrow_the_list_then_excludes_another(page: Page) -> None:
    page.goto("/works/")

    sidebar(page).get_by_role("link", name="Storms", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("1 – 2 of 2 Works")
    expect(results(page).get_by_role("link", name="Calm Night")).to_have_count(0)
    expect(sidebar(page).get_by_label("Other tags to include")).to_have_value("Storms")

    sidebar(page).get_by_role("link", name="Exclude Mara/Jun").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("1 – 1 of 1 Work")
    expect(results(page).get_by_role("link", name="Harbour Lights")).to_be_visible()


@pytest.mark.usefixtures("archive")
def test_a_reader_always_hides_a_tag_from_the_sidebar_and_shows_it_for_one_page(page: Page, reader: User) -> None:
    log_in(page, reader)
    page.goto("/works/")

    sidebar(page).get_by_role("button", name="Always hide Storms").click()

    expect(page.get_by_role("status")).to_contain_text("Works tagged “Storms” are now hidden from every listing.")
    expect(page.get_by_role("heading", level=1)).to_have_text("1 – 1 of 1 Work")
    notice = page.get_by_role("note")
    expect(notice).to_contain_text("Hiding works tagged Storms")

    notice.get_by_role("link", name="show them on this page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("1 – 3 of 3 Works")
    page.goto("/works/")
    expect(page.get_by_role("heading", level=1)).to_have_text("1 – 1 of 1 Work")


@pytest.mark.usefixtures("archive")
def test_a_reader_hides_a_tag_by_name_with_suggestions(page: Page, reader: User) -> None:
    log_in(page, reader)
    page.goto("/exclusions")

    field = page.get_by_role("combobox", name="Tag")
    field.press_sequentially("Stor")
    expect(page.locator("datalist option[value='Storms']")).to_have_count(1)
    field.fill("Storms")
    page.get_by_role("button", name="Hide works with this tag").click()

    expect(page.get_by_role("status")).to_contain_text("Works tagged “Storms” are now hidden from every listing.")
    page.get_by_role("button", name="Stop hiding Storms").click()
    expect(page.get_by_role("status")).to_contain_text("Works tagged “Storms” are listed again.")
    expect(page.get_by_text("You hide no tags yet.")).to_be_visible()
