"""The feedback preferences form: email opt-outs per kind, and reading history on or off."""

from __future__ import annotations

from django import forms

from chapbook.feedback.models import Preferences


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = ["email_comments", "email_replies", "email_kudos", "email_subscriptions", "history_enabled"]
        labels = {
            "email_comments": "Comments on my works",
            "email_replies": "Replies to my comments",
            "email_kudos": "Kudos on my works",
            "email_subscriptions": "Updates to my subscriptions",
            "history_enabled": "Keep a history of the works I read",
        }
        help_texts = {
            "email_comments": "",
            "email_replies": "",
            "email_kudos": "",
            "email_subscriptions": "",
            "history_enabled": "When off, works you read are not added to your history.",
        }
