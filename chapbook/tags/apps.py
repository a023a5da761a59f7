from django.apps import AppConfig


class TagsConfig(AppConfig):
    name = "chapbook.tags"
    label = "tags"
