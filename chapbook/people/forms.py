"""Forms for accounts, profiles and pseuds. The rules themselves live in `services.py`;
these forms collect input and show the services' errors on the right field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.template import loader

from chapbook.people.models import Pseud, User
from chapbook.people.services import PSEUD_RULE, USERNAME_RULE
from chapbook.people.tasks import send_email

# AO3 allows 2,000 characters in "About Me"; links are a short list, not a second bio.
BIO_MAX_LENGTH = 2000
MAX_LINKS = 20
PSEUD_DESCRIPTION_MAX_LENGTH = 500


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the field it names, or above the form."""
    for field_name, messages in error.message_dict.items():
        target = field_name if field_name in form.fields else None
        for message in messages:
            form.add_error(target, message)


class SignupForm(forms.Form):
    username = forms.CharField(
        max_length=40,
        help_text=USERNAME_RULE + " It is also your first pseud.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}),
    )
    email = forms.EmailField(
        help_text="Only used to reset your password; never shown to anyone.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_confirm = forms.CharField(
        label="Password (again)", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password, confirm = data.get("password"), data.get("password_confirm")
        if password and confirm and password != confirm:
            self.add_error("password_confirm", "The two passwords do not match.")
        return data


class LoginForm(AuthenticationForm):
    """Django's login form, matching the username without regard to case.

    Usernames are unique case-insensitively, so "Alice" can only mean alice; people type
    their name the way they remember it, not the way they first wrote it.
    """

    def clean(self) -> dict[str, Any]:
        typed = self.cleaned_data.get("username")
        if typed:
            stored = User.objects.filter(username__iexact=typed).values_list("username", flat=True).first()
            if stored:
                self.cleaned_data["username"] = stored
        return super().clean()


class ProfileForm(forms.ModelForm):
    bio = forms.CharField(
        required=False,
        max_length=BIO_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=f"Plain text, up to {BIO_MAX_LENGTH} characters; line breaks are kept.",
    )
    links = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One per line: a web address (https://…), a handle such as @name, or a site and "
        "handle such as tumblr: @name.",
    )

    class Meta:
        model = User
        fields = ["bio", "links"]

    def clean_links(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]
        if len(lines) > MAX_LINKS:
            raise ValidationError(f"Up to {MAX_LINKS} links, please.")
        return "\n".join(lines)


class PseudForm(forms.Form):
    name = forms.CharField(max_length=40, help_text=PSEUD_RULE)
    description = forms.CharField(
        required=False,
        max_length=PSEUD_DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Plain text, shown on the pseud's page.",
    )

    def __init__(self, *args: Any, pseud: Pseud | None = None, **kwargs: Any) -> None:
        if pseud is not None:
            kwargs.setdefault("initial", {"name": pseud.name, "description": pseud.description})
        super().__init__(*args, **kwargs)
        if pseud is not None and pseud.is_default:
            self.fields["name"].help_text = "Your default pseud is your username; only its capitals can change."


class BackgroundPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the email rendered here and sent by the task worker."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        html = loader.render_to_string(html_email_template_name, context) if html_email_template_name else None
        send_email.enqueue(subject=subject, body=body, to=[to_email], from_email=from_email, html=html)
