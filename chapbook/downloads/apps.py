from django.apps import AppConfig


class DownloadsConfig(AppConfig):
    name = "chapbook.downloads"
    label = "downloads"
