"""End-to-end journeys through a real browser: what a writer and a reader actually click.

The view tests pin each page's behaviour; these check that the pages hold together in
Chromium (forms, links, the tag autocomplete script, keyboard focus, the phone layout).
The live server runs in a thread of this process and reads the test database, so the
world built here must be committed: the tests run in transactional_db, which empties the
tables after each test. `serialized_rollback` puts back what the migrations seeded (the
archive's ratings and warnings) before the next one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Locator, Page, expect

from chapbook.people.models import User
from chapbook.works.models import Work
from tests.conftest import PASSWORD, default_tags

pytestmark = [
    # Every test here drives Chromium, including the one that opens its own contexts
    # without the `page` fixture; the marker lets CI count a skipped one as a failure.
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CHAPTER_ONE = "The lamp at the end of the pier had gone out, and nobody on the harbour would say why."
CHAPTER_TWO = "By the second winter Mara had learned to trim the wick herself, and to keep a ledger of the ships."


def password_field(page: Page, label: str) -> Locator:
    # get_by_label counts the aria-hidden "*" of a required field as label text, and a
    # password input has no role to find it by name instead.
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\W*$"))


def log_in(page: Page, user: User) -> None:
    """Log in through the login form, as a person would."""
    page.goto("/login")
    page.get_by_role("textbox", name="Username").fill(user.username)
    password_field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def chapter_nav(page: Page) -> Locator:
    # The top navigation; the bottom one repeats Previous/Next under a different name.
    return page.get_by_role("navigation", name="Chapters", exact=True)


def test_a_new_writer_signs_up_and_posts_a_two_chapter_work(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_role("textbox", name="Username").fill("mara")
    page.get_by_role("textbox", name="Email").fill("mara@example.org")
    password_field(page, "Password").fill("tide-tables-and-lamp-oil")
    password_field(page, "Password (again)").fill("tide-tables-and-lamp-oil")
    page.get_by_role("button", name="Create account").click()

    site_nav = page.get_by_role("navigation", name="Site")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(site_nav.get_by_role("link", name="mara")).to_be_visible()

    site_nav.get_by_role("link", name="Post", exact=True).click()
    expect(page.get_by_role("heading", name="Post a new work")).to_be_visible()
    page.get_by_label("Rating").select_option("Teen And Up Audiences")
    page.get_by_label("No Archive Warnings Apply").check()
    page.get_by_label("Fandoms").fill("Lighthouse Stories")
    page.get_by_role("textbox", name="Title", exact=True).fill("The Keeper's Ledger")
    page.get_by_label("Expected number of chapters").fill("2")
    page.get_by_label("Text format").select_option(label="Plain text")
    page.get_by_role("textbox", name="Text", exact=True).fill(CHAPTER_ONE)
    page.get_by_role("button", name="Post", exact=True).click()

    expect(page.locator("ul.messages")).to_contain_text("Work posted.")
    expect(page.get_by_role("heading", level=1, name="The Keeper's Ledger")).to_be_visible()
    expect(page.get_by_text(CHAPTER_ONE)).to_be_visible()
    expect(page.get_by_role("region", name="Work information")).to_contain_text("Chapters 1/2")

    page.get_by_role("link", name="Add chapter").click()
    expect(page.get_by_role("heading", name=re.compile("Add a chapter"))).to_be_visible()
    page.get_by_label("Text format").select_option(label="Plain text")
    page.get_by_role("textbox", name="Text", exact=True).fill(CHAPTER_TWO)
    page.get_by_role("button", name="Post chapter").click()

    expect(page.locator("ul.messages")).to_contain_text("Chapter added.")
    expect(page.get_by_role("region", name="Work information")).to_contain_text("Chapters 2/2")
    expect(page.get_by_text(CHAPTER_TWO)).to_be_visible()
    nav = chapter_nav(page)
    expect(nav.get_by_role("link", name="← Previous chapter")).to_be_visible()
    expect(nav.get_by_role("link", name="Entire work")).to_be_visible()
    expect(nav.get_by_role("combobox", name="Chapter")).to_have_count(1)


def test_a_guest_reads_a_two_chapter_work(
    page: Page, author: User, make_work: Callable[..., Work]
) -> None:
    make_work(author, title="Salt and Lamplight", chapters=[f"<p>{CHAPTER_ONE}</p>", f"<p>{CHAPTER_TWO}</p>"])

    page.goto("/")
    page.get_by_role("link", name="Salt and Lamplight").click()
    expect(page.get_by_role("heading", level=1, name="Salt and Lamplight")).to_be_visible()
    expect(page.get_by_text(CHAPTER_ONE)).to_be_visible()
    expect(page.get_by_text(CHAPTER_TWO)).to_have_count(0)

    chapter_nav(page).get_by_role("link", name="Next chapter →").click()
    expect(page.get_by_text(CHAPTER_TWO)).to_be_visible()
    expect(page.get_by_text(CHAPTER_ONE)).to_have_count(0)

    chapter_nav(page).get_by_role("link", name="Entire work").click()
    expect(page.get_by_text(CHAPTER_ONE)).to_be_visible()
    expect(page.get_by_text(CHAPTER_TWO)).to_be_visible()

    # Keyboard readers: the skip link is the first Tab stop and lands them in the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    # Hidden off-screen until focused, then on screen where a sighted keyboard user sees it.
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


STORY_FILE = b"""Title: The Fog Bell
Summary: A bell rings where no bell should be.

