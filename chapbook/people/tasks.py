from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django_tasks import task


@task()
def send_email(*, subject: str, body: str, to: list[str], from_email: str | None = None, html: str | None = None) -> None:
    """Send one email from the task worker: an SMTP server that is slow or down must not
    hold up (or fail) the request that wanted the email sent."""
    message = EmailMultiAlternatives(subject, body, from_email, to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
