from django.apps import AppConfig


class BookmarksConfig(AppConfig):
    name = "chapbook.bookmarks"
    label = "bookmarks"
