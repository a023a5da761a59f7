"""Feedback in a real browser: kudos as a guest, a threaded reply, a subscription's news.

Chromium runs the pages' own scripts (kudos.js, comments.js) as a reader's browser would.
As in tests/test_browser.py the live server reads the test database from its own thread,
so the world is committed (transactional_db) and the seeded ratings and warnings are put
back after each test (serialized_rollback).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from chapbook.feedback import comments as comment_services
from chapbook.people.models import User
from chapbook.works.models import Work
from chapbook.works.services import ChapterInput, add_chapter
from tests.test_browser import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MakeWork = Callable[..., Work]


def message(page: Page, text: str) -> None:
    """The flash message after a redirect (the kudos box has a status region of its own)."""
    expect(page.locator("ul.messages[role=status]")).to_contain_text(text)


def leave_guest_kudos(page: Page, work: Work) -> None:
    with page.expect_response(lambda r: r.url.endswith(f"/works/{work.pk}/kudos")) as sent:
        page.locator("#kudos").get_by_role("button", name="Kudos ♥").click()
    # The script sent the form with fetch and asked for JSON: the page did not navigate.
    assert sent.value.status == 200
    assert sent.value.headers["content-type"].startswith("application/json")
    assert page.url.endswith(work.get_absolute_url())


def test_a_guest_leaves_kudos_and_sees_the_count_change(page: Page, author: User, make_work: MakeWork) -> None:
    work = make_work(author, title="Salt and Lamplight")
    page.goto(work.get_absolute_url())
    kudos = page.locator("#kudos")
    expect(kudos.locator(".kudos-names")).to_have_text(re.compile(r"^\s*0 kudos\s*$"))

    leave_guest_kudos(page, work)

    expect(kudos.get_by_role("status")).to_have_text("Thank you for leaving kudos!")
    expect(kudos.locator('[data-kudos-count="work"]')).to_have_text("1")

    # The guest page cache moved on with the work's feedback: a fresh look says the same.
    page.reload()
    expect(page.locator(".kudos-names")).to_have_text(re.compile(r"^\s*1 kudos: 1 guest\s*$"))

    # The same browser again: refused, with the reason, and the count stays.
    page.locator("#kudos").get_by_role("button", name="Kudos ♥").click()
    expect(page.locator("#kudos").get_by_role("status")).to_have_text("You have already left kudos here.")
    expect(page.locator('#kudos [data-kudos-count="work"]')).to_have_text("1")
    work.refresh_from_db()
    assert work.kudos_count == 1


def test_the_kudos_line_names_the_guest_without_a_reload(page: Page, author: User, make_work: MakeWork) -> None:
    work = make_work(author, title="Salt and Lamplight")
    page.goto(work.get_absolute_url())

    leave_guest_kudos(page, work)

    expect(page.locator("#kudos .kudos-names")).to_have_text(re.compile(r"^\s*1 kudos: 1 guest\s*$"), timeout=3000)


def test_a_reader_replies_to_a_comment_and_sees_it_nested_under_it(
    page: Page, author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author, title="Salt and Lamplight")
    first = comment_services.post_comment(work=work, by=co_author, text="<p>The lamp scene made me cry.</p>")
    comment_services.post_comment(work=work, by=co_author, text="<p>Also: the gulls.</p>")
    log_in(page, reader)
    page.goto(work.get_absolute_url())

    original = page.locator(f"#comment-{first.pk}")
    original.get_by_role("link", name="Reply").click()
    reply_form = page.get_by_role("form", name="Reply")
    expect(reply_form).to_be_visible()
    # The form opened under the comment, with the focus in its text box.
    expect(original.get_by_role("form", name="Reply")).to_have_count(1)
    text = reply_form.get_by_role("textbox", name="Comment")
    expect(text).to_be_focused()
    text.fill("Me too, every time.")
    reply_form.get_by_role("button", name="Post comment").click()

    message(page, "Your comment was posted.")
    reply = page.locator(".comment", has_text="Me too, every time.")
    expect(reply).to_have_count(1)
    expect(reply).to_contain_text("bob")
    # Nested: inside the list of replies of the first comment's item, not a thread of its own.
    thread = page.locator("li.comment-item", has=page.locator(f"#comment-{first.pk}")).first
    expect(thread.locator(".comment-replies .comment", has_text="Me too, every time.")).to_have_count(1)
    expect(page.locator("li.comment-item.level-1", has_text="Me too, every time.")).to_have_count(1)
    saved = work.comments.get(user=reader)
    assert saved.parent_id == first.pk and saved.depth == 1


def test_a_subscriber_hears_of_a_new_chapter_in_the_inbox(
    page: Page, author: User, reader: User, make_work: MakeWork
) -> None:
    work = make_work(author, title="The Keeper's Ledger", expected_chapters=None)
    log_in(page, reader)
    page.goto(work.get_absolute_url())
    expect(page.get_by_role("region", name="Work information")).to_contain_text("1/?")

    page.get_by_role("button", name=re.compile(r"^Subscribe")).click()

    message(page, "You are subscribed to The Keeper's Ledger.")
    expect(page.get_by_role("button", name=re.compile(r"^Unsubscribe"))).to_be_visible()
    site_nav = page.get_by_role("navigation", name="Site")
    expect(site_nav.get_by_role("link", name=re.compile(r"^Inbox"))).to_have_text(re.compile(r"Inbox \(0"))

    add_chapter(work, by=author, chapter=ChapterInput(text="<p>The ledger's second winter.</p>"))

    page.reload()
    inbox_link = site_nav.get_by_role("link", name=re.compile(r"^Inbox"))
    expect(inbox_link).to_have_text(re.compile(r"Inbox \(1"))
    inbox_link.click()
    expect(page.get_by_role("heading", level=1, name="Inbox")).to_be_visible()
    notifications = page.get_by_role("list", name="Notifications, newest first")
    news = notifications.get_by_role("link", name="The Keeper's Ledger: Chapter 2 posted")
    expect(news).to_be_visible()
    expect(notifications.get_by_role("listitem")).to_have_count(1)
    expect(notifications).to_contain_text("Unread")

    news.click()
    expect(page.get_by_text("The ledger's second winter.")).to_be_visible()
    # Following it read it.
    expect(page.get_by_role("navigation", name="Site").get_by_role("link", name=re.compile(r"^Inbox"))).to_have_text(
        re.compile(r"Inbox \(0")
    )
