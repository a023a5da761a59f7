from django.urls import path

from chapbook.feeds import views

app_name = "feeds"
urlpatterns = [
    path("works/feed.atom", views.works_feed, name="works"),
    path("tags/<str:name>/feed.atom", views.tag_feed, name="tag"),
    path("users/<str:username>/works/feed.atom", views.user_feed, name="user"),
    path("users/<str:username>/pseuds/<str:name>/feed.atom", views.pseud_feed, name="pseud"),
    path("series/<int:pk>/feed.atom", views.series_feed, name="series"),
    path("collections/<slug:name>/feed.atom", views.collection_feed, name="collection"),
    path("opds/", views.opds_root, name="opds_root"),
    path("opds/recent", views.opds_recent, name="opds_recent"),
    path("opds/fandoms", views.opds_fandoms, name="opds_fandoms"),
    path("opds/tags/<str:name>", views.opds_tag, name="opds_tag"),
    path("opds/series", views.opds_series_index, name="opds_series"),
    path("opds/series/<int:pk>", views.opds_series_detail, name="opds_series_detail"),
    path("opds/collections", views.opds_collections, name="opds_collections"),
    path("opds/collections/<slug:name>", views.opds_collection, name="opds_collection"),
    path("opds/mine", views.opds_mine, name="opds_mine"),
    path("opds/bookmarks", views.opds_bookmarks, name="opds_bookmarks"),
    path("opds/later", views.opds_later, name="opds_later"),
    path("opds/search", views.opds_search, name="opds_search"),
    path("opds/opensearch.xml", views.opensearch_description, name="opds_opensearch"),
]
