"""Anonymous and unrevealed works: nothing anyone else can fetch names their creator.

The leak test fetches every page, endpoint, feed and download that can mention an
anonymous work (and an unrevealed one) as a guest, as another user and as a moderator
of the collection, and looks for the creator in the raw bytes: their username, their
pseud's name, their user id as the API would write it, their profile link. The
creator's names are chosen so that nothing else on any page can contain them.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, reverse

from chapbook.collections import prompts as prompt_services
from chapbook.collections import services as collection_services
from chapbook.collections.models import Collection, Prompt
from chapbook.downloads.services import available_formats, book_for
from chapbook.feedback import bookmarks as bookmark_services
from chapbook.feedback import comments as comment_services
from chapbook.feedback.digests import send_digest
from chapbook.feedback.models import Notification, Subscription
from chapbook.feedback.notifications import describe
from chapbook.feedback.subscriptions import subscribe
from chapbook.people.models import ApiToken, Pseud, User
from chapbook.tags.models import tag_to_url_name
from chapbook.works.models import Series, Work
from chapbook.works.services import ChapterInput, add_chapter
from tests.conftest import default_tags, login, make_user

CREATOR = "zephyrine"
PSEUD = "Quillon Vesk"
TITLE = "Lantern Under Glass"
SEALED_TITLE = "Moths at the Sill"
SERIES = "Glasswork Cycle"
FREEFORM = "Moth Lanterns"


# --- The world ------------------------------------------------------------------------


@dataclass
class World:
    creator: User
    pseud: Pseud
    reader: User
    moderator: User
    work: Work  # anonymous
    sealed: Work  # anonymous and unrevealed
    series: Series
    collection: Collection
    sealed_collection: Collection
    prompt: Prompt  # anonymous, by her; claimed by Bob; filled by `work`
    tokens: dict[str, str]


@pytest.fixture
def world(db: None, reader: User, django_capture_on_commit_callbacks: Any) -> World:
    """zephyrine writes as "Quillon Vesk" for an anonymous exchange and an unrevealed one.

    Bob (a reader) subscribes to her, her series and the work, comments on the work, and
    she answers; she bookmarks her own work in public and adds a chapter. Mona moderates
    both collections. Everything queued for after a commit (indexing, digests) is run.
    """
    from chapbook.works.services import post_work

    with django_capture_on_commit_callbacks(execute=True):
        creator = make_user(CREATOR)
        pseud = Pseud.objects.create(user=creator, name=PSEUD)
        moderator = make_user("mona")
        collection = collection_services.create_collection(
            by=moderator, name="lantern-fest", title="Lantern Fest", anonymous=True, prompt_meme=True
        )
        sealed_collection = collection_services.create_collection(
            by=moderator, name="sealed-fest", title="Sealed Fest", anonymous=True, unrevealed=True
        )
        # She has a series already, which Bob follows, as he follows her.
        post_work(
            by=creator,
            title="Glass Blowing for Beginners",
            chapters=[ChapterInput(text="<p>Heat, breath, patience.</p>")],
            tags=default_tags(),
            series_title=SERIES,
            draft=True,
        )
        series = Series.objects.get(title=SERIES)
        Subscription.objects.create(user=reader, creator=creator)
        Subscription.objects.create(user=reader, series=series)
        # She leaves an anonymous prompt, Bob claims it, and her anonymous work fills it.
        prompt = prompt_services.post_prompt(
            collection=collection, by=creator, pseud=pseud, anonymous=True, title="Lanterns, please",
            text="Something about moths and a lantern.", tags=default_tags(freeforms=[FREEFORM]),
        )
        prompt_services.claim(prompt=prompt, by=reader)
        work, _ = post_work(
            by=creator,
            title=TITLE,
            pseuds=[pseud],
            chapters=[
                ChapterInput(text="<p>The lantern hummed under its bell of glass.</p>"),
                ChapterInput(text="<p>By dawn the moths had gone home.</p>"),
            ],
            tags=default_tags(freeforms=[FREEFORM]),
            summary="<p>A lantern, a jar, a long night.</p>",
            series=series,
            gifts=["bob"],
            collections=["lantern-fest"],
            fill_prompt=prompt,
        )
        work.refresh_from_db()

        subscribe(by=reader, work=work)
        question = comment_services.post_comment(work=work, by=reader, text="Who wrote this? It is lovely.")
        comment_services.post_comment(work=work, by=creator, pseud=pseud, parent=question, text="Thank you, truly.")
        bookmark_services.save_bookmark(by=creator, work=work, pseud=pseud, notes="My own lantern.", rec=True)
        add_chapter(work, by=creator, chapter=ChapterInput(text="<p>A third night, and the glass sang.</p>"))

        sealed, _ = post_work(
            by=creator,
            title=SEALED_TITLE,
            chapters=[ChapterInput(text="<p>The sill was cold; the moths did not mind.</p>")],
            tags=default_tags(freeforms=[FREEFORM]),
            collections=["sealed-fest"],
        )
        sealed.refresh_from_db()
        send_digest.call(reader.pk)

    assert work.anonymous and not work.unrevealed and not work.draft
    assert prompt.fills.filter(work=work).exists()
    assert sealed.anonymous and sealed.unrevealed and not sealed.draft
    tokens = {user.username: ApiToken.issue(user)[1] for user in (reader, moderator, creator)}
    return World(creator, pseud, reader, moderator, work, sealed, series, collection, sealed_collection, prompt, tokens)


# --- Looking for the creator in bytes ---------------------------------------------------


def forbidden(world: World) -> list[re.Pattern[bytes]]:
    """Everything that would name the creator: names (any case, escaped or not), her user
    id as JSON writes one, and links to her pages."""
    user_id = world.creator.pk
    return [
        re.compile(rb"zephyrine", re.IGNORECASE),
        re.compile(rb"quillon", re.IGNORECASE),
        re.compile(rb"vesk", re.IGNORECASE),
        re.compile(rb'"(?:user|user_id|creator|creator_id|pseud|pseud_id)"\s*:\s*%d\b' % user_id),
        re.compile(rb"/users/%d\b" % user_id),
        re.compile(rb"pseud[^\"'\s<]{0,20}[=:/]\s*%d\b" % world.pseud.pk),
    ]


def echoes(query: str) -> list[bytes]:
    """The ways a page can repeat what was typed into it (its search box, its links)."""
    forms = {query, html.escape(query), html.escape(query, quote=False), quote_plus(query), quote(query), quote(query, safe="")}
    forms |= {html.escape(form) for form in list(forms)}
    return sorted((form.encode() for form in forms), key=len, reverse=True)


def leaks(world: World, body: bytes, typed: str = "") -> list[str]:
    if typed:
        for echo in echoes(typed):
            body = body.replace(echo, b"")
    found = []
    for pattern in forbidden(world):
        for match in pattern.finditer(body):
            start = max(match.start() - 80, 0)
            found.append(body[start : match.end() + 80].decode(errors="replace"))
    return found


def epub_parts(body: bytes) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for name in archive.namelist():
            yield name, archive.read(name)


def pdf_parts(body: bytes) -> Iterator[tuple[str, bytes]]:
    """The PDF as stored, and every compressed stream in it inflated (metadata may be in one)."""
    yield "raw", body
    for number, match in enumerate(re.finditer(rb"stream\r?\n", body)):
        try:
            yield f"stream {number}", zlib.decompressobj().decompress(body[match.end() :])
        except zlib.error:
            continue


def response_parts(response: Any) -> Iterator[tuple[str, bytes]]:
    """Every byte a response gives away: headers (a download's file name) and body."""
    for header, value in response.items():
        yield f"header {header}", f"{header}: {value}".encode()
    body = response.getvalue() if response.streaming else response.content
    content_type = response.get("Content-Type", "")
    if content_type.startswith("application/epub"):
        yield from epub_parts(body)
    elif content_type.startswith("application/pdf"):
        yield from pdf_parts(body)
    else:
        yield "body", body


# --- Who asks, and where ----------------------------------------------------------------


@dataclass
class Viewer:
    name: str
    client: Client
    token: str | None

    def get(self, url: str) -> Any:
        if url.startswith("/api/") and self.token:
            return self.client.get(url, HTTP_AUTHORIZATION=f"Bearer {self.token}")
        return self.client.get(url)


def viewers(world: World) -> list[Viewer]:
    return [
        Viewer("guest", Client(), None),
        Viewer("another user", login(world.reader), world.tokens["bob"]),
        Viewer("moderator", login(world.moderator), world.tokens["mona"]),
    ]


def tag_path(name: str) -> str:
    return quote(tag_to_url_name(name))


def optional_url(name: str, *args: Any) -> list[str]:
    """A URL of another helper's app, when it exists yet."""
    try:
        return [reverse(name, args=args)]
    except NoReverseMatch:
        return []


def work_urls(work: Work) -> list[str]:
    """Every URL that shows one work, its text, its feedback or its files."""
    pk = work.pk
    return [
        f"/works/{pk}/",
        f"/works/{pk}/?view_full_work=true",
        *(f"/works/{pk}/chapters/{position}/" for position in range(1, work.chapter_count + 1)),
        f"/works/{pk}/bookmarks",
        *(f"/works/{pk}/download/{fmt}" for fmt in available_formats()),
        f"/api/v1/works/{pk}",
        f"/api/v1/works/{pk}/comments",
    ]


def shared_urls(world: World) -> list[tuple[str, str]]:
    """(URL, what was typed into it) of every page that lists works or mentions them."""
    searches = [TITLE, "lantern", f"creator:{CREATOR}", f'creator:"{PSEUD}"', "Quillon", CREATOR, SEALED_TITLE]
    urls: list[tuple[str, str]] = [
        ("/", ""),
        ("/works/", ""),
        ("/works/?sort=creator", ""),
        ("/works/?sort=creator&order=desc", ""),
        (f"/tags/{tag_path(FREEFORM)}/works", ""),
        (f"/tags/{tag_path(FREEFORM)}/", ""),
        (f"/tags/{tag_path('Original Work')}/works", ""),
        ("/fandoms/", ""),
        ("/series/", ""),
        (f"/series/{world.series.pk}/", ""),
        (f"/series/{world.series.pk}/feed.atom", ""),
        (f"/series/{world.series.pk}/download/epub", ""),
        ("/bookmarks", ""),
        ("/users/bob/gifts", ""),
        ("/users/bob", ""),
        ("/works/feed.atom", ""),
        (f"/tags/{tag_path(FREEFORM)}/feed.atom", ""),
        ("/opds/", ""),
        ("/opds/recent", ""),
        ("/opds/fandoms", ""),
        ("/opds/series", ""),
        (f"/opds/series/{world.series.pk}", ""),
        (f"/opds/tags/{tag_path('Original Work')}", ""),
        ("/api/v1/works", ""),
        ("/api/v1/works?sort=creator", ""),
        (f"/api/v1/works?include={quote_plus(FREEFORM)}&facets=true", ""),
        (f"/api/v1/tags/{tag_path(FREEFORM)}", ""),
        ("/inbox", ""),
        ("/api/v1/inbox", ""),
        ("/api/v1/bookmarks", ""),
    ]
    for typed in searches:
        urls += [
            (f"/search?q={quote_plus(typed)}", typed),
            (f"/api/v1/search?q={quote_plus(typed)}", typed),
            (f"/opds/search?q={quote_plus(typed)}", typed),
        ]
    for name in ("collections:detail", "collections:works", "collections:prompts", "collections:items"):
        for collection in (world.collection, world.sealed_collection):
            urls += [(url, "") for url in optional_url(name, collection.name)]
    name, prompt = world.collection.name, world.prompt.pk
    urls += [(url, "") for url in optional_url("collections:prompt", name, prompt)]
    urls += [(url, "") for url in optional_url("collections:claims")]
    urls += [("/collections", ""), (f"/api/v1/collections/{name}", ""), (f"/api/v1/collections/{name}/prompts", "")]
    urls += [(f"/api/v1/collections/{name}/prompts?unfilled=true", ""), (f"/api/v1/collections/{name}/prompts?sort=claims", "")]
    return urls


# --- The leak test ----------------------------------------------------------------------


def test_nothing_anyone_else_can_fetch_names_the_creator_of_an_anonymous_work(world: World) -> None:
    problems = []
    for viewer in viewers(world):
        urls = [(url, "") for url in work_urls(world.work)] + shared_urls(world)
        if viewer.name == "moderator":
            urls += [(url, "") for url in work_urls(world.sealed)]
        for url, typed in urls:
            response = viewer.get(url)
            assert response.status_code in {200, 202, 302, 401, 403, 404}, (viewer.name, url, response.status_code)
            for part, body in response_parts(response):
                for excerpt in leaks(world, body, typed):
                    problems.append(f"{viewer.name} {url} [{part}]: …{excerpt}…")
    assert problems == []


def test_the_leak_test_looks_where_the_work_is(world: World) -> None:
    """The pages above really show the anonymous work: the leak test is not passing on 404s."""
    name = world.collection.name
    shown = [
        f"/works/{world.work.pk}/",
        "/works/",
        f"/tags/{tag_path(FREEFORM)}/works",
        f"/search?q={quote_plus(TITLE)}",
        f"/api/v1/search?q={quote_plus(TITLE)}",
        "/api/v1/works",
        "/works/feed.atom",
        f"/tags/{tag_path(FREEFORM)}/feed.atom",
        "/opds/recent",
        "/users/bob/gifts",
        *optional_url("collections:detail", name),
        *optional_url("collections:prompt", name, world.prompt.pk),
    ]
    for viewer in viewers(world):
        for url in shown:
            response = viewer.get(url)
            assert response.status_code == 200 and TITLE.encode() in response.content, (viewer.name, url)
        download = viewer.get(f"/works/{world.work.pk}/download/txt")
        assert TITLE.encode() in download.getvalue()


def test_the_anonymous_work_is_shown_to_everyone_as_by_anonymous(world: World) -> None:
    for viewer in viewers(world):
        page = viewer.get(f"/works/{world.work.pk}/").content.decode()
        assert TITLE in page
        assert re.search(r'class="byline">by <span class="anonymous">Anonymous</span>', page), viewer.name
        assert "you are its creator" not in page
        assert "Edit work" not in page and f"/works/{world.work.pk}/edit" not in page

        data = viewer.get(f"/api/v1/works/{world.work.pk}").json()
        assert data["creators"] == [] and data["anonymous"] is True
        listed = viewer.get("/api/v1/works").json()["items"]
        assert [item["creators"] for item in listed if item["id"] == world.work.pk] == [[]]


def test_the_unrevealed_work_is_not_found_by_guests_and_other_users(world: World) -> None:
    sealed = world.sealed
    for viewer in viewers(world)[:2]:
        for url in work_urls(sealed):
            response = viewer.get(url)
            assert response.status_code == 404, (viewer.name, url, response.status_code)
            assert SEALED_TITLE.encode() not in response.content
        for url, typed in shared_urls(world):
            response = viewer.get(url)
            for part, body in response_parts(response):
                for echo in echoes(typed) if typed else []:
                    body = body.replace(echo, b"")
                assert SEALED_TITLE.encode() not in body, (viewer.name, url, part)
                assert f"/works/{sealed.pk}/".encode() not in body, (viewer.name, url, part)


def test_the_moderator_sees_the_unrevealed_work_without_its_creator(world: World) -> None:
    client = login(world.moderator)
    page = client.get(f"/works/{world.sealed.pk}/").content.decode()
    assert SEALED_TITLE in page and "Anonymous" in page
    assert leaks(world, page.encode()) == []


def test_the_creator_sees_she_wrote_it_and_can_edit_it(world: World) -> None:
    client = login(world.creator)
    page = client.get(f"/works/{world.work.pk}/").content.decode()
    assert "Anonymous</span> <span class=\"muted\">(you are its creator)</span>" in page
    assert f"/works/{world.work.pk}/edit" in page
    # Her own pages still list it for her, and only for her.
    assert TITLE in client.get(f"/users/{CREATOR}").content.decode()


def test_the_creators_pages_do_not_list_her_anonymous_works(world: World) -> None:
    pseud_path = quote(PSEUD)
    pages = [
        f"/users/{CREATOR}",
        f"/users/{CREATOR}/works",
        f"/users/{CREATOR}/pseuds",
        f"/users/{CREATOR}/pseuds/{pseud_path}",
        f"/users/{CREATOR}/pseuds/{pseud_path}/works",
        f"/users/{CREATOR}/pseuds/{pseud_path}/feed.atom",
        f"/users/{CREATOR}/bookmarks",
        f"/users/{CREATOR}/gifts",
    ]
    for viewer in viewers(world):
        for url in pages:
            response = viewer.get(url)
            assert response.status_code == 200, (viewer.name, url)
            for title, work in ((TITLE, world.work), (SEALED_TITLE, world.sealed)):
                assert title.encode() not in response.content, (viewer.name, url, title)
                assert f"/works/{work.pk}/".encode() not in response.content, (viewer.name, url, title)
        pseuds = viewer.get(f"/users/{CREATOR}/pseuds").content.decode()
        assert re.search(rf">{PSEUD}</a>\s*<span class=\"muted\">· 0 works", pseuds), viewer.name


def test_others_trying_to_edit_get_the_plain_refusal(world: World) -> None:
    client = login(world.reader)
    pk = world.work.pk
    for url in (f"/works/{pk}/edit", f"/works/{pk}/chapters/1/edit", f"/works/{pk}/delete", f"/works/{pk}/chapters/new"):
        for response in (client.get(url), client.post(url, {"title": "Mine now"})):
            assert response.status_code in {403, 404}, url
            assert leaks(world, response.content) == [], url
    api = Client().patch(
        f"/api/v1/works/{pk}", {"title": "Mine now"}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world.tokens['bob']}",
    )
    assert api.status_code == 403 and leaks(world, api.content) == []


