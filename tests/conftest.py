"""Shared personas and builders: every test file builds its world from these."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from django.test import Client

from chapbook.people.models import Pseud, User
from chapbook.works.models import Work
from chapbook.works.services import ChapterInput, TagInput, post_work

PASSWORD = "correct horse battery staple"


def make_user(username: str, **extra: Any) -> User:
    user = User.objects.create_user(username=username, email=f"{username}@example.org", password=PASSWORD, **extra)
    Pseud.objects.create(user=user, name=username, is_default=True)
    return user


@pytest.fixture
def author(db: None) -> User:
    """Alice writes works."""
    return make_user("alice")


@pytest.fixture
def co_author(db: None) -> User:
    """Carol co-writes with Alice once she accepts."""
    return make_user("carol")


@pytest.fixture
def reader(db: None) -> User:
    """Bob is logged in and reads."""
    return make_user("bob")


@pytest.fixture
def staff(db: None) -> User:
    """Sam runs the archive."""
    return make_user("sam", is_staff=True, is_superuser=True)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    return login


def default_tags(**overrides: Any) -> TagInput:
    values: dict[str, Any] = {
        "fandoms": ["Original Work"],
        "ratings": ["General Audiences"],
        "warnings": ["No Archive Warnings Apply"],
    }
    values.update(overrides)
    return TagInput(**values)


def build_work(
    by: User,
    *,
    title: str = "A Quiet Harbour",
    chapters: list[str] | None = None,
    tags: TagInput | None = None,
    **fields: Any,
) -> Work:
    texts = chapters or ["<p>The gulls argued over the harbour wall while the tide came in.</p>"]
    work, _ = post_work(
        by=by,
        title=title,
        chapters=[ChapterInput(text=text) for text in texts],
        tags=tags or default_tags(),
        **fields,
    )
    return work


@pytest.fixture
def make_work(db: None) -> Callable[..., Work]:
    """make_work(author, title=..., chapters=[html, ...], draft=True, restricted=True, ...)"""
    return build_work


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium() -> Any:
    """A headless Debian Chromium driven by Playwright.

    Without Chromium the browser tests skip, except where CHAPBOOK_REQUIRE_BROWSER is set
    (CI), where a missing browser is a failure: CI must never pass by skipping them.
    """
    import os
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        if os.environ.get("CHAPBOOK_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and CHAPBOOK_REQUIRE_BROWSER is set")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the test's own database
    # access happens between its calls, never inside them.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, live_server: Any) -> Any:
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    import os

    if report.skipped and "browser" in report.keywords and os.environ.get("CHAPBOOK_REQUIRE_BROWSER"):
        # A browser test that skipped in CI hides a missing part: count it as a failure.
        report.outcome = "failed"


@pytest.fixture(autouse=True)
def empty_cache() -> Any:
    """Each test starts with an empty cache: rendered pages must not leak between tests."""
    from django.core.cache import cache

    from chapbook.listings import index
    from chapbook.listings.query import clear_facet_cache

    # The filter index lives in the process, keyed by the database's state; a rolled-back
    # test can leave the database exactly as an earlier one did, so it starts afresh.
    index.reset()
    clear_facet_cache()
    cache.clear()
    yield
    cache.clear()
    index.drop_snapshot()
    index.reset()


def listed_titles(response: Any) -> list[str]:
    """Titles of the works a listing page shows, in order, read from its blurbs' HTML."""
    import html
    import re

    content = response.content.decode()
    return [html.unescape(m) for m in re.findall(r'<h3 class="heading"><a href="[^"]*">([^<]*)</a>', content)]


def queries_for(client: Client, url: str, *, cold_cache: bool = True) -> int:
    """How many queries a page costs. By default with an empty cache: the worst case,
    where every rendered blurb and work body has to be built again."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if cold_cache:
        cache.clear()
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)
