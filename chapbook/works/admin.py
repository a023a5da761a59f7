from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from chapbook.search.services import works_changed
from chapbook.works.models import Chapter, Creatorship, Series, SeriesPart, Work
from chapbook.works.services import delete_works, set_hidden


class ChapterInline(admin.StackedInline):
    model = Chapter
    extra = 0
    fields = ["position", "title", "word_count"]
    readonly_fields = ["word_count"]


class CreatorshipInline(admin.TabularInline):
    model = Creatorship
    extra = 0
    raw_id_fields = ["pseud", "invited_by"]


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin):
    list_display = ["title", "draft", "restricted", "hidden", "chapters_display", "word_count", "updated_at"]
    list_filter = ["draft", "restricted", "hidden", "complete", "language"]
    search_fields = ["title"]
    inlines = [CreatorshipInline, ChapterInline]
    exclude = ["tags"]
    actions = ["hide_works", "unhide_works"]
    # A source URL typed without a scheme is read as https, as Django 6 will by default.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    # The admin is where staff hide a work. Its form saves the model itself, so it does
    # here what the services do: move `revised_at` (which the filter index and every
    # cached page and blurb follow) and reindex for search once the save commits.
    def save_model(self, request: HttpRequest, obj: Work, form: Any, change: bool) -> None:
        obj.revised_at = timezone.now()
        super().save_model(request, obj, form, change)
        works_changed([obj.pk])

    def delete_model(self, request: HttpRequest, obj: Work) -> None:
        delete_works([obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Work]) -> None:
        delete_works(queryset.values_list("pk", flat=True))

    @admin.action(description="Hide the selected works")
    def hide_works(self, request: HttpRequest, queryset: QuerySet[Work]) -> None:
        self._hidden(request, set_hidden(queryset.values_list("pk", flat=True), hidden=True), "hidden")

    @admin.action(description="Show the selected hidden works again")
    def unhide_works(self, request: HttpRequest, queryset: QuerySet[Work]) -> None:
        self._hidden(request, set_hidden(queryset.values_list("pk", flat=True), hidden=False), "shown again")

    def _hidden(self, request: HttpRequest, ids: list[int], done: str) -> None:
        self.message_user(request, f"{len(ids)} work{'' if len(ids) == 1 else 's'} {done}.")


class SeriesPartInline(admin.TabularInline):
    model = SeriesPart
    extra = 0
    raw_id_fields = ["work"]


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "complete"]
    search_fields = ["title"]
    inlines = [SeriesPartInline]
