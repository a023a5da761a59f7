from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "chapbook.history"
    label = "history"
