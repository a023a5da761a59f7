"""Download files: built by the task worker, kept per version of the work, served as files.

A file lives at GENERATED_ROOT/works/<id>/<version>.<format>; the version is the work's
`revised_at`, which every edit and every new chapter moves, so an edited work never gets
an old file and nothing needs invalidating: old versions are removed when a new one is built.

A zip of EPUBs (a collection's works, a reader's bookmarks) is named after the versions
of the works it holds, so it too is built again only when one of them changes or the set
does; it is made of the works' own cached EPUBs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from chapbook.collections.models import CollectionItem, ItemStatus
from chapbook.collections.prompts import fills_of_work, prompter_name
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


# Who asks for a zip decides which works it holds; each kind of reader gets a folder of
# its own, so a guest's zip and a member's do not replace each other's file in turn.
ZIP_AUDIENCES = ("guest", "member", "staff", "owner")


def set_version(works: list[Work]) -> str:
    """A name for exactly these works at exactly these versions, in this order."""
    stamp = ",".join(f"{w.pk}:{w.revised_at.timestamp()}" for w in works)
    return hashlib.sha256(stamp.encode()).hexdigest()[:20]


def zip_file(kind: str, owner_id: int, audience: str, works: list[Work]) -> Path:
    """GENERATED_ROOT/<kind>/<id>/<audience>/<version>.zip: `kind` is "collections" or "bookmarks"."""
    if kind not in {"collections", "bookmarks"} or audience not in ZIP_AUDIENCES:
        raise ValueError(f"unknown zip {kind!r} for {audience!r}")
    return Path(settings.GENERATED_ROOT) / kind / str(owner_id) / audience / f"{set_version(works)}.zip"


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_name(text: str, fmt: str, *, fallback: str = "work") -> str:
    """`text.fmt`, safe on every file system; non-ASCII is kept (Django encodes it in
    Content-Disposition's filename* parameter, zip files flag it as UTF-8)."""
    name = _UNSAFE.sub(" ", text)
    name = " ".join(name.split()).strip(". ")[:150] or fallback
    return f"{name}.{fmt}"


def download_name(creators: list[str], title: str, fmt: str) -> str:
    """`Author - Title.epub`."""
    author = ", ".join(creators) or "Anonymous"
    return safe_name(f"{author} - {title}", fmt)


def member_names(works: list[Work]) -> list[str]:
    """A file name inside a zip for each work, `Author - Title.epub`, none used twice
    (two works may share a title and a creator)."""
    names: list[str] = []
    taken: set[str] = set()
    for work in works:
        name = download_name(work.byline_names, work.title, "epub")
        stem, number = name.removesuffix(".epub"), 2
        while name.lower() in taken:
            name = f"{stem} ({number}).epub"
            number += 1
        taken.add(name.lower())
        names.append(name)
    return names


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
        collections=collection_titles(work),
        fills=[(prompter_name(fill.prompt), fill.prompt.collection.title) for fill in fills_of_work(work)],
        source_site=work.source_site,
        source_url=work.source_url,
        prompt_text=work.prompt_text,
        prompt_relationship=work.prompt_relationship,
        chapters=[
            BookChapter(c.position, c.title, c.notes, c.html, c.end_notes) for c in work.chapters.order_by("position")
        ],
        site_name=settings.SITE_NAME,
    )


def collection_titles(work: Work) -> list[str]:
    """Titles of the collections the work is approved in, the same for every reader (a file
    is shared by all of them). Renaming a collection moves its works' `revised_at`."""
    items = CollectionItem.objects.filter(work=work, status=ItemStatus.APPROVED).select_related("collection")
    return [item.collection.title for item in items.order_by("collection__title", "pk")]


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
    data = build()

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    write_streamed(path, write)


def write_streamed(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """As `write_atomically`, for a file written piece by piece (a zip of many EPUBs need
    not be held in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    for old in path.parent.glob(f"*{path.suffix}"):
        if old != path:
            old.unlink(missing_ok=True)
    marker(path).unlink(missing_ok=True)


def ensure_work_file(work: Work, fmt: str) -> Path:
    """The work's file in `fmt`, built now if it is not yet (for the task worker)."""
    path = work_file(work, fmt)
    if not path.exists():
        write_atomically(path, lambda: render(book_for(work), fmt))
    return path


def write_zip(path: Path, works: list[Work]) -> None:
    """A zip of one EPUB per work, in order, each from the work's own cached EPUB.

    Stored, not deflated: an EPUB is a zip already and would not shrink.
    """
    import zipfile

    def write(handle: BinaryIO) -> None:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            for work, name in zip(works, member_names(works), strict=True):
                archive.write(ensure_work_file(work, "epub"), arcname=name)

    write_streamed(path, write)


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
