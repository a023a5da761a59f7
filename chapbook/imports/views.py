"""Importing story files through the web: the form in front of `import_file`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from chapbook.imports.forms import UploadForm
from chapbook.imports.services import ImportFailed, import_file
from chapbook.works.models import Work


@dataclass
class FileOutcome:
    name: str
    work: Work | None = None
    removed: list[str] = field(default_factory=list)
    error: ImportFailed | None = None


def _import_one(request: HttpRequest, upload: UploadedFile, options: dict[str, Any]) -> FileOutcome:
    name = str(upload.name)
    try:
        work, removed = import_file(by=request.user, filename=name, data=upload.read(), **options)
    except ImportFailed as error:
        return FileOutcome(name, error=error)
    return FileOutcome(name, work=work, removed=removed)


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=request.user)
    else:
        form = UploadForm(user=request.user)
    outcomes: list[FileOutcome] = []
    if request.method == "POST" and form.is_valid():
        options = form.import_options()
        outcomes = [_import_one(request, f, options) for f in form.cleaned_data["files"]]
        if len(outcomes) == 1:
            outcome = outcomes[0]
            if outcome.work is not None:
                if outcome.removed:
                    messages.warning(request, "Some of the file was left out: " + "; ".join(outcome.removed) + ".")
                messages.success(request, "Draft saved." if outcome.work.draft else "Work imported.")
                return redirect(outcome.work)
            assert outcome.error is not None
            target = outcome.error.field if outcome.error.field in form.fields else "files"
            form.add_error(target, outcome.error.message)
            outcomes = []
    imported = [o for o in outcomes if o.work is not None]
    rejected = [o for o in outcomes if o.error is not None]
    return render(request, "imports/upload.html", {"form": form, "imported": imported, "rejected": rejected})
