from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "chapbook.notifications"
    label = "notifications"
