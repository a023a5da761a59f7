"""{% work_collections work %}: the work page's "In collections: …" line, in one query."""

from __future__ import annotations

from typing import Any

from django import template

from chapbook.collections.models import ItemStatus
from chapbook.collections.selectors import work_items
from chapbook.works.models import Work

register = template.Library()


@register.inclusion_tag("collections/_work_collections.html", takes_context=True)
def work_collections(context: template.Context, work: Work) -> dict[str, Any]:
    """Approved collections for everyone; to the work's creators (`is_creator` in the
    page's context), also the ones waiting or declined, with a way to take the work out.

    A guest's page is cached per version of the work: every item change moves the work's
    `revised_at`, so the cached line is never stale.
    """
    items = list(work_items(work))
    creator = bool(context.get("is_creator"))
    return {
        "work": work,
        "approved": [item for item in items if item.status == ItemStatus.APPROVED],
        "others": [item for item in items if item.status != ItemStatus.APPROVED] if creator else [],
        "csrf_token": context.get("csrf_token"),
    }
