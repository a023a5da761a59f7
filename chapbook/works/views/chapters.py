"""Adding, editing, reordering and deleting the chapters of a work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from chapbook.site.http import AuthenticatedRequest
from chapbook.works import services
from chapbook.works.forms import ChapterForm, apply_service_errors
from chapbook.works.models import Chapter
from chapbook.works.services import render_html_field
from chapbook.works.views.reading import visible_work_or_404


def _chapter_or_404(work_pk: int, position: int) -> Chapter:
    chapter = Chapter.objects.select_related("work").filter(work_id=work_pk, position=position).first()
    if chapter is None:
        raise Http404("No such chapter.")
    return chapter


@login_required
def chapter_new(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    work = visible_work_or_404(request, pk)
    services.require_creator(work, request.user)
    form = ChapterForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "preview":
            preview = render_html_field(form.cleaned_data["text"], form.cleaned_data["format"])
        else:
            try:
                chapter, removed = services.add_chapter(work, by=request.user, chapter=form.chapter_input())
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                if removed:
                    messages.warning(request, "Some HTML was removed: " + "; ".join(removed) + ".")
                messages.success(request, "Chapter added.")
                return redirect(chapter)
    return render(request, "works/chapter_form.html", {"form": form, "work": work, "preview": preview})


@login_required
def chapter_edit(request: AuthenticatedRequest, pk: int, position: int) -> HttpResponse:
    work = visible_work_or_404(request, pk)
    services.require_creator(work, request.user)
    chapter = _chapter_or_404(work.pk, position)
    initial = {
        "chapter_title": chapter.title,
        "chapter_notes": chapter.notes,
        "text": chapter.html,
        "format": "html",
        "chapter_end_notes": chapter.end_notes,
    }
    form = ChapterForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "preview":
            preview = render_html_field(form.cleaned_data["text"], form.cleaned_data["format"])
        else:
            try:
                chapter, removed = services.update_chapter(chapter, by=request.user, data=form.chapter_input())
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                if removed:
                    messages.warning(request, "Some HTML was removed: " + "; ".join(removed) + ".")
                messages.success(request, "Chapter updated.")
                return redirect(chapter)
    return render(
        request, "works/chapter_form.html", {"form": form, "work": work, "chapter": chapter, "preview": preview}
    )


@login_required
def chapter_delete(request: AuthenticatedRequest, pk: int, position: int) -> HttpResponse:
    work = visible_work_or_404(request, pk)
    services.require_creator(work, request.user)
    chapter = _chapter_or_404(work.pk, position)
    if request.method == "POST":
        try:
            services.delete_chapter(chapter, by=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(chapter)
        messages.success(request, "Chapter deleted.")
        return redirect(work)
    return render(request, "works/chapter_confirm_delete.html", {"work": work, "chapter": chapter})


@login_required
def chapter_order(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Reorder chapters: one number field per chapter, so it works without JavaScript."""
    work = visible_work_or_404(request, pk)
    services.require_creator(work, request.user)
    chapters = list(work.chapters.all())
    error = None
    if request.method == "POST":
        try:
            wanted = {c.pk: int(request.POST.get(f"position-{c.pk}", "")) for c in chapters}
        except ValueError:
            error = "Give every chapter a position number."
        else:
            order = [pk for pk, _ in sorted(wanted.items(), key=lambda item: (item[1], item[0]))]
            try:
                services.reorder_chapters(work, by=request.user, order=order)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, "Chapters reordered.")
                return redirect(work)
    return render(request, "works/chapter_order.html", {"work": work, "chapters": chapters, "error": error})
