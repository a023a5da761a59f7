"""Large uploads are imported by the task worker; the status page follows them."""

from __future__ import annotations

from typing import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from chapbook.imports.models import ImportJob
from chapbook.people.models import User
from chapbook.works.models import Work

URL = reverse("imports:upload")
STORY = b"Title: The Long Tide\n\nThe tide came in slowly that evening.\n\nNobody on the pier said a word.\n"


@pytest.fixture(autouse=True)
def everything_in_the_background(settings: object) -> None:
    settings.IMPORT_INLINE_MAX_BYTES = 10  # type: ignore[attr-defined]


def post(client: Client, author: User, *files: tuple[str, bytes], **fields: str) -> object:
    data = {
        "files": [SimpleUploadedFile(name, body) for name, body in files],
        "pseud": author.default_pseud.pk,
        "fandoms": "Original Work",
        **fields,
    }
    return client.post(URL, data)


def test_it_imports_a_large_file_in_the_background_and_then_shows_the_work(
    author: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(author)
    response = post(client, author, ("tide.txt", STORY))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    # The test task backend runs the job as it is enqueued; the status page then forwards.
    followed = client.get(job.get_absolute_url(), follow=True)
    work = Work.objects.get()
    assert followed.redirect_chain[-1][0] == work.get_absolute_url()
    assert "Work imported." in followed.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.work == work and bytes(job.data) == b""


def test_it_shows_why_a_background_import_was_rejected_and_saves_nothing(
    author: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(author)
    post(client, author, ("no_fandom.txt", STORY), fandoms="")
    job = ImportJob.objects.get()
    page = client.get(job.get_absolute_url()).content.decode()
    assert job.status == ImportJob.Status.FAILED
    assert "rejected:" in page and "fandom" in page.lower()
    assert Work.objects.count() == 0


def test_it_lists_every_file_of_a_background_upload(author: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(author)
    response = post(client, author, ("one.txt", STORY), ("two.txt", b"\x00\x01\x02binary"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("imports:jobs"))
    page = client.get(response["Location"]).content.decode()
    assert "one.txt" in page and "imported as" in page
    assert "two.txt" in page and "rejected:" in page


def test_it_refreshes_the_status_page_while_a_job_waits(author: User, client_for: Callable[[User], Client]) -> None:
    job = ImportJob.objects.create(user=author, filename="later.txt", data=STORY, options={})
    page = client_for(author).get(job.get_absolute_url()).content.decode()
    assert 'http-equiv="refresh"' in page and "waiting to be imported" in page


def test_it_hides_other_peoples_imports(author: User, reader: User, client_for: Callable[[User], Client]) -> None:
    job = ImportJob.objects.create(user=author, filename="mine.txt", data=STORY, options={})
    assert client_for(reader).get(job.get_absolute_url()).status_code == 404
    listing = client_for(reader).get(reverse("imports:jobs") + f"?id={job.pk}").content.decode()
    assert "mine.txt" not in listing
