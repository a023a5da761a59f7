from django.contrib import admin

from chapbook.imports.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["filename", "user", "status", "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = ["user", "filename", "options", "status", "work", "message", "removed", "created_at", "finished_at"]
    exclude = ["data"]