The fog came in before supper, thick enough to lean on.

Nell rang the bell every two minutes until dawn, and every two minutes something answered.

Notes: Written for the harbour ficathon. Thank you for reading!
"""


def test_a_writer_imports_a_file_through_the_form(page: Page, author: User) -> None:
    log_in(page, author)
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import a work")).to_be_visible()

    story = FilePayload(name="fog-bell.txt", mimeType="text/plain", buffer=STORY_FILE)
    page.get_by_label("Story files").set_input_files(files=[story])
    page.get_by_label("Fandoms").fill("Harbour Town")
    page.get_by_role("button", name="Import").click()

    expect(page.locator("ul.messages")).to_contain_text("Work imported.")
    expect(page.get_by_role("heading", level=1, name="The Fog Bell")).to_be_visible()
    expect(page.get_by_text("thick enough to lean on")).to_be_visible()
    end_notes = page.get_by_role("region", name="End notes")
    expect(end_notes).to_contain_text("Written for the harbour ficathon. Thank you for reading!")
    # Moved out of the story, not repeated in it.
    expect(page.locator(".userstuff")).not_to_contain_text("ficathon")
    expect(page.get_by_role("region", name="Work information")).to_contain_text("Harbour Town")


def test_tag_autocomplete_suggests_existing_tags(
    page: Page, author: User, make_work: Callable[..., Work]
) -> None:
    make_work(author, tags=default_tags(fandoms=["Starlight Harbour"]))
    log_in(page, author)
    page.goto("/works/new")

    fandoms = page.get_by_role("combobox", name="Fandoms")
    fandoms.press_sequentially("Starl")
    suggestion = page.get_by_role("listbox").get_by_role("option", name="Starlight Harbour")
    expect(suggestion).to_be_visible()
    expect(fandoms).to_have_attribute("aria-expanded", "true")

    fandoms.press("ArrowDown")
    expect(suggestion).to_have_attribute("aria-selected", "true")
    fandoms.press("Enter")
    expect(fandoms).to_have_value("Starlight Harbour, ")
    expect(suggestion).to_be_hidden()
    # Enter chose the tag; it did not submit the form.
    expect(page.get_by_role("heading", name="Post a new work")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_restricted_work_is_hidden_from_guest_in_the_browser(
    page: Page, author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, title="Members Only", chapters=[f"<p>{CHAPTER_ONE}</p>"], restricted=True)

    page.goto("/")
    expect(page.get_by_role("heading", name="Recently updated")).to_be_visible()
    expect(page.get_by_role("link", name="Members Only")).to_have_count(0)
    response = page.goto(work.get_absolute_url())
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text(CHAPTER_ONE)).to_have_count(0)

    log_in(page, reader)
    page.goto("/")
    with page.expect_response(lambda r: r.url.endswith(work.get_absolute_url())) as opened:
        page.get_by_role("link", name="Members Only").click()
    assert opened.value.status == 200
    expect(page.get_by_role("heading", level=1, name="Members Only")).to_be_visible()
    expect(page.get_by_text(CHAPTER_ONE)).to_be_visible()


def test_work_page_fits_a_phone_in_light_and_dark(
    chromium: Any,
    live_server: Any,
    author: User,
    make_work: Callable[..., Work],
    tmp_path: Path,
) -> None:
    # A long unbroken link is what usually pushes a phone page sideways.
    long_link = "https://example.org/" + "harbour" * 20
    work = make_work(
        author,
        title="Salt and Lamplight",
        chapters=[f"<p>{CHAPTER_ONE} <a href='{long_link}'>{long_link}</a></p>", f"<p>{CHAPTER_TWO}</p>"],
        summary="<p>A keeper, a lamp, a ledger.</p>",
        tags=default_tags(freeforms=["Lighthouses", "Found Family", "Slow Burn"]),
    )
    backgrounds: dict[str, str] = {}
    for scheme in ("light", "dark"):
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": 390, "height": 844}, color_scheme=scheme
        )
        context.set_default_timeout(15_000)
        try:
            phone = context.new_page()
            phone.goto(work.get_absolute_url())
            expect(phone.get_by_text(CHAPTER_ONE)).to_be_visible()
            phone.screenshot(path=str(tmp_path / f"work-{scheme}.png"), full_page=True)
            assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), scheme
            backgrounds[scheme] = phone.evaluate("getComputedStyle(document.body).backgroundColor")
        finally:
            context.close()
    assert (tmp_path / "work-light.png").stat().st_size > 0
    assert (tmp_path / "work-dark.png").stat().st_size > 0
    assert backgrounds["light"] != backgrounds["dark"]


def test_a_reader_picks_a_dark_theme_and_it_stays_after_reloading(page: Page, author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    page.emulate_media(color_scheme="light")
    page.goto(work.get_absolute_url())

    def background() -> str:
        return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))

    light = background()
    toggle = page.get_by_role("button", name="Theme: system")
    toggle.click()
    expect(page.get_by_role("button", name="Theme: light")).to_be_visible()
    page.get_by_role("button", name="Theme: light").click()
    expect(page.get_by_role("button", name="Theme: dark")).to_be_visible()
    dark = background()
    assert dark != light
    page.reload()
    expect(page.get_by_role("button", name="Theme: dark")).to_be_visible()
    assert background() == dark
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
