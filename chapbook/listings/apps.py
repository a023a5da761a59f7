from django.apps import AppConfig


class ListingsConfig(AppConfig):
    name = "chapbook.listings"
    default_auto_field = "django.db.models.BigAutoField"
