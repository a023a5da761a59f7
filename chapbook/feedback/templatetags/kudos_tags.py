"""The kudos box on a work's page: buttons, who left kudos, and the most loved chapters."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from chapbook.feedback.kudos import KudosNames, kudos_summary
from chapbook.works.models import Work

register = template.Library()


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def names_sentence(names: KudosNames) -> SafeString:
    """ "alice, bob, 12 more users and 3 guests", the names linking to their profiles."""
    parts: list[SafeString] = [
        format_html('<a href="{}">{}</a>', reverse("people:profile", args=[name]), name) for name in names.usernames
    ]
    if names.more_users:
        parts.append(format_html("{}", _plural(names.more_users, "more user", "more users")))
    if names.guests:
        parts.append(format_html("{}", _plural(names.guests, "guest", "guests")))
    # Each part was escaped by format_html.
    if len(parts) < 2:
        return mark_safe("".join(parts))
    head = mark_safe(", ".join(parts[:-1]))
    return format_html("{} and {}", head, parts[-1])


@register.simple_tag(takes_context=True)
def kudos_box(context: Any, work: Work, chapter_position: int | None = None) -> str:
    """Rendered into the guest page cache too: nothing here may depend on a guest's cookies.

    A logged-in reader's page is not cached, so it may say whether they left kudos already.
    """
    if work.draft:
        return ""
    request = context.get("request")
    user = getattr(request, "user", None)
    logged_in = bool(user is not None and user.is_authenticated)
    summary = kudos_summary(work, viewer=user if logged_in else None)
    # On a one-chapter work the chapter is the work: one button is enough.
    position = chapter_position if work.chapter_count > 1 else None
    buttons = []
    if not context.get("is_creator", False):
        if position:
            buttons.append({
                "url": reverse("feedback:chapter_kudos", args=[work.pk, position]),
                "label": "Kudos ♥ for this chapter",
                "done": position in summary.mine_on_chapters,
                "target": "chapter",
            })
        buttons.append({
            "url": reverse("feedback:kudos", args=[work.pk]),
            "label": "Kudos ♥",
            "done": summary.mine_on_work,
            "target": "work",
        })
    return render_to_string(
        "feedback/_kudos_box.html",
        {
            "work": work,
            "position": position,
            "summary": summary,
            "names": names_sentence(summary.names),
            "total": summary.names.total,
            "chapter_kudos": summary.chapters.get(position, 0) if position else 0,
            "most_loved": summary.most_loved() if work.chapter_count > 1 else [],
            "buttons": buttons,
            "next": request.get_full_path() if request is not None else "",
        },
        request=request,
    )
