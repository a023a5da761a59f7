"""chapbook import PATH... --pseud NAME: each file imported on its own, reported on its own line."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from chapbook.people.models import User
from chapbook.works.models import Work

CORPUS = Path(__file__).parent / "importer_corpus"

pytestmark = pytest.mark.django_db


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(*args: str) -> Run:
    out, err = StringIO(), StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err)
    except CommandError as error:
        err.write(f"{error}\n")
        return Run(error.returncode, out.getvalue(), err.getvalue())
    return Run(0, out.getvalue(), err.getvalue())


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A folder holding copies of the corpus files the tests name, plus a few of its own."""
    # The corpus is part of the repository: a missing file fails the test rather than skipping it.
    for name in ["utf8.txt", "header_block.txt", "empty.txt", "binary.bin", "story.html"]:
        assert (CORPUS / name).exists(), f"importer corpus file {name} is missing"
        shutil.copy(CORPUS / name, tmp_path / name)
    (tmp_path / "the_quiet_harbour.txt").write_text("The tide came in over the harbour wall.\n", encoding="utf-8")
    return tmp_path


def test_it_imports_a_file_and_reports_its_url_and_length(files: Path) -> None:
    result = run(str(files / "utf8.txt"), "--pseud", "quillfeather", "--fandom", "Original Work")
    work = Work.objects.get()
    assert result.code == 0, result.err
    assert result.out == f"imported {files / 'utf8.txt'} → {settings.BASE_URL}/works/{work.pk}/ ({work.word_count} words)\n"
    assert result.err == ""
    assert not work.draft


def test_it_creates_the_user_and_pseud_it_credits(files: Path) -> None:
    run(str(files / "utf8.txt"), "--pseud", "quillfeather", "--fandom", "Original Work")
    user = User.objects.get(username="quillfeather")
    assert not user.has_usable_password()
    assert Work.objects.get().creators == [user.default_pseud]
    assert user.default_pseud.name == "quillfeather"


def test_it_requires_a_pseud(files: Path) -> None:
    result = run(str(files / "utf8.txt"), "--fandom", "Original Work")
    assert result.code == 1
    assert "--pseud NAME is required" in result.err
    assert not Work.objects.exists()


def test_it_refuses_a_title_for_several_files(files: Path) -> None:
    result = run(str(files / "utf8.txt"), str(files / "story.html"), "--pseud", "quill", "--title", "One")
    assert result.code == 1
    assert "--title names one work" in result.err
    assert not Work.objects.exists()


def test_it_applies_every_option(files: Path) -> None:
    result = run(
        str(files / "utf8.txt"),
        "--pseud", "quillfeather",
        "--fandom", "Original Work", "--fandom", "Cafés",
        "--rating", "Teen And Up Audiences",
        "--warning", "No Archive Warnings Apply",
        "--relationship", "Zoë/The Man With The Library Book",
        "--character", "Zoë",
        "--tag", "Snow", "--tag", "Coffee",
        "--title", "Naïve",
        "--draft",
    )  # fmt: skip
    assert result.code == 0, result.err
    work = Work.objects.get()
    assert work.title == "Naïve"
    assert work.draft
    assert {t.name for t in work.fandoms} == {"Original Work", "Cafés"}
    assert [t.name for t in work.ratings] == ["Teen And Up Audiences"]
    assert [t.name for t in work.warnings] == ["No Archive Warnings Apply"]
    assert [t.name for t in work.relationships] == ["Zoë/The Man With The Library Book"]
    assert [t.name for t in work.characters] == ["Zoë"]
    assert {t.name for t in work.freeforms} == {"Snow", "Coffee"}


def test_it_uses_the_defaults_and_the_file_name_when_the_file_says_nothing(files: Path) -> None:
    run(str(files / "the_quiet_harbour.txt"), "--pseud", "quill", "--fandom", "Original Work")
    work = Work.objects.get()
    assert work.title == "the quiet harbour"
    assert [t.name for t in work.ratings] == ["Not Rated"]
    assert [t.name for t in work.warnings] == ["Creator Chose Not To Use Archive Warnings"]


