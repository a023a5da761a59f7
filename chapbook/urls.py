from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("chapbook.site.urls")),
    path("", include("chapbook.people.urls")),
    path("", include("chapbook.works.urls")),
    path("", include("chapbook.tags.urls")),
    path("", include("chapbook.listings.urls")),
    path("", include("chapbook.feedback.urls")),
    path("", include("chapbook.collections.urls")),
    path("", include("chapbook.search.urls")),
    path("", include("chapbook.imports.urls")),
    path("", include("chapbook.downloads.urls")),
    path("api/", include("chapbook.api.urls")),
    path("", include("chapbook.feeds.urls")),
    path("admin/", admin.site.urls),
]
