"""The Mark for Later button on a work's page."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string

from chapbook.feedback.history import is_marked_for_later
from chapbook.works.models import Work

register = template.Library()


@register.simple_tag(takes_context=True)
def later_button(context: Any, work: Work) -> str:
    """Nothing for guests, so the cached guest page needs no reader-specific part."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return ""
    return render_to_string(
        "feedback/later_button.html",
        {"work": work, "marked": is_marked_for_later(user, work), "next": request.get_full_path()},
        request=request,
    )
