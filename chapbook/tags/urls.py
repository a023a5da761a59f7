from django.urls import path

from chapbook.tags import views

app_name = "tags"
urlpatterns = [
    path("fandoms/", views.fandom_index, name="fandoms"),
    path("tags/autocomplete", views.autocomplete, name="autocomplete"),
    path("tags/<str:name>/", views.tag_detail, name="detail"),
    path("tags/<str:name>/works", views.tag_detail, name="works"),
]
