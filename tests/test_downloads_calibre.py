"""AZW3 and MOBI through calibre's ebook-convert, for real.

Without calibre these skip, except where CHAPBOOK_REQUIRE_CALIBRE is set (CI installs
Debian's calibre and sets it): a missing converter must not pass by skipping there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
from django.test import Client

from chapbook.people.models import User
from chapbook.works.models import Work
from chapbook.works.services import update_work

if shutil.which("ebook-convert") is None:
    if os.environ.get("CHAPBOOK_REQUIRE_CALIBRE"):
        raise RuntimeError("ebook-convert is missing and CHAPBOOK_REQUIRE_CALIBRE is set")
    pytest.skip("calibre's ebook-convert is not installed (apt-get install calibre)", allow_module_level=True)


@pytest.fixture(autouse=True)
def generated(settings: Any, tmp_path: Path) -> Path:
    settings.GENERATED_ROOT = tmp_path / "generated"
    return settings.GENERATED_ROOT


@pytest.mark.parametrize("fmt", ["azw3", "mobi"])
def test_it_converts_a_work_for_kindles_with_calibre(author: User, make_work: Callable[..., Work], fmt: str) -> None:
    work = make_work(author, title="Kindle Tide", chapters=["<p>One.</p>", "<p>Two <em>waves</em>.</p>"])

    response = Client().get(f"/works/{work.pk}/download/{fmt}")

    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    # Both are Mobipocket containers: the PalmDB header names the type at byte 60.
    assert data[60:68] == b"BOOKMOBI"
    assert f'alice - Kindle Tide.{fmt}"' in response["Content-Disposition"] or f"Kindle%20Tide.{fmt}" in response[
        "Content-Disposition"
    ]
    assert f"/works/{work.pk}/download/{fmt}" in Client().get(work.get_absolute_url()).content.decode()


def test_a_new_version_makes_a_new_kindle_file(author: User, make_work: Callable[..., Work], generated: Path) -> None:
    work = make_work(author, title="First Title")
    Client().get(f"/works/{work.pk}/download/azw3")
    first = sorted(p.name for p in generated.rglob("*.azw3"))

    update_work(work, by=author, title="Second Title")
    response = Client().get(f"/works/{work.pk}/download/azw3")

    assert response.status_code == 200 and b"".join(response.streaming_content)[60:68] == b"BOOKMOBI"
    assert sorted(p.name for p in generated.rglob("*.azw3")) != first
