from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "chapbook.comments"
    label = "comments"
