from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "chapbook.api"
    label = "api"
