"""Zips of EPUBs (a collection's works, a reader's bookmarks) and what a file's title page
says about a work's collections and prompts."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from chapbook.collections import prompts
from chapbook.collections import services as collections
from chapbook.downloads import services
from chapbook.feedback.bookmarks import save_bookmark
from chapbook.people.models import User
from chapbook.works.models import Work
from chapbook.works.services import update_work

MakeWork = Callable[..., Work]


@pytest.fixture(autouse=True)
def generated(settings: Any, tmp_path: Path) -> Path:
    settings.GENERATED_ROOT = tmp_path / "generated"
    return settings.GENERATED_ROOT


def unzip(response: Any) -> dict[str, bytes]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {name: archive.read(name) for name in archive.namelist()}


def epub_text(epub: bytes) -> str:
    archive = zipfile.ZipFile(io.BytesIO(epub))
    assert archive.read("mimetype") == b"application/epub+zip"
    return "".join(archive.read(name).decode(errors="ignore") for name in archive.namelist())


def test_a_collection_downloads_as_one_epub_per_visible_work(
    author: User, reader: User, make_work: MakeWork, client_for: Callable[[User], Client]
) -> None:
    fest = collections.create_collection(by=author, name="winter-fest", title="Winter Fest: “Cold” Nights")
    for title, extra in (("Snow", {}), ("Ice", {}), ("Members' frost", {"restricted": True})):
        collections.add_work(fest, by=author, work=make_work(author, title=title, **extra))
    make_work(author, title="Not in it")

    response = Client().get("/collections/winter-fest/download.zip")
    files = unzip(response)
    assert sorted(files) == ["alice - Ice.epub", "alice - Snow.epub"]
    assert "Snow" in epub_text(files["alice - Snow.epub"])
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''Winter%20Fest%20%E2%80%9CCold%E2%80%9D%20Nights.zip" in disposition
    assert len(unzip(client_for(reader).get("/collections/winter-fest/download.zip"))) == 3
    assert Client().get("/collections/nothing/download.zip").status_code == 404


def test_a_collection_zip_leaves_unrevealed_works_out_and_keeps_anonymous_ones_anonymous(
    author: User, make_work: MakeWork, client_for: Callable[[User], Client]
) -> None:
    masked = collections.create_collection(by=author, name="masked", title="Masked", anonymous=True)
    collections.add_work(masked, by=author, work=make_work(author, title="Whose?"))
    hidden = collections.create_collection(by=author, name="hidden", title="Hidden", unrevealed=True)
    collections.add_work(hidden, by=author, work=make_work(author, title="Later"))

    files = unzip(Client().get("/collections/masked/download.zip"))
    assert list(files) == ["Anonymous - Whose.epub"]
    assert "alice" not in epub_text(files["Anonymous - Whose.epub"])
    assert client_for(author).get("/collections/hidden/download.zip").status_code == 404


def test_a_zip_is_built_once_and_again_after_an_edit(
    author: User, make_work: MakeWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    fest = collections.create_collection(by=author, name="fest", title="Fest")
    work = make_work(author, title="First")
    collections.add_work(fest, by=author, work=work)
    builds: list[int] = []
    real = services.write_zip
    monkeypatch.setattr(services, "write_zip", lambda path, works: (builds.append(len(works)), real(path, works))[1])

    unzip(Client().get("/collections/fest/download.zip"))
    unzip(Client().get("/collections/fest/download.zip"))
    assert builds == [1]
    work.refresh_from_db()
    update_work(work, by=author, title="Second")
    files = unzip(Client().get("/collections/fest/download.zip"))
    assert builds == [1, 1] and list(files) == ["alice - Second.epub"]
    assert len(list((Path(services.zip_file("collections", fest.pk, "guest", [work]))).parent.glob("*.zip"))) == 1


def test_a_big_zip_gets_the_page_that_refreshes(
    author: User, make_work: MakeWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chapbook.downloads import views

    class NoWorker:
        def enqueue(self, *args: object) -> None:
            pass

    monkeypatch.setattr(services, "WAIT_MAX_WORDS", 0)
    monkeypatch.setattr(views, "build_zip_file", NoWorker())
    fest = collections.create_collection(by=author, name="fest", title="Fest")
    collections.add_work(fest, by=author, work=make_work(author))
    response = Client().get("/collections/fest/download.zip")
    assert response.status_code == 202 and 'http-equiv="refresh"' in response.content.decode()


def test_bookmarks_download_as_the_public_ones_or_the_owners_all(
    author: User, reader: User, make_work: MakeWork, client_for: Callable[[User], Client]
) -> None:
    save_bookmark(by=reader, work=make_work(author, title="Loved"))
    save_bookmark(by=reader, work=make_work(author, title="Guilty pleasure"), private=True)
    save_bookmark(by=reader, work=make_work(author, title="Members", restricted=True))

    assert sorted(unzip(Client().get("/users/bob/bookmarks/download.zip"))) == ["alice - Loved.epub"]
    assert sorted(unzip(client_for(author).get("/users/bob/bookmarks/download.zip"))) == [
        "alice - Loved.epub", "alice - Members.epub",
    ]  # fmt: skip
    assert sorted(unzip(client_for(reader).get("/users/bob/bookmarks/download.zip"))) == [
        "alice - Guilty pleasure.epub", "alice - Loved.epub", "alice - Members.epub",
    ]  # fmt: skip
    assert Client().get("/users/alice/bookmarks/download.zip").status_code == 404  # nothing bookmarked


def test_pages_link_the_zips(author: User, reader: User, make_work: MakeWork) -> None:
    collections.create_collection(by=author, name="fest", title="Fest")
    assert "/collections/fest/download.zip" in Client().get("/collections/fest").content.decode()
    assert "/users/bob/bookmarks/download.zip" in Client().get("/users/bob/bookmarks").content.decode()


def test_names_in_a_zip_are_never_used_twice(author: User, make_work: MakeWork) -> None:
    works = [make_work(author, title="Same"), make_work(author, title="Same")]
    assert services.member_names(works) == ["alice - Same.epub", "alice - Same (2).epub"]


# --- the title page ----------------------------------------------------------------------


def test_the_title_page_names_collections_and_the_prompt_but_never_an_anonymous_prompter(
    author: User, reader: User, make_work: MakeWork
) -> None:
    meme = collections.create_collection(by=reader, name="meme", title="Kink Meme", prompt_meme=True)
    prompt = prompts.post_prompt(collection=meme, by=reader, text="<p>Storms, please.</p>", anonymous=True)
    work = make_work(author, title="Answer")
    prompts.fill_prompt(work=work, prompt=prompt, by=author)
    work.refresh_from_db()
    for fmt in ("html", "txt"):
        body = b"".join(Client().get(f"/works/{work.pk}/download/{fmt}").streaming_content).decode()
        assert "In response to a prompt by Anonymous in Kink Meme." in body, fmt
        assert "Kink Meme" in body and "bob" not in body, fmt
    epub = b"".join(Client().get(f"/works/{work.pk}/download/epub").streaming_content)
    text = epub_text(epub)
    assert "In response to a prompt by Anonymous in Kink Meme." in text and "bob" not in text
