"""Downloads: every visible work in every format, built once per version, never for drafts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from django.test import Client

from chapbook.downloads import services
from chapbook.people.models import User
from chapbook.works.models import Work
from chapbook.works.services import update_work


@pytest.fixture(autouse=True)
def generated(settings: Any, tmp_path: Path) -> Path:
    settings.GENERATED_ROOT = tmp_path / "generated"
    return settings.GENERATED_ROOT


def test_it_downloads_a_work_as_text_with_a_readable_file_name(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, title="Café: the “Long” Tide?", chapters=["<p>The tide came in.</p>"])
    response = Client().get(f"/works/{work.pk}/download/txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    disposition = response["Content-Disposition"]
    # Non-ASCII names travel in filename*, and nothing unsafe for a file system survives.
    assert disposition.startswith("attachment;") and "filename*=utf-8''alice%20-%20Caf%C3%A9" in disposition
    assert "The tide came in." in b"".join(response.streaming_content).decode()


@pytest.mark.parametrize("fmt", ["epub", "pdf", "html", "txt"])
def test_it_offers_every_format_of_a_visible_work(author: User, make_work: Callable[..., Work], fmt: str) -> None:
    work = make_work(author)
    response = Client().get(f"/works/{work.pk}/download/{fmt}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:4] in {b"PK\x03\x04", b"%PDF"} if fmt in {"epub", "pdf"} else b"harbour" in body


def test_it_answers_404_for_drafts_restricted_works_for_guests_and_unknown_formats(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[[User], Client]
) -> None:
    draft = make_work(author, draft=True)
    restricted = make_work(author, restricted=True)
    posted = make_work(author)
    assert client_for(author).get(f"/works/{draft.pk}/download/epub").status_code == 404
    assert Client().get(f"/works/{restricted.pk}/download/txt").status_code == 404
    assert client_for(reader).get(f"/works/{restricted.pk}/download/txt").status_code == 200
    assert Client().get(f"/works/{posted.pk}/download/docx").status_code == 404


def test_it_builds_a_file_once_and_again_after_an_edit(
    author: User, make_work: Callable[..., Work], monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[str] = []
    real_render = services.render

    def counting_render(book: Any, fmt: str) -> bytes:
        builds.append(book.title)
        return real_render(book, fmt)

    monkeypatch.setattr(services, "render", counting_render)
    work = make_work(author, title="First Title")
    guest = Client()
    first = b"".join(guest.get(f"/works/{work.pk}/download/txt").streaming_content)
    b"".join(guest.get(f"/works/{work.pk}/download/txt").streaming_content)
    assert builds == ["First Title"]
    old_file = services.work_file(work, "txt")
    update_work(work, by=author, title="Second Title")
    second = b"".join(guest.get(f"/works/{work.pk}/download/txt").streaming_content)
    assert builds == ["First Title", "Second Title"]
    assert b"First Title" in first and b"Second Title" in second
    assert not old_file.exists()


def test_it_shows_a_refreshing_page_while_a_long_work_is_being_built(
    author: User, make_work: Callable[..., Work], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chapbook.downloads import views

    monkeypatch.setattr(services, "WAIT_MAX_WORDS", 0)
    class NoWorker:
        """The worker has not got to the job yet."""

        def enqueue(self, *args: object) -> None:
            pass

    monkeypatch.setattr(views, "build_work_file", NoWorker())
    work = make_work(author)
    response = Client().get(f"/works/{work.pk}/download/pdf")
    assert response.status_code == 202
    assert 'http-equiv="refresh"' in response.content.decode()


def test_it_downloads_a_whole_series_as_one_epub_of_the_parts_the_reader_may_see(
    author: User, make_work: Callable[..., Work]
) -> None:
    first = make_work(author, title="Part One", series_title="The Harbour Cycle")
    series = first.series_parts.get().series
    make_work(author, title="Part Two", series=series)
    make_work(author, title="Secret Part", series=series, restricted=True)
    response = Client().get(f"/series/{series.pk}/download/epub")
    assert response.status_code == 200
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    text = "".join(archive.read(name).decode(errors="ignore") for name in archive.namelist())
    assert "Part One" in text and "Part Two" in text and "Secret Part" not in text


def test_it_links_every_format_on_the_work_page_and_converted_ones_only_with_calibre(
    author: User, make_work: Callable[..., Work], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "ebook_convert", lambda: None)
    work = make_work(author)
    page = Client().get(work.get_absolute_url()).content.decode()
    for fmt in ["epub", "pdf", "html", "txt"]:
        assert f"/works/{work.pk}/download/{fmt}" in page
    assert "download/azw3" not in page
    monkeypatch.setattr(services, "ebook_convert", lambda: "/usr/bin/ebook-convert")
    update_work(work, by=author, title="New version")
    page = Client().get(work.get_absolute_url()).content.decode()
    assert f"/works/{work.pk}/download/azw3" in page and f"/works/{work.pk}/download/mobi" in page


def test_the_api_lists_download_links(
    author: User, make_work: Callable[..., Work], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "ebook_convert", lambda: None)  # as on a server without calibre
    work = make_work(author)
    data = Client().get(f"/api/v1/works/{work.pk}").json()
    assert set(data["downloads"]) == {"epub", "pdf", "html", "txt"}
    assert data["downloads"]["epub"].endswith(f"/works/{work.pk}/download/epub")


def test_it_names_files_safely() -> None:
    assert services.download_name(["alice"], 'A/B: "Why?" <now>', "epub") == "alice - A B Why now.epub"
    assert services.download_name([], "Untold", "txt") == "Anonymous - Untold.txt"
    assert len(services.download_name(["alice"], "x" * 400, "pdf")) <= 154


def test_it_serves_a_guest_a_built_file_from_one_query(author: User, make_work: Callable[..., Work]) -> None:
    from tests.conftest import queries_for

    work = make_work(author)
    guest = Client()
    url = f"/works/{work.pk}/download/epub"
    assert queries_for(guest, url, cold_cache=False) > 1  # the first request builds the file
    assert queries_for(guest, url, cold_cache=False) == 1


def test_it_stops_serving_a_built_file_once_the_work_is_restricted(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    guest = Client()
    assert guest.get(f"/works/{work.pk}/download/txt").status_code == 200
    update_work(work, by=author, restricted=True)
    assert guest.get(f"/works/{work.pk}/download/txt").status_code == 404


def test_an_e_reader_downloads_a_restricted_work_with_basic_auth_and_is_refused_a_wrong_password(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    import base64

    from tests.conftest import PASSWORD

    work = make_work(author, restricted=True)
    url = f"/works/{work.pk}/download/epub"

    def basic(password: str) -> str:
        return "Basic " + base64.b64encode(f"bob:{password}".encode()).decode()

    assert Client().get(url).status_code == 404
    assert Client().get(url, HTTP_AUTHORIZATION=basic(PASSWORD)).status_code == 200
    refused = Client().get(url, HTTP_AUTHORIZATION=basic("wrong"))
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Basic")
