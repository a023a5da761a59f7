from django.apps import AppConfig


class WorksConfig(AppConfig):
    name = "chapbook.works"
    label = "works"
