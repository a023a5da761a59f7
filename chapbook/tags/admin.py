from django.contrib import admin

from chapbook.tags.models import Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "canonical", "synonym_of"]
    list_filter = ["type", "canonical"]
    search_fields = ["name"]
    raw_id_fields = ["synonym_of"]
    filter_horizontal = ["parents"]
