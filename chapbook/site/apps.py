from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "chapbook.site"
    label = "site"
