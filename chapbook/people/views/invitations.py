"""Co-creator invitations: works someone else wants to credit to one of your pseuds."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from chapbook.site.http import AuthenticatedRequest
from chapbook.works.models import Creatorship
from chapbook.works.selectors import works_visible_to
from chapbook.works.services import answer_co_creator_invitation


def _pending_for(request: AuthenticatedRequest) -> QuerySet[Creatorship]:
    return Creatorship.objects.filter(pseud__user=request.user, accepted=False)


@login_required
def invitations(request: AuthenticatedRequest) -> HttpResponse:
    pending = list(_pending_for(request).select_related("work", "pseud__user", "invited_by").order_by("-pk"))
    # The invitee may see the title of a draft they are invited to, but the work itself only
    # once they are credited: link the title only where the reader could follow the link.
    readable = set(
        works_visible_to(request.user).filter(pk__in=[c.work_id for c in pending]).values_list("pk", flat=True)
    )
    return render(request, "people/invitations.html", {"pending": pending, "readable": readable})


@login_required
@require_POST
def invitation_answer(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    creatorship = get_object_or_404(_pending_for(request).select_related("work", "pseud"), pk=pk)
    answer = request.POST.get("answer")
    if answer not in {"accept", "decline"}:
        return HttpResponseBadRequest("Answer accept or decline.")
    accept = answer == "accept"
    answer_co_creator_invitation(creatorship, by=request.user, accept=accept)
    if accept:
        messages.success(request, f"You are now credited on “{creatorship.work.title}” as {creatorship.pseud.name}.")
        return redirect(creatorship.work)
    messages.success(request, f"Invitation to “{creatorship.work.title}” declined.")
    return redirect("people:invitations")
