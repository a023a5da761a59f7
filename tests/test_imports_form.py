"""The import page: upload story files as the logged-in user."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from chapbook.people.models import Pseud, User
from chapbook.works.models import Work

CORPUS = Path(__file__).parent / "importer_corpus"
URL = reverse("imports:upload")


def upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    if data is None:
        data = (CORPUS / name).read_bytes()
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def form_data(author: User, *files: SimpleUploadedFile, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"files": list(files), "pseud": author.default_pseud.pk, "fandoms": "Original Work"}
    data.update(fields)
    return data


def test_it_sends_guests_to_log_in(db: None) -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("people:login"))


def test_it_shows_the_form_with_the_users_own_pseuds(author: User, reader: User, client_for: Callable[[User], Client]) -> None:
    Pseud.objects.create(user=author, name="Quill")
    response = client_for(author).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="file"' in html and "multiple" in html and 'enctype="multipart/form-data"' in html
    assert ">Quill (alice)<" in html and ">alice<" in html and ">bob<" not in html


def test_it_imports_a_file_and_shows_the_work(author: User, client_for: Callable[[User], Client]) -> None:
    quill = Pseud.objects.create(user=author, name="Quill")
    response = client_for(author).post(
        URL,
        form_data(author, upload("header_block.txt"), pseud=quill.pk, fandoms="Maps Fandom", freeforms="Fluff", draft="on"),
    )
    work = Work.objects.get()
    assert response.status_code == 302
    assert response["Location"] == work.get_absolute_url()
    assert work.creators == [quill]
    assert work.draft
    assert work.title == "The Cartographer's Daughter"
    assert {t.name for t in work.fandoms} == {"Maps Fandom", "Original Work"}
    # The rating left on "from the file" keeps the file's rating.
    assert [t.name for t in work.ratings] == ["General Audiences"]
    assert "Fluff" in {t.name for t in work.freeforms}


def test_it_applies_the_chosen_rating_warnings_and_title(author: User, client_for: Callable[[User], Client]) -> None:
    client_for(author).post(
        URL,
        form_data(
            author,
            upload("utf8.txt"),
            rating="Mature",
            warnings=["Major Character Death"],
            relationships="Zoë/Ned, Zoë & Cook",
            characters="Zoë",
            title="Naïve",
        ),
    )
    work = Work.objects.get()
    assert work.title == "Naïve"
    assert [t.name for t in work.ratings] == ["Mature"]
    assert [t.name for t in work.warnings] == ["Major Character Death"]
    assert sorted(t.name for t in work.relationships) == ["Zoë & Cook", "Zoë/Ned"]


def test_it_uses_the_import_defaults_when_nothing_is_chosen(author: User, client_for: Callable[[User], Client]) -> None:
    client_for(author).post(URL, form_data(author, upload("utf8.txt")))
    work = Work.objects.get()
    assert [t.name for t in work.ratings] == ["Not Rated"]
    assert [t.name for t in work.warnings] == ["Creator Chose Not To Use Archive Warnings"]


@pytest.mark.parametrize(
    ("name", "data", "fields", "message"),
    [
        ("empty.txt", b"", {}, "The submitted file is empty."),
        ("whitespace_only.txt", None, {}, "This file is empty"),
        ("binary.bin", None, {}, "does not look like a text or HTML document"),
        ("utf8.txt", None, {"fandoms": ""}, "No fandom"),
        ("utf8.txt", None, {"relationships": "Just Zoë"}, "is not a relationship"),
    ],
)
def test_it_shows_why_a_file_was_not_imported(
    author: User,
    client_for: Callable[[User], Client],
    name: str,
    data: bytes | None,
    fields: dict[str, str],
    message: str,
) -> None:
    response = client_for(author).post(URL, form_data(author, upload(name, data), **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Work.objects.exists()


@override_settings(IMPORT_MAX_BYTES=64)
def test_it_refuses_a_file_over_the_size_limit(author: User, client_for: Callable[[User], Client]) -> None:
    response = client_for(author).post(URL, form_data(author, upload("utf8.txt")))
    assert response.status_code == 200
    assert "utf8.txt: files can be at most 64" in response.content.decode()
    assert not Work.objects.exists()


def test_it_lists_each_file_of_a_multiple_upload(author: User, client_for: Callable[[User], Client]) -> None:
    response = client_for(author).post(
        URL, form_data(author, upload("utf8.txt"), upload("binary.bin"), upload("story.html"))
    )
    assert response.status_code == 200
    html = response.content.decode()
    works = list(Work.objects.order_by("pk"))
    assert len(works) == 2
    for work in works:
        assert f'href="{work.get_absolute_url()}"' in html
    assert "binary.bin: This file does not look like a text or HTML document." in html


def test_it_refuses_one_title_for_several_files(author: User, client_for: Callable[[User], Client]) -> None:
    response = client_for(author).post(URL, form_data(author, upload("utf8.txt"), upload("story.html"), title="One"))
    assert response.status_code == 200
    assert "leave it empty when uploading several files" in response.content.decode()
    assert not Work.objects.exists()


def test_it_refuses_someone_elses_pseud(author: User, reader: User, client_for: Callable[[User], Client]) -> None:
    response = client_for(author).post(URL, form_data(author, upload("utf8.txt"), pseud=reader.default_pseud.pk))
    assert response.status_code == 200
    assert not Work.objects.exists()
