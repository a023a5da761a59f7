from django.urls import path

from chapbook.imports import views

app_name = "imports"
urlpatterns = [
    path("import/", views.upload, name="upload"),
    path("import/jobs", views.job_list, name="jobs"),
    path("import/jobs/<int:pk>", views.job_status, name="job"),
]