def test_subscribers_hear_nothing_that_names_her(world: World) -> None:
    texts = [describe(n) for n in Notification.objects.filter(user=world.reader).order_by("pk")]
    # Not announced to her subscribers or her series' (either would name her), but the
    # reply and the new chapter reach Bob, signed by no one.
    assert texts == [
        f"Anonymous Creator replied to your comment on {TITLE}",
        f"{TITLE}: Chapter 3 posted",
    ]
    sent = [message for message in mail.outbox if message.to == [world.reader.email]]
    assert sent, "Bob's digest went out"
    for message in sent:
        parts = [str(message.subject), str(message.body), *(str(a[0]) for a in getattr(message, "alternatives", []))]
        content = "".join(parts).encode()
        assert leaks(world, content) == []


def test_comments_by_the_creator_are_signed_anonymous_creator(world: World) -> None:
    page = Client().get(f"/works/{world.work.pk}/?view_full_work=true").content.decode()
    assert '<strong class="comment-author">Anonymous Creator <span class="muted">' not in page
    assert re.search(r'<strong class="comment-author">Anonymous Creator</strong>', page)
    data = Client().get(f"/api/v1/works/{world.work.pk}/comments").json()
    authors = [item["author"] for item in data["items"]]
    assert {"pseud": "Anonymous Creator", "user": None, "guest": None} in authors
    reply = next(item for item in data["items"] if item["parent"])
    # Answering her reply: the form names whom it answers.
    form = login(world.reader).get(f"/comments/{reply['id']}/reply")
    assert "Reply to Anonymous Creator" in form.content.decode()
    assert leaks(world, form.content) == []


