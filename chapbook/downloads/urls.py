from django.urls import path

from chapbook.downloads import views

app_name = "downloads"
urlpatterns = [
    path("works/<int:pk>/download/<str:fmt>", views.work_download, name="work"),
    path("series/<int:pk>/download/epub", views.series_download, name="series"),
    path("collections/<slug:name>/download.zip", views.collection_download, name="collection"),
    path("users/<str:username>/bookmarks/download.zip", views.bookmarks_download, name="bookmarks"),
]
