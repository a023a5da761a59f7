from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "chapbook.feeds"
    label = "feeds"