def test_every_file_and_its_name_says_anonymous(world: World) -> None:
    book = book_for(world.work)
    assert book.creators == ["Anonymous"] and book.series == []
    assert leaks(world, repr(book).encode()) == []
    response = Client().get(f"/works/{world.work.pk}/download/epub")
    assert f"Anonymous - {TITLE}.epub" in response["Content-Disposition"]
    opf = dict(epub_parts(response.getvalue()))
    package = next(body for name, body in opf.items() if name.endswith(".opf"))
    assert b">Anonymous</dc:creator>" in package


def test_search_does_not_find_it_by_her_names(world: World) -> None:
    for typed in (f"creator:{CREATOR}", f'creator:"{PSEUD}"', PSEUD, CREATOR):
        data = Client().get(f"/api/v1/search?q={quote_plus(typed)}").json()
        assert [item["id"] for item in data["items"]] == [], typed
    found = Client().get(f"/api/v1/search?q={quote_plus(TITLE)}").json()
    assert [item["id"] for item in found["items"]] == [world.work.pk]
    assert found["items"][0]["creators"] == []


def test_her_own_bookmark_of_it_is_shown_to_her_only(world: World) -> None:
    assert "My own lantern." in login(world.creator).get(f"/works/{world.work.pk}/bookmarks").content.decode()
    for viewer in viewers(world):
        assert "My own lantern." not in viewer.get(f"/works/{world.work.pk}/bookmarks").content.decode()


