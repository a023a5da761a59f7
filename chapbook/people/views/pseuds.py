"""A user's pseuds: the list, one pseud's page with its works, creating and editing them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from chapbook.people import services
from chapbook.people.forms import PseudForm, add_service_errors
from chapbook.people.models import Pseud, User
from chapbook.people.views.profiles import credited_works, user_or_404
from chapbook.site.http import AuthenticatedRequest
from chapbook.works.selectors import without_others_anonymous, works_visible_to


def pseud_or_404(username: str, name: str) -> Pseud:
    # Names are unique per user without regard to case, like usernames.
    pseud = Pseud.objects.select_related("user").filter(user__username__iexact=username, name__iexact=name).first()
    if pseud is None:
        raise Http404("No such pseud.")
    return pseud


def _owner_or_403(request: HttpRequest, user: User) -> None:
    if user.pk != request.user.pk:
        raise PermissionDenied("Only the owner can change these pseuds.")


def pseud_list(request: HttpRequest, username: str) -> HttpResponse:
    user = user_or_404(username)
    # An anonymous work counted under its pseud would give the pseud away.
    visible = without_others_anonymous(works_visible_to(request.user), request.user).values("pk")
    pseuds = user.pseuds.annotate(
        work_count=Count("creatorships", filter=Q(creatorships__accepted=True, creatorships__work__in=visible))
    ).order_by("-is_default", "name")
    context = {"profile_user": user, "pseuds": pseuds, "is_owner": request.user.pk == user.pk}
    return render(request, "people/pseud_list.html", context)


def pseud_detail(request: HttpRequest, username: str, name: str) -> HttpResponse:
    pseud = pseud_or_404(username, name)
    page = credited_works(request, Pseud.objects.filter(pk=pseud.pk))
    context = {"pseud": pseud, "profile_user": pseud.user, "page": page, "is_owner": request.user.pk == pseud.user_id}
    return render(request, "people/pseud_detail.html", context)


@login_required
def pseud_new(request: AuthenticatedRequest, username: str) -> HttpResponse:
    user = user_or_404(username)
    _owner_or_403(request, user)
    form = PseudForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pseud = services.create_pseud(user=user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Pseud “{pseud.name}” created.")
            return redirect(pseud)
    return render(request, "people/pseud_form.html", {"profile_user": user, "form": form, "pseud": None})


@login_required
def pseud_edit(request: AuthenticatedRequest, username: str, name: str) -> HttpResponse:
    pseud = pseud_or_404(username, name)
    _owner_or_403(request, pseud.user)
    if request.method == "POST" and request.POST.get("action") == "delete":
        try:
            services.delete_pseud(pseud, by=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("people:pseud_edit", pseud.user.username, pseud.name)
        messages.success(request, f"Pseud “{pseud.name}” deleted.")
        return redirect("people:pseuds", pseud.user.username)
    form = PseudForm(request.POST or None, pseud=pseud)
    if request.method == "POST" and form.is_valid():
        try:
            pseud = services.update_pseud(pseud, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Pseud updated.")
            return redirect(pseud)
    context = {
        "profile_user": pseud.user,
        "form": form,
        "pseud": pseud,
        "credited": pseud.creatorships.filter(accepted=True).count(),
    }
    return render(request, "people/pseud_form.html", context)
