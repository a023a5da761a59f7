"""Gift pages: the works given to a user, and refusing one."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chapbook.people.views.profiles import user_or_404
from chapbook.site.http import AuthenticatedRequest
from chapbook.works.blurbs import render_blurbs, version_rows
from chapbook.works.gifts import refuse_gift
from chapbook.works.models import Gift
from chapbook.works.selectors import works_visible_to

GIFTS_PER_PAGE = 20
BLURB_WORK_ID = re.compile(r'\s*<li class="blurb" id="work-(\d+)"')


def user_gifts(request: HttpRequest, username: str) -> HttpResponse:
    """The works given to `username` that the reader may see, newest gift first.

    Refused gifts are gone from here. Only the recipient gets the "Refuse gift" buttons.
    """
    recipient = user_or_404(username)
    if recipient.username != username:
        return redirect("works:user_gifts", recipient.username, permanent=True)
    gifts = (
        Gift.objects.filter(recipient=recipient, refused=False, work__in=works_visible_to(request.user).filter(draft=False))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(gifts.values_list("pk", "work_id"), GIFTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    by_work = {row[0]: row for row in version_rows(works_visible_to(request.user).filter(pk__in=[w for _, w in rows]))}
    # Each blurb opens with its work's id: that pairs it with its gift's button, even when
    # render_blurbs leaves out a work deleted meanwhile.
    blurbs = {}
    for blurb in render_blurbs([by_work[work_id] for _, work_id in rows if work_id in by_work]):
        if match := BLURB_WORK_ID.match(blurb):
            blurbs[int(match.group(1))] = blurb
    entries = [{"gift_id": gift_id, "blurb": blurbs[work_id]} for gift_id, work_id in rows if work_id in blurbs]
    context = {
        "profile_user": recipient,
        "entries": entries,
        "page": page,
        "is_recipient": request.user.pk == recipient.pk,
    }
    return render(request, "works/gift_list.html", context)


@login_required
@require_POST
def gift_refuse(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    # Someone else's gift is a 404: whether it exists is not theirs to know.
    gift = Gift.objects.select_related("work").filter(pk=pk, recipient=request.user, refused=False).first()
    if gift is None:
        raise Http404("No such gift.")
    refuse_gift(gift, by=request.user)
    messages.success(request, f"You refused “{gift.work.title}” as a gift; it no longer names you.")
    return redirect("works:user_gifts", request.user.username)
