"""A prompt meme end to end in Chromium: leave an anonymous prompt, claim it as another
writer, post the fill through the work form, see it on the prompt, reveal.

As in test_browser.py, the live server runs in a thread of this process and reads the
test database, so the world built here is committed (transactional_db).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from chapbook.collections import services as collection_services
from chapbook.collections.models import Prompt
from chapbook.people.models import User
from tests.conftest import make_user
from tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PROMPT_TEXT = "The lamp goes out in a winter storm and Nell rows across to relight it."


@pytest.fixture
def new_page(chromium: Browser, live_server: Any) -> Iterator[Callable[[], Page]]:
    """Pages in contexts of their own (one per persona), closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context = chromium.new_context(base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def test_a_prompt_meme_from_anonymous_prompt_to_reveal(
    new_page: Callable[[], Page], author: User, reader: User
) -> None:
    mona = make_user("mona")
    meme = collection_services.create_collection(
        by=mona,
        name="harbour-meme",
        title="Harbour Prompt Meme",
        prompt_meme=True,
        anonymous=True,
        required_tag_types="fandom,relationship",
        rules="<p>Be kind. One prompt per post.</p>",
    )

    # Alice leaves an anonymous prompt through the form.
    alice = new_page()
    log_in(alice, author)
    alice.goto("/collections/harbour-meme/prompts")
    expect(alice.get_by_text("Be kind. One prompt per post.")).to_be_visible()
    alice.get_by_role("link", name="Leave a prompt").click()
    alice.get_by_role("textbox", name="Title").fill("Storm Lamp")
    alice.get_by_role("textbox", name="Prompt").fill(PROMPT_TEXT)
    alice.get_by_label("Fandoms (required)").fill("Lighthouse Stories")
    alice.get_by_label("Relationships (required)").fill("Mara/Nell")
    alice.get_by_label("Post anonymously").check()
    alice.get_by_role("button", name="Post prompt").click()
    expect(alice.get_by_role("status")).to_contain_text("Prompt posted. It is anonymous.")
    expect(alice.get_by_role("heading", level=1, name="Storm Lamp")).to_be_visible()
    expect(alice.get_by_text("Prompt by Anonymous in")).to_be_visible()
    prompt = Prompt.objects.get()
    assert prompt.anonymous and prompt.user == author

    # Bob finds it, claims it and posts his fill through the work form.
    bob = new_page()
    log_in(bob, reader)
    bob.goto("/collections/harbour-meme/prompts")
    listing = bob.get_by_role("listitem").filter(has_text="Storm Lamp")
    expect(listing).to_contain_text("by Anonymous")
    expect(bob.locator("body")).not_to_contain_text("alice")
    listing.get_by_role("link", name="Storm Lamp").click()
    bob.get_by_role("button", name="Claim").click()
    expect(bob.get_by_role("status")).to_contain_text("You claimed this prompt.")
    # In a meme that hides its creators the claimers are hidden too: a named claim would
    # say who wrote the anonymous fill.
    expect(bob.get_by_role("region", name="Claims (1)")).to_contain_text("Anonymous claimed it")
    bob.get_by_role("link", name="Post a fill").click()

    expect(bob.get_by_role("heading", name="Post a new work")).to_be_visible()
    expect(bob.get_by_label("This work fills a prompt I claimed")).to_have_value(str(prompt.pk))
    bob.get_by_label("Rating").select_option("General Audiences")
    bob.get_by_label("No Archive Warnings Apply").check()
    bob.get_by_label("Fandoms").fill("Lighthouse Stories")
    bob.get_by_role("textbox", name="Title", exact=True).fill("The Long Row")
    bob.get_by_label("Text format").select_option(label="Plain text")
    bob.get_by_role("textbox", name="Text", exact=True).fill("Nell pulled at the oars until the light came back.")
    bob.get_by_role("button", name="Post", exact=True).click()

    expect(bob.locator(".messages")).to_contain_text("Work posted.")
    expect(bob.get_by_role("heading", level=1, name="The Long Row")).to_be_visible()
    response_line = bob.get_by_role("note").filter(has_text="In response to")
    expect(response_line).to_contain_text("In response to a prompt by Anonymous in Harbour Prompt Meme")

    # The fill is on the prompt's page; the meme is anonymous, so its writer is too.
    response_line.get_by_role("link", name="a prompt").click()
    fills = bob.get_by_role("region", name="Fills")
    expect(fills.get_by_role("link", name="The Long Row")).to_be_visible()
    expect(fills).to_contain_text("by Anonymous")

    # Alice was told, without learning more than the meme shows.
    alice.goto("/inbox")
    expect(alice.get_by_role("list", name="Notifications, newest first")).to_contain_text(
        "Anonymous filled your prompt “Storm Lamp” in Harbour Prompt Meme: The Long Row"
    )

    # Mona reveals the meme's creators: the fill's writer is named; the prompt stays anonymous.
    collection_services.reveal(meme, by=mona)
    bob.reload()
    expect(fills).to_contain_text("by bob")
    expect(bob.get_by_role("region", name="Claims (1)")).to_contain_text("bob claimed it")
    expect(bob.get_by_text("Prompt by Anonymous in")).to_be_visible()
    expect(bob.locator("body")).not_to_contain_text("alice")
