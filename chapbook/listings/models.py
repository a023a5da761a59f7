from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class RemovedWork(models.Model):
    """A work that left the archive (deleted): the filter index's tombstone log.

    Every other change to a work moves its `revised_at`, which is how the index finds
    what changed since its snapshot; a deleted row has nothing left to move.
    """

    work_id = models.BigIntegerField()
    removed_at = models.DateTimeField(default=timezone.now, db_index=True)


class SavedExclusion(models.Model):
    """A tag a reader never wants to see in any listing (AO3 has no such thing)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_exclusions")
    tag = models.ForeignKey("tags.Tag", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tag"], name="saved_exclusion_unique")]
        ordering = ["tag__name"]
