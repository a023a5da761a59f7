"""The admin site's view of collections. Changes that reach works go through the services:
an admin's delete takes the collection out of its works' flags like the owner's would."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from chapbook.collections.models import Collection, CollectionItem, Moderator
from chapbook.collections.services import refresh_work_flags


class ModeratorInline(admin.TabularInline):
    model = Moderator
    fk_name = "collection"
    extra = 0
    raw_id_fields = ["user", "invited_by"]


def _work_ids(collections: Any) -> list[int]:
    items = CollectionItem.objects.filter(Q(collection__in=collections) | Q(collection__parent__in=collections))
    return list(items.values_list("work_id", flat=True))


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "owner", "parent", "closed", "moderated", "anonymous", "unrevealed", "prompt_meme"]
    list_filter = ["closed", "moderated", "anonymous", "unrevealed", "prompt_meme"]
    search_fields = ["name", "title"]
    raw_id_fields = ["owner", "parent"]
    inlines = [ModeratorInline]
    # The privacy settings and reveal dates are the moderators' (their pages keep the works
    # in step); the admin only reads them.
    readonly_fields = ["anonymous", "unrevealed", "works_revealed_at", "creators_revealed_at"]

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Collection) -> None:
        work_ids = _work_ids([obj.pk])
        super().delete_model(request, obj)
        refresh_work_flags(work_ids, touch=True)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Collection]) -> None:
        work_ids = _work_ids(list(queryset.values_list("pk", flat=True)))
        super().delete_queryset(request, queryset)
        refresh_work_flags(work_ids, touch=True)


@admin.register(CollectionItem)
class CollectionItemAdmin(admin.ModelAdmin):
    list_display = ["collection", "work", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    raw_id_fields = ["collection", "work", "added_by"]
    # Read-only: a status change must go through the services, which keep the works' flags.
    readonly_fields = ["collection", "work", "status", "added_by", "created_at", "decided_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: CollectionItem) -> None:
        super().delete_model(request, obj)
        refresh_work_flags([obj.work_id], touch=True)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CollectionItem]) -> None:
        work_ids = list(queryset.values_list("work_id", flat=True))
        super().delete_queryset(request, queryset)
        refresh_work_flags(work_ids, touch=True)
