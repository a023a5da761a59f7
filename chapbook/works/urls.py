from django.urls import path

from chapbook.listings import views as listings
from chapbook.works.views import chapters, gifts, posting, reading

app_name = "works"
urlpatterns = [
    path("works/", listings.work_index, name="index"),
    path("works/new", posting.work_new, name="new"),
    path("works/<int:pk>/", reading.work_detail, name="detail"),
    path("works/<int:pk>/edit", posting.work_edit, name="edit"),
    path("works/<int:pk>/post", posting.work_publish, name="publish"),
    path("works/<int:pk>/delete", posting.work_delete, name="delete"),
    path("works/<int:pk>/chapters/new", chapters.chapter_new, name="chapter_new"),
    path("works/<int:pk>/chapters/order", chapters.chapter_order, name="chapter_order"),
    path("works/<int:pk>/chapters/<int:position>/", reading.chapter_detail, name="chapter"),
    path("works/<int:pk>/chapters/<int:position>/edit", chapters.chapter_edit, name="chapter_edit"),
    path("works/<int:pk>/chapters/<int:position>/delete", chapters.chapter_delete, name="chapter_delete"),
    path("series/", reading.series_index, name="series_index"),
    path("series/<int:pk>/", reading.series_detail, name="series"),
    path("users/<str:username>/gifts", gifts.user_gifts, name="user_gifts"),
    path("gifts/<int:pk>/refuse", gifts.gift_refuse, name="gift_refuse"),
]
