from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "chapbook.feedback"
    default_auto_field = "django.db.models.BigAutoField"