def test_once_creators_are_revealed_the_pages_name_her(world: World, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        collection_services.reveal(world.collection, by=world.moderator, works=False, creators=True)
    page = Client().get(f"/works/{world.work.pk}/").content.decode()
    assert f'href="/users/{CREATOR}/pseuds/{quote(PSEUD)}"' in page or PSEUD in page
    data = Client().get(f"/api/v1/works/{world.work.pk}").json()
    assert data["anonymous"] is False and data["creators"] == [{"pseud": PSEUD, "user": CREATOR}]
    found = Client().get(f"/api/v1/search?q={quote_plus(f'creator:{CREATOR}')}").json()
    assert [item["id"] for item in found["items"]] == [world.work.pk]



def test_her_series_does_not_show_her_anonymous_work_to_others(world: World) -> None:
    """A series names its owner: others' anonymous works are no part of it for a reader."""
    pk = world.series.pk
    for viewer in viewers(world):
        for url in (f"/series/{pk}/", f"/series/{pk}/feed.atom", f"/series/{pk}/download/epub", f"/opds/series/{pk}"):
            assert viewer.get(url).status_code == 404, (viewer.name, url)
        assert SERIES not in viewer.get("/series/").content.decode()
        page = viewer.get(f"/works/{world.work.pk}/").content.decode()
        assert SERIES not in page and f"/series/{pk}/" not in page
    mine = login(world.creator)
    assert TITLE in mine.get(f"/series/{pk}/").content.decode()
    assert SERIES in mine.get(f"/works/{world.work.pk}/").content.decode()
