"""Collection pages: the index, a collection with its works, its settings, moderators,
items and reveal, and adding a work. Prompt memes have their own module."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from chapbook.collections import services
from chapbook.collections.forms import (
    AddWorkForm,
    CollectionForm,
    InviteModeratorForm,
    RevealNowForm,
    ScheduleRevealForm,
    apply_errors,
)
from chapbook.collections.models import (
    Collection,
    CollectionItem,
    ItemStatus,
    Moderator,
)
from chapbook.collections.selectors import (
    collection_named,
    collection_works,
    collections_visible_to,
    is_moderator,
    items_of,
    moderated_by,
    pending_invitations,
    status_counts,
)
from chapbook.listings.views import build_listing, render_listing
from chapbook.site.http import AuthenticatedRequest
from chapbook.works.blurbs import render_blurbs, version_rows
from chapbook.works.models import Creatorship, Work
from chapbook.works.selectors import listing_order, works_visible_to

COLLECTIONS_PER_PAGE = 50
ITEMS_PER_PAGE = 50
# Unrevealed works shown on the collection page to the few who may see them; the items
# page lists every one.
WAITING_SHOWN = 20


def _collection_or_404(name: str) -> Collection:
    collection = collection_named(name)
    if collection is None:
        raise Http404("No such collection.")
    return collection


def _moderator_or_403(request: HttpRequest, collection: Collection) -> None:
    if not is_moderator(request.user, collection):
        raise PermissionDenied("Only the collection's moderators can do that.")


def _next_url(request: HttpRequest, default: str) -> str:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return default


# --- Index ---------------------------------------------------------------------------


def index(request: HttpRequest) -> HttpResponse:
    collections = collections_visible_to(request.user).select_related("parent").order_by("title", "pk")
    page = Paginator(collections, COLLECTIONS_PER_PAGE).get_page(request.GET.get("page"))
    mine: list[Collection] = []
    invitations = 0
    if request.user.is_authenticated:
        mine = list(moderated_by(request.user).select_related("parent").order_by("title", "pk"))
        invitations = pending_invitations(request.user).count()
    return render(request, "collections/index.html", {"page": page, "mine": mine, "invitations": invitations})


@login_required
def new(request: AuthenticatedRequest) -> HttpResponse:
    initial = {"parent": request.GET.get("parent")} if request.GET.get("parent") else {}
    form = CollectionForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            collection = services.create_collection(by=request.user, **form.service_fields())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"“{collection.title}” was made.")
            return redirect(collection)
    return render(request, "collections/collection_form.html", {"form": form, "new": True})


# --- A collection ----------------------------------------------------------------------


def detail(request: HttpRequest, name: str) -> HttpResponse:
    """The collection with its works as a filtered listing (and its subcollections' works).

    Unrevealed works are in no listing (the filter index leaves them out); the few who
    may see them, their creators and the moderators, find them in a section of their own.
    """
    collection = _collection_or_404(name)
    moderator = is_moderator(request.user, collection)
    listed: set[int] = set()
    waiting: list[int] = []
    for pk, unrevealed in collection_works(collection, viewer=request.user).values_list("pk", "unrevealed"):
        if unrevealed:
            waiting.append(pk)
        else:
            listed.add(pk)
    listing = build_listing(request, within=frozenset(listed))
    waiting_blurbs = []
    if waiting:
        rows = version_rows(listing_order(Work.objects.filter(pk__in=waiting))[:WAITING_SHOWN])
        waiting_blurbs = render_blurbs(list(rows))
    context: dict[str, Any] = {
        "collection": collection,
        "moderators": Moderator.objects.filter(collection=collection, accepted=True)
        .select_related("user")
        .order_by("user__username"),
        "children": collection.children.order_by("title"),
        "is_moderator": moderator,
        "is_owner": request.user.is_authenticated and collection.owner_id == request.user.pk,
        "counts": status_counts(collection) if moderator else None,
        "waiting": waiting_blurbs,
        "waiting_count": len(waiting),
    }
    return render_listing(request, "collections/detail.html", listing, **context)


@login_required
def edit(request: AuthenticatedRequest, name: str) -> HttpResponse:
    collection = _collection_or_404(name)
    _moderator_or_403(request, collection)
    form = CollectionForm(
        request.POST or None, user=request.user, collection=collection, initial=CollectionForm.initial_for(collection)
    )
    if request.method == "POST" and form.is_valid():
        try:
            collection = services.update_collection(collection, by=request.user, **form.service_fields())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The collection's settings were saved.")
            return redirect(collection)
    return render(request, "collections/collection_form.html", {"form": form, "new": False, "collection": collection})


@login_required
def delete(request: AuthenticatedRequest, name: str) -> HttpResponse:
    collection = _collection_or_404(name)
    if collection.owner_id != request.user.pk:
        raise PermissionDenied("Only the collection's owner can delete it.")
    if request.method == "POST":
        title = collection.title
        try:
            services.delete_collection(collection, by=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(collection)
        messages.success(request, f"“{title}” was deleted. Its works are still on the archive.")
        return redirect("collections:index")
    return render(request, "collections/collection_confirm_delete.html", {"collection": collection})


# --- Moderators ----------------------------------------------------------------------


@login_required
def moderators(request: AuthenticatedRequest, name: str) -> HttpResponse:
    """The owner invites and removes moderators; a moderator may step down."""
    collection = _collection_or_404(name)
    _moderator_or_403(request, collection)
    is_owner = collection.owner_id == request.user.pk
    form = InviteModeratorForm(request.POST or None)
    if request.method == "POST":
        if not is_owner:
            raise PermissionDenied("Only the collection's owner can invite moderators.")
        if form.is_valid():
            try:
                services.invite_moderator(collection, by=request.user, user=form.cleaned_data["username"])
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"{form.cleaned_data['username'].username} was invited to moderate.")
                return redirect("collections:moderators", collection.name)
    rows = Moderator.objects.filter(collection=collection).select_related("user").order_by("-accepted", "user__username")
    return render(
        request,
        "collections/moderators.html",
        {"collection": collection, "rows": rows, "form": form, "is_owner": is_owner},
    )


@login_required
@require_POST
def moderator_remove(request: AuthenticatedRequest, name: str, pk: int) -> HttpResponse:
    collection = _collection_or_404(name)
    row = get_object_or_404(Moderator.objects.select_related("user", "collection"), pk=pk, collection=collection)
    services.remove_moderator(row, by=request.user)
    if row.user_id == request.user.pk:
        messages.success(request, f"You no longer moderate “{collection.title}”.")
        return redirect(collection)
    messages.success(request, f"{row.user.username} no longer moderates “{collection.title}”.")
    return redirect("collections:moderators", collection.name)


@login_required
def invitations(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "collections/invitations.html", {"pending": pending_invitations(request.user)})


@login_required
@require_POST
def invitation_answer(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    # Someone else's invitation is a 404: whether it exists is not theirs to know.
    row = get_object_or_404(Moderator.objects.select_related("collection"), pk=pk, user=request.user)
    accept = request.POST.get("answer") == "accept"
    services.answer_moderator_invitation(row, by=request.user, accept=accept)
    if accept:
        messages.success(request, f"You now moderate “{row.collection.title}”.")
        return redirect(row.collection)
    messages.info(request, f"You declined to moderate “{row.collection.title}”.")
    return redirect("collections:invitations")


# --- Items ---------------------------------------------------------------------------


@login_required
def items(request: AuthenticatedRequest, name: str) -> HttpResponse:
    """The moderators' queue: the works waiting, approved and rejected, with their actions.

    Only works a moderator may see are listed (a draft waits here unseen until it is posted).
    """
    collection = _collection_or_404(name)
    _moderator_or_403(request, collection)
    status = request.GET.get("status", ItemStatus.PENDING)
    if status not in ItemStatus.values:
        status = ItemStatus.PENDING
    rows = (
        items_of(collection, status=status)
        .filter(work__in=works_visible_to(request.user))
        .prefetch_related(_creators_prefetch())
    )
    page = Paginator(rows, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "collections/items.html",
        {
            "collection": collection,
            "page": page,
            "status": status,
            "statuses": ItemStatus.choices,
            "counts": status_counts(collection),
            "extra_query": f"status={status}",
        },
    )


def _creators_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "work__creatorships", queryset=Creatorship.objects.select_related("pseud__user").order_by("position", "pk")
    )


ITEM_ACTIONS = {
    "approve": (services.approve_item, "“{title}” is approved."),
    "reject": (services.reject_item, "“{title}” is rejected."),
    "remove": (services.remove_item, "“{title}” was taken out of the collection."),
}


@login_required
@require_POST
def item_action(request: AuthenticatedRequest, name: str, pk: int, action: str) -> HttpResponse:
    collection = _collection_or_404(name)
    if action not in ITEM_ACTIONS:
        raise Http404("No such action.")
    item = get_object_or_404(CollectionItem.objects.select_related("work", "collection"), pk=pk, collection=collection)
    # Nobody learns of a work through this form they could not see otherwise.
    if not works_visible_to(request.user).filter(pk=item.work_id).exists():
        raise Http404("No such work.")
    function, message = ITEM_ACTIONS[action]
    try:
        function(item, by=request.user)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, message.format(title=item.work.title))
    return redirect(_next_url(request, reverse("collections:items", args=[collection.name])))


# --- Reveal --------------------------------------------------------------------------


@login_required
def reveal(request: AuthenticatedRequest, name: str) -> HttpResponse:
    collection = _collection_or_404(name)
    _moderator_or_403(request, collection)
    action = request.POST.get("action") if request.method == "POST" else None
    now_form = RevealNowForm(
        request.POST if action == "now" else None,
        initial={"works": collection.hides_works, "creators": collection.hides_creators},
    )
    schedule_form = ScheduleRevealForm(
        request.POST if action == "schedule" else None,
        initial={"works_on": collection.reveal_works_on, "creators_on": collection.reveal_creators_on},
    )
    if action == "now" and now_form.is_valid():
        try:
            services.reveal(
                collection,
                by=request.user,
                works=now_form.cleaned_data["works"],
                creators=now_form.cleaned_data["creators"],
            )
        except ValidationError as error:
            apply_errors(now_form, error)
        else:
            messages.success(request, "Revealed.")
            return redirect(collection)
    if action == "schedule" and schedule_form.is_valid():
        try:
            services.schedule_reveal(
                collection,
                by=request.user,
                works_on=schedule_form.cleaned_data["works_on"],
                creators_on=schedule_form.cleaned_data["creators_on"],
            )
        except ValidationError as error:
            apply_errors(schedule_form, error)
        else:
            messages.success(request, "The reveal dates were saved.")
            return redirect("collections:reveal", collection.name)
    return render(
        request,
        "collections/reveal.html",
        {"collection": collection, "now_form": now_form, "schedule_form": schedule_form},
    )


# --- Adding a work -------------------------------------------------------------------


@login_required
def add(request: AuthenticatedRequest, name: str) -> HttpResponse:
    """A writer adds one of their works (any they are a creator of, not yet in it)."""
    collection = _collection_or_404(name)
    own = Creatorship.objects.filter(pseud__user=request.user, accepted=True).values("work_id")
    works = (
        Work.objects.filter(pk__in=own)
        .exclude(pk__in=CollectionItem.objects.filter(collection=collection).values("work_id"))
        .order_by("title", "pk")
    )
    form = AddWorkForm(request.POST or None, works=works)
    closed = collection.closed and not is_moderator(request.user, collection)
    if request.method == "POST" and not closed and form.is_valid():
        work: Work = form.cleaned_data["work"]
        try:
            item = services.add_work(collection, by=request.user, work=work)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            if item.status == ItemStatus.PENDING:
                messages.success(request, f"“{work.title}” waits for the moderators' approval.")
            else:
                messages.success(request, f"“{work.title}” is now in “{collection.title}”.")
            return redirect(collection)
    return render(
        request,
        "collections/add_work.html",
        {"collection": collection, "form": form, "closed": closed, "has_works": works.exists()},
    )
