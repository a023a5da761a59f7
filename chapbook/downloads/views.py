"""Download endpoints: serve the cached file, or have the worker build it first."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from chapbook.collections.models import Collection
from chapbook.collections.selectors import (
    collection_named,
    collection_work_ids,
    collections_visible_to,
)
from chapbook.downloads import services
from chapbook.downloads.tasks import build_series_file, build_work_file, build_zip_file
from chapbook.feedback.bookmarks import bookmarks_visible_to
from chapbook.people.httpauth import challenge, credentials_user
from chapbook.people.models import User
from chapbook.people.views.profiles import user_or_404
from chapbook.works.models import Work
from chapbook.works.selectors import (
    guest_work_version,
    series_parts_visible_to,
    series_visible_to,
    with_blurb,
    works_visible_to,
)


def _serve(path: Path, name: str, fmt: str) -> FileResponse:
    kind = "application/zip" if fmt == "zip" else services.content_type(fmt)
    response = FileResponse(path.open("rb"), as_attachment=fmt != "html", filename=name, content_type=kind)
    # The file's name holds its version: it never changes, so readers may keep it.
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _cached_file(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase | None:
    """Serve an already-built file of a guest-visible work without building a Work object.

    Cached EPUBs are what e-reader catalogs fetch most; this path costs one precompiled
    query (the visibility rule, through the selector) and a cache lookup for the file name.
    """
    row = guest_work_version(pk)
    if row is None:
        raise Http404("No such work.")
    path = services.file_for(pk, row[0], fmt)  # type: ignore[arg-type]
    name = cache.get(f"download-name:{path}")
    if name is None or not path.exists():
        return None
    return _serve(path, name, fmt)


def _reader(request: HttpRequest) -> User | AnonymousUser | None:
    """The session's user, else the credentials an e-reader sent (OPDS acquisition links
    are followed without a session); None when those credentials are wrong."""
    if request.user.is_authenticated or "Authorization" not in request.headers:
        return request.user
    return credentials_user(request)


def work_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    if fmt not in services.available_formats():
        raise Http404("No such format.")
    reader = _reader(request)
    if reader is None:
        return challenge()
    if not reader.is_authenticated and (response := _cached_file(request, pk, fmt)) is not None:
        return response
    work = works_visible_to(reader).filter(pk=pk, draft=False).first()
    if work is None:
        raise Http404("No such work.")
    path = services.work_file(work, fmt)
    name = services.download_name(work.byline_names, work.title, fmt)
    cache.set(f"download-name:{path}", name, 24 * 3600)
    if not path.exists():
        if services.claim_build(path):
            build_work_file.enqueue(work.pk, fmt)
        small = work.word_count <= services.WAIT_MAX_WORDS
        if not (small and services.wait_for(path, services.WAIT_SECONDS)):
            return render(request, "downloads/preparing.html", {"work": work, "format": fmt.upper()}, status=202)
    return _serve(path, name, fmt)


def series_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    reader = _reader(request)
    if reader is None:
        return challenge()
    series = get_object_or_404(series_visible_to(reader), pk=pk)
    works = list(series_parts_visible_to(reader, series).filter(draft=False))
    if not works:
        raise Http404("No such series.")
    path = services.series_file(series, works)
    if not path.exists():
        if services.claim_build(path):
            build_series_file.enqueue(series.pk, [w.pk for w in works])
        words = sum(w.word_count for w in works)
        if not (words <= services.WAIT_MAX_WORDS and services.wait_for(path, services.WAIT_SECONDS)):
            return render(request, "downloads/preparing.html", {"series": series, "format": "EPUB"}, status=202)
    creators = list(dict.fromkeys(name for w in works for name in w.byline_names))
    return _serve(path, services.download_name(creators, series.title, "epub"), "epub")


# --- Zips of EPUBs: a collection's works, a reader's bookmarks ------------------------------


def _audience(reader: User | AnonymousUser) -> str:
    """Which folder of zips a reader shares: readers who see the same works share files."""
    if not reader.is_authenticated:
        return "guest"
    return "staff" if reader.is_staff else "member"


def _zip_download(
    request: HttpRequest, works: list[Work], *, kind: str, owner_id: int, audience: str, name: str, back: tuple[str, str]
) -> HttpResponseBase:
    """Serve the zip of `works`, building it as the series EPUB is built: a small set may
    be waited for in the request, a big one gets the page that refreshes until it is ready."""
    if not works:
        raise Http404("Nothing here to download.")
    path = services.zip_file(kind, owner_id, audience, works)
    if not path.exists():
        if services.claim_build(path):
            build_zip_file.enqueue(kind, owner_id, audience, [w.pk for w in works])
        words = sum(w.word_count for w in works)
        if not (words <= services.WAIT_MAX_WORDS and services.wait_for(path, services.WAIT_SECONDS)):
            context = {"title": back[0], "back_url": back[1], "format": "zip of EPUBs"}
            return render(request, "downloads/preparing.html", context, status=202)
    return _serve(path, name, "zip")


def collection_download(request: HttpRequest, name: str) -> HttpResponseBase:
    """The collection's works as a zip of EPUBs: the approved ones the reader may see, as
    the collection's listing shows them (unrevealed works never, even to its moderators)."""
    reader = _reader(request)
    if reader is None:
        return challenge()
    collection: Collection | None = collection_named(name)
    if collection is None or not collections_visible_to(reader).filter(pk=collection.pk).exists():
        raise Http404("No such collection.")
    ids = collection_work_ids(collection, viewer=reader).filter(draft=False, unrevealed=False)
    works = list(with_blurb(works_visible_to(reader).filter(pk__in=ids)).order_by("-updated_at", "-pk"))
    return _zip_download(
        request, works, kind="collections", owner_id=collection.pk, audience=_audience(reader),
        name=services.safe_name(collection.title, "zip", fallback=collection.name),
        back=(f"The collection “{collection.title}”", collection.get_absolute_url()),
    )  # fmt: skip


def bookmarks_download(request: HttpRequest, username: str) -> HttpResponseBase:
    """A reader's bookmarked works as a zip of EPUBs: their public bookmarks, or all of them
    for the owner (`bookmarks_visible_to` decides, as on the bookmarks page)."""
    reader = _reader(request)
    if reader is None:
        return challenge()
    owner = user_or_404(username)
    marks = bookmarks_visible_to(reader).filter(user=owner, work__isnull=False)
    ids = list(marks.order_by("-created_at", "-pk").values_list("work_id", flat=True))
    found = {w.pk: w for w in with_blurb(works_visible_to(reader).filter(pk__in=ids, draft=False))}
    works = [found[pk] for pk in ids if pk in found]
    audience = "owner" if reader.pk == owner.pk else _audience(reader)
    return _zip_download(
        request, works, kind="bookmarks", owner_id=owner.pk, audience=audience,
        name=services.safe_name(f"{owner.username} - Bookmarks", "zip"),
        back=(f"Bookmarks by {owner.username}", reverse("feedback:user_bookmarks", args=[owner.username])),
    )  # fmt: skip
