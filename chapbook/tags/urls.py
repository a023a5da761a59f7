from django.urls import path

from chapbook.listings import views as listings
from chapbook.tags import views, wrangling

app_name = "tags"
urlpatterns = [
    path("fandoms/", views.fandom_index, name="fandoms"),
    path("tags/autocomplete", views.autocomplete, name="autocomplete"),
    # Before the tag pages, or it would be the page of a tag called "wrangle".
    path("tags/wrangle/", wrangling.wrangle_index, name="wrangle"),
    path("tags/<str:name>/wrangle", wrangling.wrangle_tag, name="wrangle_tag"),
    path("tags/<str:name>/", views.tag_detail, name="detail"),
    path("tags/<str:name>/works", listings.tag_works, name="works"),
]
