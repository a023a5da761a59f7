from django.contrib import admin

from chapbook.works.models import Chapter, Creatorship, Series, SeriesPart, Work


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


class SeriesPartInline(admin.TabularInline):
    model = SeriesPart
    extra = 0
    raw_id_fields = ["work"]


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "complete"]
    search_fields = ["title"]
    inlines = [SeriesPartInline]
