"""Importing story files through the web: the form in front of `import_file`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from chapbook.imports.forms import UploadForm
from chapbook.imports.models import ImportJob
from chapbook.imports.services import ImportFailed, import_file
from chapbook.imports.tasks import run_import_job
from chapbook.site.http import AuthenticatedRequest
from chapbook.works.models import Work


@dataclass
class FileOutcome:
    name: str
    work: Work | None = None
    removed: list[str] = field(default_factory=list)
    error: ImportFailed | None = None


def _import_one(request: AuthenticatedRequest, upload: UploadedFile, options: dict[str, Any]) -> FileOutcome:
    name = str(upload.name)
    try:
        work, removed = import_file(by=request.user, filename=name, data=upload.read(), **options)
    except ImportFailed as error:
        return FileOutcome(name, error=error)
    return FileOutcome(name, work=work, removed=removed)


def _queue(request: AuthenticatedRequest, uploads: list[UploadedFile], options: dict[str, Any]) -> list[ImportJob]:
    with transaction.atomic():
        jobs = [
            ImportJob.objects.create(user=request.user, filename=str(u.name)[:255], data=u.read(), options=options)
            for u in uploads
        ]
    # Enqueued after the commit, so a worker never looks for a job that is not there yet.
    for job in jobs:
        run_import_job.enqueue(job.pk)
    return jobs


@login_required
def upload(request: AuthenticatedRequest) -> HttpResponse:
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=request.user)
    else:
        form = UploadForm(user=request.user)
    outcomes: list[FileOutcome] = []
    if request.method == "POST" and form.is_valid():
        options = form.import_options()
        files = form.cleaned_data["files"]
        if sum(f.size or 0 for f in files) > settings.IMPORT_INLINE_MAX_BYTES:
            # Large files take seconds to parse and sanitize: the worker imports them.
            jobs = _queue(request, files, options)
            if len(jobs) == 1:
                return redirect(jobs[0])
            return redirect(reverse("imports:jobs") + "?" + urlencode([("id", job.pk) for job in jobs]))
        outcomes = [_import_one(request, f, options) for f in files]
        if len(outcomes) == 1:
            outcome = outcomes[0]
            if outcome.work is not None:
                if outcome.removed:
                    messages.warning(request, "Some of the file was left out: " + "; ".join(outcome.removed) + ".")
                messages.success(request, "Draft saved." if outcome.work.draft else "Work imported.")
                return redirect(outcome.work)
            assert outcome.error is not None
            target = outcome.error.field if outcome.error.field in form.fields else "files"
            form.add_error(target, outcome.error.message)
            outcomes = []
    imported = [o for o in outcomes if o.work is not None]
    rejected = [o for o in outcomes if o.error is not None]
    return render(request, "imports/upload.html", {"form": form, "imported": imported, "rejected": rejected})


def _own_jobs(request: AuthenticatedRequest, ids: list[int]) -> list[ImportJob]:
    return list(ImportJob.objects.filter(user=request.user, pk__in=ids).select_related("work").order_by("pk"))


@login_required
def job_status(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    jobs = _own_jobs(request, [pk])
    if not jobs:
        raise Http404("No such import.")
    job = jobs[0]
    if job.status == ImportJob.Status.DONE and job.work is not None:
        if job.removed:
            messages.warning(request, "Some of the file was left out: " + "; ".join(job.removed) + ".")
        messages.success(request, "Draft saved." if job.work.draft else "Work imported.")
        return redirect(job.work)
    return render(request, "imports/jobs.html", {"jobs": jobs, "pending": not job.finished})


@login_required
def job_list(request: AuthenticatedRequest) -> HttpResponse:
    ids = [int(value) for value in request.GET.getlist("id") if value.isdigit()][:50]
    jobs = _own_jobs(request, ids)
    return render(request, "imports/jobs.html", {"jobs": jobs, "pending": any(not job.finished for job in jobs)})
