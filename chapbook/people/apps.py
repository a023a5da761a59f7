from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "chapbook.people"
    label = "people"
    verbose_name = "People"
