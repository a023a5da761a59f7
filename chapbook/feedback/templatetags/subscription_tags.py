"""Subscribe buttons: `{% subscribe_button work %}`, `{% subscribe_creator_button user %}`,
`{% subscribe_series_button series %}`.

They render nothing for guests (the guest work page is cached whole and shared by all
guests) and nothing on one's own work, series or profile; for a reader, one query.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from chapbook.feedback.models import Subscription
from chapbook.people.models import User
from chapbook.works.models import Series, Work

register = template.Library()


def _reader(context: Any) -> User | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _button(context: Any, subscribed: bool, action: str, name: str, what: str) -> dict[str, Any]:
    request = context.get("request")
    return {
        "show": True,
        "subscribed": subscribed,
        "action": action,
        "name": name,
        "what": what,
        "next": request.get_full_path() if request is not None else "",
    }


HIDDEN: dict[str, Any] = {"show": False}


@register.inclusion_tag("feedback/subscription_button.html", takes_context=True)
def subscribe_button(context: Any, work: Work) -> dict[str, Any]:
    """On the work page: new chapters. The page already knows whether the reader is a creator."""
    user = _reader(context)
    if user is None or work.draft or context.get("is_creator"):
        return HIDDEN
    subscribed = Subscription.objects.filter(user=user, work_id=work.pk).exists()
    return _button(context, subscribed, reverse("feedback:subscribe_work", args=[work.pk]), work.title, "work")


@register.inclusion_tag("feedback/subscription_button.html", takes_context=True)
def subscribe_series_button(context: Any, series: Series) -> dict[str, Any]:
    user = _reader(context)
    if user is None or series.owner_id == user.pk:
        return HIDDEN
    subscribed = Subscription.objects.filter(user=user, series_id=series.pk).exists()
    return _button(
        context, subscribed, reverse("feedback:subscribe_series", args=[series.pk]), series.title, "series"
    )


@register.inclusion_tag("feedback/subscription_button.html", takes_context=True)
def subscribe_creator_button(context: Any, creator: User) -> dict[str, Any]:
    user = _reader(context)
    if user is None or creator.pk == user.pk:
        return HIDDEN
    subscribed = Subscription.objects.filter(user=user, creator_id=creator.pk).exists()
    return _button(
        context, subscribed, reverse("feedback:subscribe_creator", args=[creator.username]), creator.username,
        "creator",
    )
