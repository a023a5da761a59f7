from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "chapbook.imports"
    label = "imports"
