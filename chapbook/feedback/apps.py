from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "chapbook.feedback"
    label = "feedback"
