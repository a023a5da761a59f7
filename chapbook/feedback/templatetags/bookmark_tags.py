"""`{% bookmark_button work %}`: the work page's Bookmark / Edit bookmark link and bookmark count."""

from __future__ import annotations

from typing import Any

from django import template

from chapbook.feedback.models import Bookmark
from chapbook.works.models import Work

register = template.Library()


@register.inclusion_tag("feedback/_bookmark_button.html", takes_context=True)
def bookmark_button(context: Any, work: Work) -> dict[str, Any]:
    """For guests it depends on nothing but the work (their page is cached whole and shared
    by all guests, keyed on `bookmarks_count` among others); for a reader, one query."""
    request = context.get("request")
    user = getattr(request, "user", None)
    bookmarked = False
    can_bookmark = bool(user is not None and user.is_authenticated and not work.draft)
    if user is not None and can_bookmark:
        bookmarked = Bookmark.objects.filter(user_id=user.pk, work_id=work.pk).exists()
    return {"work": work, "bookmarked": bookmarked, "can_bookmark": can_bookmark}
