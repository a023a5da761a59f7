"""Posting, previewing, editing and deleting works."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chapbook.site.http import AuthenticatedRequest
from chapbook.works import services
from chapbook.works.forms import NewWorkForm, WorkForm, apply_service_errors
from chapbook.works.services import render_html_field
from chapbook.works.views.reading import visible_work_or_404


def _report_removed(request: HttpRequest, removed: list[str]) -> None:
    if removed:
        messages.warning(request, "Some HTML was removed because it is not allowed: " + "; ".join(removed) + ".")


def _preview(form: NewWorkForm | WorkForm) -> dict[str, object]:
    """Render what the work would look like, without saving anything."""
    data = form.cleaned_data
    fmt = data.get("format", "html")
    parts = {
        "summary": render_html_field(data["summary"]),
        "notes": render_html_field(data["notes"]),
        "end_notes": render_html_field(data["end_notes"]),
    }
    if "text" in data:
        parts["chapter_notes"] = render_html_field(data["chapter_notes"])
        parts["text"] = render_html_field(data["text"], fmt)
        parts["chapter_end_notes"] = render_html_field(data["chapter_end_notes"])
    removed: list[str] = []
    for rendered in parts.values():
        removed += rendered.removed
    return {"html": {k: v.html for k, v in parts.items()}, "removed": list(dict.fromkeys(removed)), "tags": form.tag_input()}


@login_required
def work_new(request: AuthenticatedRequest) -> HttpResponse:
    form = NewWorkForm(request.POST or None, user=request.user)
    preview = None
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "post")
        if action == "preview":
            preview = _preview(form)
        else:
            try:
                work, removed = services.post_work(
                    by=request.user, chapters=[form.chapter_input()], draft=action == "draft", **form.work_fields()
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                _report_removed(request, removed)
                messages.success(request, "Draft saved." if work.draft else "Work posted.")
                return redirect(work)
    return render(request, "works/work_form.html", {"form": form, "preview": preview, "new": True})


@login_required
def work_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    work = visible_work_or_404(request, pk)
    services.require_creator(work, request.user)
    form = WorkForm(request.POST or None, user=request.user, initial=WorkForm.initial_for(work))
    preview = None
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "save")
        if action == "preview":
            preview = _preview(form)
        else:
            try:
                work, removed = services.update_work(
                    work, by=request.user, draft=False if action == "post" else None, **form.work_fields()
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                _report_removed(request, removed)
                messages.success(request, "Work updated." if action != "post" else "Work posted.")
                return redirect(work)
    return render(request, "works/work_form.html", {"form": form, "preview": preview, "work": work, "new": False})


@login_required
@require_POST
def work_publish(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    work = visible_work_or_404(request, pk)
    try:
        services.publish_work(work, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Work posted.")
    return redirect(work)


@login_required
def work_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    work = visible_work_or_404(request, pk)
    services.require_creator(work, request.user)
    if request.method == "POST":
        title = work.title
        services.delete_work(work, by=request.user)
        messages.success(request, f"“{title}” was deleted.")
        return redirect("people:profile", request.user.username)
    return render(request, "works/work_confirm_delete.html", {"work": work})

