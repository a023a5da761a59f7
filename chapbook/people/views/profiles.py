"""A user's profile, its edit page, and the list of all their works."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from chapbook.listings.views import user_works_page
from chapbook.people.forms import ProfileForm
from chapbook.people.models import Pseud, User
from chapbook.works.blurbs import blurb_page
from chapbook.works.selectors import without_others_anonymous, works_credited_to


def user_or_404(username: str) -> User:
    # Usernames are unique without regard to case, so /users/Alice is alice's page.
    user = User.objects.filter(username__iexact=username).first()
    if user is None:
        raise Http404("No such user.")
    return user


def credited_works(request: HttpRequest, pseuds: QuerySet[Pseud]) -> Page:
    """One page of the works credited to `pseuds` that the viewer may see.

    Anonymous works are left out for everyone but their creators: listed here, they
    would say who wrote them.
    """
    works = without_others_anonymous(works_credited_to(request.user, pseuds), request.user)
    return blurb_page(works, request.GET.get("page"))


def profile(request: HttpRequest, username: str) -> HttpResponse:
    user = user_or_404(username)
    if user.username != username:
        return redirect("people:profile", user.username, permanent=True)
    context = {
        "profile_user": user,
        "links": user.profile_links(),
        "pseuds": list(user.pseuds.order_by("-is_default", "name")),
        "page": credited_works(request, user.pseuds.all()),
        "is_owner": request.user.pk == user.pk,
    }
    return render(request, "people/profile.html", context)


def user_works(request: HttpRequest, username: str) -> HttpResponse:
    # The filtered listing, as on a tag: drafts stay on their work pages, as on AO3.
    return user_works_page(request, user_or_404(username))


@login_required
def profile_edit(request: HttpRequest, username: str) -> HttpResponse:
    user = user_or_404(username)
    if user.pk != request.user.pk:
        raise PermissionDenied("Only the owner can edit a profile.")
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Profile updated.")
        return redirect(user)
    return render(request, "people/profile_edit.html", {"profile_user": user, "form": form})
