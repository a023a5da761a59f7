from django.urls import path

from chapbook.api.api import api

urlpatterns = [
    path("v1/", api.urls),
]
