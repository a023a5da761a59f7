from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from chapbook.listings.services import tags_wrangled
from chapbook.tags import services
from chapbook.tags.models import Tag

WRANGLED_FIELDS = {"type", "canonical", "synonym_of", "parents"}


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("canonical", "Canonical"), ("synonym", "Synonym"), ("unwrangled", "Unwrangled")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Tag]) -> QuerySet[Tag]:
        if self.value() == "canonical":
            return queryset.filter(canonical=True)
        if self.value() == "synonym":
            return queryset.filter(synonym_of__isnull=False)
        if self.value() == "unwrangled":
            return queryset.filter(canonical=False, synonym_of__isnull=True)
        return queryset


class TagAdminForm(forms.ModelForm):
    """Checks the wrangling services' rules on an edit made straight to the row.

    The admin does not move a merged tag's synonyms and sub-tags as `make_synonym` does:
    the wrangling pages are the place for that.
    """

    class Meta:
        model = Tag
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        tag = Tag(pk=self.instance.pk, name=data.get("name", ""), type=data.get("type", ""))
        tag.canonical = bool(data.get("canonical"))
        synonym_of = data.get("synonym_of")
        if synonym_of is not None:
            if tag.canonical:
                self.add_error("synonym_of", "A canonical tag is not a synonym: untick canonical first.")
            else:
                problem = services.synonym_problem(tag, synonym_of)
                if problem:
                    self.add_error("synonym_of", problem)
        for parent in data.get("parents") or []:
            problem = services.parent_problem(tag, parent)
            if problem:
                self.add_error("parents", problem)
        return data


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    form = TagAdminForm
    list_display = ("name", "type", "canonical", "synonym_of", "wrangled_at")
    list_filter = ("type", "canonical", StatusFilter)
    list_select_related = ("synonym_of",)
    search_fields = ("name",)
    # Autocomplete rather than a select of every tag: an archive has millions.
    autocomplete_fields = ("synonym_of", "parents")
    readonly_fields = ("created_at", "wrangled_at")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if WRANGLED_FIELDS & set(form.changed_data):
            # What the services do, so listings hear about an admin's edit too.
            Tag.objects.filter(pk=form.instance.pk).update(wrangled_at=timezone.now())
            tags_wrangled()
