"""Download files: built by the task worker, kept per version of the work, served as files.

A file lives at GENERATED_ROOT/works/<id>/<version>.<format>; the version is the work's
`revised_at`, which every edit and every new chapter moves, so an edited work never gets
an old file and nothing needs invalidating: old versions are removed when a new one is built.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from django.conf import settings

from chapbook.downloads.book import Book, BookChapter, Omnibus
from chapbook.works.models import Series, Work
from chapbook.works.selectors import with_blurb

FORMATS = {
    "epub": "application/epub+zip",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}
# Made from the EPUB by calibre's ebook-convert, when the server has it.
CONVERTED_FORMATS = {"azw3": "application/vnd.amazon.ebook", "mobi": "application/x-mobipocket-ebook"}
# A first request for a work this size or smaller waits for its file; larger ones get a
# page that refreshes until the worker has built it.
WAIT_MAX_WORDS = 60_000
WAIT_SECONDS = 8.0
# A build marker older than this is taken to belong to a worker that died.
STALE_BUILD_SECONDS = 300


def ebook_convert() -> str | None:
    return shutil.which("ebook-convert")


def available_formats() -> list[str]:
    return [*FORMATS, *(CONVERTED_FORMATS if ebook_convert() else {})]


def content_type(fmt: str) -> str:
    return FORMATS.get(fmt) or CONVERTED_FORMATS[fmt]


def work_version(work: Work) -> str:
    return version_of(work.revised_at)


def version_of(revised_at: datetime) -> str:
    return f"{revised_at.timestamp():.6f}".replace(".", "")


def work_file(work: Work, fmt: str) -> Path:
    return file_for(work.pk, work.revised_at, fmt)


def file_for(pk: int, revised_at: datetime, fmt: str) -> Path:
    return Path(settings.GENERATED_ROOT) / "works" / str(pk) / f"{version_of(revised_at)}.{fmt}"


def series_version(works: list[Work]) -> str:
    stamp = ",".join(f"{w.pk}:{w.revised_at.timestamp()}" for w in works)
    return hashlib.sha256(stamp.encode()).hexdigest()[:20]


def series_file(series: Series, works: list[Work]) -> Path:
    return Path(settings.GENERATED_ROOT) / "series" / str(series.pk) / f"{series_version(works)}.epub"


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def download_name(creators: list[str], title: str, fmt: str) -> str:
    """`Author - Title.epub`, safe on every file system; non-ASCII is kept (Django encodes
    it in Content-Disposition's filename* parameter)."""
    author = ", ".join(creators) or "Anonymous"
    name = _UNSAFE.sub(" ", f"{author} - {title}")
    name = " ".join(name.split()).strip(". ")[:150] or "work"
    return f"{name}.{fmt}"


def _absolute(path: str) -> str:
    return settings.BASE_URL + path


def book_for(work: Work) -> Book:
    """Everything a file says about `work`, read in a fixed number of queries."""
    work = with_blurb(Work.objects.filter(pk=work.pk)).get()
    parts = list(work.series_parts.select_related("series"))
    return Book(
        identifier=f"urn:chapbook:{settings.BASE_URL.split('://')[-1]}:work:{work.pk}",
        url=_absolute(work.get_absolute_url()),
        title=work.title,
        creators=work.byline_names,
        language=work.language,
        word_count=work.word_count,
        chapters_display=work.chapters_display,
        published=work.published_at,
        updated=work.updated_at,
        revised=work.revised_at,
        summary_html=work.summary,
        notes_html=work.notes,
        end_notes_html=work.end_notes,
        fandoms=[t.name for t in work.fandoms],
        ratings=[t.name for t in work.ratings],
        warnings=[t.name for t in work.warnings],
        categories=[t.name for t in work.categories],
        relationships=[t.name for t in work.relationships],
        characters=[t.name for t in work.characters],
        freeforms=[t.name for t in work.freeforms],
        # A series names its owner: an anonymous work's file keeps quiet about its series.
        series=[] if work.anonymous else [(part.series.title, part.position) for part in parts],
        collections=[],
        source_site=work.source_site,
        source_url=work.source_url,
        prompt_text=work.prompt_text,
        prompt_relationship=work.prompt_relationship,
        chapters=[
            BookChapter(c.position, c.title, c.notes, c.html, c.end_notes) for c in work.chapters.order_by("position")
        ],
        site_name=settings.SITE_NAME,
    )


def omnibus_for(series: Series, works: list[Work]) -> Omnibus:
    books = [book_for(work) for work in works]
    creators = list(dict.fromkeys(name for book in books for name in book.creators))
    return Omnibus(
        identifier=f"urn:chapbook:{settings.BASE_URL.split('://')[-1]}:series:{series.pk}:{series_version(works)}",
        url=_absolute(series.get_absolute_url()),
        title=series.title,
        creators=creators,
        language=books[0].language if books else "en",
        books=books,
        summary_html=series.summary,
        site_name=settings.SITE_NAME,
    )


def render(book: Book, fmt: str) -> bytes:
    """The bytes of `book` in `fmt`. Slow for long works: call it from the task worker."""
    if fmt == "epub":
        from chapbook.lib.epub import render_epub

        return render_epub(book)
    if fmt == "pdf":
        from chapbook.downloads.render_pdf import render_pdf

        return render_pdf(book)
    if fmt == "html":
        from chapbook.downloads.render_html import render_html

        return render_html(book).encode()
    if fmt == "txt":
        from chapbook.downloads.render_text import render_text

        return render_text(book).encode()
    if fmt in CONVERTED_FORMATS:
        return _convert(render(book, "epub"), fmt)
    raise ValueError(f"unknown format {fmt!r}")


def _convert(epub: bytes, fmt: str) -> bytes:
    import subprocess

    command = ebook_convert()
    if command is None:
        raise RuntimeError("ebook-convert is not installed")
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.epub", Path(folder) / f"out.{fmt}"
        source.write_bytes(epub)
        subprocess.run([command, str(source), str(target)], check=True, capture_output=True, timeout=300)
        return target.read_bytes()


def write_atomically(path: Path, build: Callable[[], bytes]) -> None:
    """Write the file under a temporary name and rename it, so a reader never sees half a file;
    then remove the older versions beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = build()
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
    for old in path.parent.glob(f"*{path.suffix}"):
        if old != path:
            old.unlink(missing_ok=True)
    marker(path).unlink(missing_ok=True)


def marker(path: Path) -> Path:
    return path.with_name(f".building-{path.name}")


def claim_build(path: Path) -> bool:
    """True if the caller should enqueue a build: no other build of this file is under way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flag = marker(path)
    try:
        fd = os.open(flag, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        if time.time() - flag.stat().st_mtime < STALE_BUILD_SECONDS:
            return False
        flag.unlink(missing_ok=True)
        return claim_build(path)
    os.close(fd)
    return True


def wait_for(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
