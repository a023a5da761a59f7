from __future__ import annotations

from django_tasks import task

from chapbook.downloads import services
from chapbook.works.models import Series, Work
from chapbook.works.selectors import with_blurb


@task()
def build_work_file(work_id: int, fmt: str) -> None:
    work = Work.objects.filter(pk=work_id).first()
    if work is None:
        return
    path = services.work_file(work, fmt)
    if path.exists():
        return
    try:
        services.write_atomically(path, lambda: services.render(services.book_for(work), fmt))
    finally:
        services.marker(path).unlink(missing_ok=True)


@task()
def build_series_file(series_id: int, work_ids: list[int]) -> None:
    """The EPUB of a series with exactly these parts (the ones the asker may see)."""
    from chapbook.lib.epub import render_series_epub

    series = Series.objects.filter(pk=series_id).first()
    works = {w.pk: w for w in Work.objects.filter(pk__in=work_ids)}
    ordered = [works[pk] for pk in work_ids if pk in works]
    if series is None or not ordered:
        return
    path = services.series_file(series, ordered)
    try:
        services.write_atomically(path, lambda: render_series_epub(services.omnibus_for(series, ordered)))
    finally:
        services.marker(path).unlink(missing_ok=True)


@task()
def build_zip_file(kind: str, owner_id: int, audience: str, work_ids: list[int]) -> None:
    """A zip of the EPUBs of exactly these works (the ones the asker may see), in this order.

    The works' own EPUBs are built first where missing, and kept: the next zip, or the
    next reader of one of the works, finds them ready.
    """
    works = {w.pk: w for w in with_blurb(Work.objects.filter(pk__in=work_ids))}
    ordered = [works[pk] for pk in work_ids if pk in works]
    if not ordered:
        return
    path = services.zip_file(kind, owner_id, audience, ordered)
    try:
        if not path.exists():
            services.write_zip(path, ordered)
    finally:
        services.marker(path).unlink(missing_ok=True)
