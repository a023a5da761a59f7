from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from chapbook.imports.models import ImportJob
from chapbook.imports.services import ImportFailed, import_file


@task()
def run_import_job(job_id: int) -> None:
    job = ImportJob.objects.select_related("user").filter(pk=job_id, status=ImportJob.Status.QUEUED).first()
    if job is None:
        return  # already run (a worker retried it) or deleted
    try:
        result = import_file(by=job.user, filename=job.filename, data=bytes(job.data), **job.options)
    except ImportFailed as error:
        job.status, job.message = ImportJob.Status.FAILED, error.message
    else:
        job.status, job.work, job.removed = ImportJob.Status.DONE, result.work, result.removed
    job.data = b""
    job.finished_at = timezone.now()
    job.save()
