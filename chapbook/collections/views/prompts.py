"""Pages of prompt memes: the prompts of a meme, one prompt, leaving, editing and
deleting prompts, claims, the writer's claims, matching an imported work to a prompt, and
the admins' identity lookup.

Every page of a collection that is not a prompt meme is a 404. A prompter is named only
through `prompts.prompter_name` (the `prompter` template tag), so an anonymous prompt
names nobody to anyone, its moderators included.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from chapbook.collections import matching, prompts
from chapbook.collections.forms_prompts import PromptForm, RevealForm
from chapbook.collections.models import Claim, Collection, Prompt
from chapbook.collections.selectors import collection_named
from chapbook.site.http import AuthenticatedRequest
from chapbook.works.forms import apply_service_errors
from chapbook.works.selectors import is_creator, works_visible_to

PAGE_SIZE = 20


def meme_or_404(name: str) -> Collection:
    collection = collection_named(name)
    if collection is None or not collection.prompt_meme:
        raise Http404("No such prompt meme.")
    return collection


def prompt_or_404(request: HttpRequest, collection: Collection, pk: int) -> Prompt:
    prompt = prompts.prompt_in(collection, pk, viewer=request.user)
    if prompt is None:
        raise Http404("No such prompt.")
    return prompt


def _error_messages(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def prompt_list(request: HttpRequest, name: str) -> HttpResponse:
    collection = meme_or_404(name)
    # A NUL cannot be stored or looked up on PostgreSQL; no tag name holds one anyway.
    tag = " ".join(request.GET.get("tag", "").replace("\x00", "").split())[:150]
    unclaimed = request.GET.get("unclaimed") in {"1", "on", "true"}
    unfilled = request.GET.get("unfilled") in {"1", "on", "true"}
    sort = request.GET.get("sort", "date")
    sort = sort if sort in prompts.SORTS else "date"
    found = prompts.prompts_for(
        collection, viewer=request.user, tag=tag or None, unclaimed=unclaimed, unfilled=unfilled, sort=sort
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {key: value for key, value in (("tag", tag), ("unclaimed", "1" if unclaimed else ""),
                                           ("unfilled", "1" if unfilled else ""), ("sort", sort if sort != "date" else "")) if value}
    context = {
        "collection": collection,
        "page": page,
        "prompts": list(page.object_list),
        "tag": tag,
        "unknown_tag": bool(tag) and not prompts.same_tag_ids(tag),
        "unclaimed": unclaimed,
        "unfilled": unfilled,
        "sort": sort,
        "extra_query": urlencode(query),
        "window_problem": prompts.prompt_window_problem(collection),
        "required_types": prompts.required_types(collection),
    }
    return render(request, "collections/prompt_list.html", context)


@login_required
def prompt_new(request: AuthenticatedRequest, name: str) -> HttpResponse:
    collection = meme_or_404(name)
    required = prompts.required_types(collection)
    form = PromptForm(request.POST or None, user=request.user, required=required)
    problem = prompts.prompt_window_problem(collection)
    if request.method == "POST" and problem is None and form.is_valid():
        try:
            prompt = prompts.post_prompt(collection=collection, by=request.user, **form.prompt_fields())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Prompt posted." + (" It is anonymous." if prompt.anonymous else ""))
            return redirect(prompt.get_absolute_url())
    # Outside the window the page says why instead of showing the form (a POST too).
    return render(
        request,
        "collections/prompt_form.html",
        {"collection": collection, "form": form, "problem": problem, "new": True},
    )


def prompt_detail(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    collection = meme_or_404(name)
    prompt = prompt_or_404(request, collection, pk)
    user = request.user
    claims = prompts.claims_of(prompt)
    mine = next((row for row in claims if user.is_authenticated and row.user_id == user.pk), None)
    context = {
        "collection": collection,
        "prompt": prompt,
        "claims": [(row, prompts.claimer_name(row), prompts.claimer_url(row)) for row in claims],
        "my_claim": mine,
        "fills": prompts.fills_of(prompt, viewer=user),
        "can_edit": prompts.can_edit_prompt(prompt, user),
        "can_delete": prompts.can_delete_prompt(prompt, user),
        "can_claim": user.is_authenticated and mine is None and not collection.closed,
        "can_fill": user.is_authenticated and not collection.closed,
        # Never whether the viewer is the prompter: a page that said so to the prompter
        # alone would still say it to anyone looking over their shoulder, and to nobody else.
        "is_admin": user.is_authenticated and user.is_superuser,
        "prompter_hidden": prompts.prompter_hidden(prompt),
    }
    return render(request, "collections/prompt_detail.html", context)


def _own_prompt_or_404(request: AuthenticatedRequest, collection: Collection, pk: int) -> Prompt:
    prompt = prompt_or_404(request, collection, pk)
    if prompt.user_id != request.user.pk:
        # Not "forbidden": a 403 on an anonymous prompt would tell the asker it is not theirs,
        # the same 404 as for a prompt that does not exist tells nothing.
        raise Http404("No such prompt.")
    return prompt


@login_required
def prompt_edit(request: AuthenticatedRequest, name: str, pk: int) -> HttpResponse:
    collection = meme_or_404(name)
    prompt = _own_prompt_or_404(request, collection, pk)
    if not prompts.can_edit_prompt(prompt, request.user):
        messages.error(request, "This prompt has a fill, so it can no longer be changed.")
        return redirect(prompt.get_absolute_url())
    required = prompts.required_types(collection)
    form = PromptForm(request.POST or None, user=request.user, required=required, initial=PromptForm.initial_for(prompt))
    if request.method == "POST" and form.is_valid():
        try:
            prompts.edit_prompt(prompt, by=request.user, **form.prompt_fields())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Prompt updated.")
            return redirect(prompt.get_absolute_url())
    return render(
        request, "collections/prompt_form.html", {"collection": collection, "form": form, "prompt": prompt, "new": False}
    )


@login_required
def prompt_delete(request: AuthenticatedRequest, name: str, pk: int) -> HttpResponse:
    collection = meme_or_404(name)
    prompt = prompt_or_404(request, collection, pk)
    if not prompts.can_delete_prompt(prompt, request.user):
        raise Http404("No such prompt.")
    if request.method == "POST":
        try:
            prompts.delete_prompt(prompt, by=request.user)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, "; ".join(error.messages) if isinstance(error, ValidationError) else str(error))
            return redirect(prompt.get_absolute_url())
        messages.success(request, "Prompt deleted.")
        return redirect("collections:prompts", collection.name)
    return render(request, "collections/prompt_confirm_delete.html", {"collection": collection, "prompt": prompt})


@login_required
@require_POST
def prompt_claim(request: AuthenticatedRequest, name: str, pk: int) -> HttpResponse:
    collection = meme_or_404(name)
    prompt = prompt_or_404(request, collection, pk)
    try:
        prompts.claim(prompt=prompt, by=request.user)
    except ValidationError as error:
        _error_messages(request, error)
    else:
        messages.success(request, "You claimed this prompt. Post a fill when it is written.")
    return redirect(prompt.get_absolute_url())


@login_required
@require_POST
def claim_drop(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    row = Claim.objects.select_related("prompt__collection").filter(pk=pk, user=request.user).first()
    if row is None:
        raise Http404("No such claim.")
    prompts.drop_claim(row, by=request.user)
    messages.success(request, "Claim dropped.")
    back = request.POST.get("next", "")
    return redirect("collections:claims" if back == "claims" else row.prompt.get_absolute_url())


@login_required
def claim_list(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(prompts.my_claims(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "collections/claim_list.html", {"page": page, "claims": list(page.object_list)})


@login_required
def prompt_identity(request: AuthenticatedRequest, name: str, pk: int) -> HttpResponse:
    """Site admins only: who left a prompt, with the reason written to the access log."""
    if not request.user.is_superuser:
        # Moderators included: to everyone but admins this page does not exist.
        raise Http404("No such page.")
    collection = meme_or_404(name)
    prompt = prompt_or_404(request, collection, pk)
    form = RevealForm(request.POST or None)
    prompter = None
    if request.method == "POST" and form.is_valid():
        try:
            prompter = prompts.reveal_prompter(prompt, admin=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            apply_service_errors(form, error)
    # Rendered in the answer to the POST, never put in a message: messages live in a
    # cookie, and the name must not outlive this one page.
    return render(
        request,
        "collections/prompt_identity.html",
        {"collection": collection, "prompt": prompt, "form": form, "prompter": prompter},
    )


@login_required
def match_prompt(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Offer the prompts an imported work most likely fills; "Link to this prompt" fills it."""
    work = works_visible_to(request.user).filter(pk=pk).first()
    if work is None or not is_creator(request.user, work):
        raise Http404("No such work.")
    collection = None
    if wanted := request.GET.get("collection", "").strip():
        collection = collection_named(wanted)
    if request.method == "POST":
        prompt = Prompt.objects.select_related("collection").filter(pk=_int(request.POST.get("prompt"))).first()
        if prompt is None:
            messages.error(request, "That prompt no longer exists.")
            return redirect("collections:match_prompt", work.pk)
        try:
            prompts.fill_prompt(work=work, prompt=prompt, by=request.user)
        except ValidationError as error:
            _error_messages(request, error)
            return redirect("collections:match_prompt", work.pk)
        messages.success(request, f"“{work.title}” is now a fill for {prompt} in {prompt.collection.title}.")
        return redirect(work)
    matches = matching.best_matches(work, collection=collection)
    return render(
        request,
        "collections/prompt_matches.html",
        {"work": work, "matches": [(prompt, round(score * 100)) for prompt, score in matches], "collection": collection},
    )


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 19 else 0


urlpatterns = [
    path("collections/<slug:name>/prompts", prompt_list, name="prompts"),
    path("collections/<slug:name>/prompts/new", prompt_new, name="prompt_new"),
    path("collections/<slug:name>/prompts/<int:pk>", prompt_detail, name="prompt"),
    path("collections/<slug:name>/prompts/<int:pk>/edit", prompt_edit, name="prompt_edit"),
    path("collections/<slug:name>/prompts/<int:pk>/delete", prompt_delete, name="prompt_delete"),
    path("collections/<slug:name>/prompts/<int:pk>/claim", prompt_claim, name="prompt_claim"),
    path("collections/<slug:name>/prompts/<int:pk>/identity", prompt_identity, name="prompt_identity"),
    path("claims", claim_list, name="claims"),
    path("claims/<int:pk>/drop", claim_drop, name="claim_drop"),
    path("works/<int:pk>/match-prompt", match_prompt, name="match_prompt"),
]
