from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class ImportJob(models.Model):
    """A large file uploaded through the form, imported by the task worker.

    Parsing and sanitizing a file of several megabytes takes seconds; the upload request
    stores the bytes here and returns at once, and the status page follows the job.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting"
        DONE = "done", "Imported"
        FAILED = "failed", "Rejected"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    filename = models.CharField(max_length=255)
    # The file's bytes until the job has run; emptied afterwards.
    data = models.BinaryField(blank=True)
    options = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    work = models.ForeignKey("works.Work", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.TextField(blank=True)
    removed = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def get_absolute_url(self) -> str:
        return reverse("imports:job", args=[self.pk])

    @property
    def finished(self) -> bool:
        return self.status != self.Status.QUEUED
