from django.urls import path

from chapbook.listings import views

# The all-works and tag listings keep their names in the works and tags apps
# (works:index, tags:works) and the user's works page in people (people:works).
app_name = "listings"
urlpatterns = [
    path("users/<str:username>/pseuds/<str:name>/works", views.pseud_works, name="pseud_works"),
    path("exclusions", views.exclusions, name="exclusions"),
    path("exclusions/<int:tag_id>/remove", views.exclusion_remove, name="exclusion_remove"),
]
