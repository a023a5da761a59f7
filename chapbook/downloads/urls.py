from django.urls import path

from chapbook.downloads import views

app_name = "downloads"
urlpatterns = [
    path("works/<int:pk>/download/<str:fmt>", views.work_download, name="work"),
    path("series/<int:pk>/download/epub", views.series_download, name="series"),
]