def test_it_takes_the_fandom_from_the_file_header(files: Path) -> None:
    result = run(str(files / "header_block.txt"), "--pseud", "quillfeather")
    assert result.code == 0, result.err
    assert [t.name for t in Work.objects.get().fandoms] == ["Original Work"]


def test_it_rejects_a_file_without_a_fandom_and_creates_no_user(files: Path) -> None:
    result = run(str(files / "utf8.txt"), "--pseud", "quillfeather")
    assert result.code == 2
    assert f"{files / 'utf8.txt'}: rejected: No fandom" in result.err
    assert result.out == ""
    assert not Work.objects.exists()
    assert not User.objects.filter(username="quillfeather").exists()


@override_settings(IMPORT_MAX_BYTES=64)
def test_it_rejects_a_file_over_the_size_limit(files: Path) -> None:
    result = run(str(files / "utf8.txt"), "--pseud", "quill", "--fandom", "Original Work")
    assert result.code == 2
    assert "rejected: This file is too large to import." in result.err
    assert not Work.objects.exists()


@pytest.mark.parametrize(("name", "message"), [("empty.txt", "is empty"), ("binary.bin", "does not look like a text")])
def test_it_rejects_an_empty_or_binary_file(files: Path, name: str, message: str) -> None:
    result = run(str(files / name), "--pseud", "quill", "--fandom", "Original Work")
    assert result.code == 2
    assert f"{files / name}: rejected: " in result.err and message in result.err
    assert not Work.objects.exists()


def test_it_imports_the_good_files_and_reports_each_bad_one(files: Path) -> None:
    paths = [files / "utf8.txt", files / "empty.txt", files / "missing.txt", files, files / "story.html", files / "binary.bin"]
    result = run(*map(str, paths), "--pseud", "quillfeather", "--fandom", "Original Work")
    assert result.code == 2
    assert sorted(Work.objects.values_list("title", flat=True)) == ["The Glassblower’s Apprentice", "utf8"]
    assert [line.split(" → ")[0] for line in result.out.splitlines()] == [
        f"imported {files / 'utf8.txt'}",
        f"imported {files / 'story.html'}",
    ]
    rejected = [line for line in result.err.splitlines() if ": rejected: " in line]
    assert [line.split(": rejected: ")[0] for line in rejected] == [str(p) for p in paths if p.name not in {"utf8.txt", "story.html"}]
    assert f"{files / 'missing.txt'}: rejected: cannot be read (No such file or directory)" in result.err
    assert "4 of 6 files rejected." in result.err


def test_it_prints_one_json_object_per_work_and_nothing_else(files: Path) -> None:
    paths = [files / "utf8.txt", files / "empty.txt", files / "story.html"]
    result = run(*map(str, paths), "--pseud", "quillfeather", "--fandom", "Original Work", "--json")
    assert result.code == 2
    records = [json.loads(line) for line in result.out.splitlines()]
    works = {work.pk: work for work in Work.objects.all()}
    assert len(records) == 2 == len(works)
    for record in records:
        assert set(record) == {"id", "url", "title", "word_count"}
        work = works[record["id"]]
        assert record == {
            "id": work.pk,
            "url": settings.BASE_URL + work.get_absolute_url(),
            "title": work.title,
            "word_count": work.word_count,
        }
    assert "empty.txt: rejected:" in result.err


def test_it_reports_what_the_sanitizer_removed_on_stderr(files: Path) -> None:
    (files / "styled.html").write_text(
        '<html><body><p>The <span style="color:red">lamp</span> was lit.</p><p><a href="javascript:alert(1)">x</a></p></body></html>'
    )
    result = run(str(files / "styled.html"), "--pseud", "quill", "--fandom", "Original Work")
    assert result.code == 0
    assert "javascript" not in Work.objects.get().chapters.get().html
    assert f"{files / 'styled.html'}: removed: " in result.err


def test_it_refuses_a_new_pseud_that_cannot_be_a_username_before_importing_anything(files: Path) -> None:
    result = run(str(files / "utf8.txt"), "--pseud", "Jane Doe", "--fandom", "Original Work")
    assert result.code == 1
    assert "There is no user “Jane Doe”" in result.err
    assert not User.objects.exists()
