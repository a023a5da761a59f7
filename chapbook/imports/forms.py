from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from chapbook.people.models import Pseud, User
from chapbook.tags.models import DEFAULT_IMPORT_RATING, RATINGS, WARNINGS
from chapbook.works.forms import tag_field
from chapbook.works.services import split_tag_names

# Upload several files in one go; Django's file input takes one unless told otherwise.
MAX_FILES = 20


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if not files:
            super().clean(None, initial)  # raises "required"
            return []
        single = super().clean
        return [single(f, initial) for f in files]


class UploadForm(forms.Form):
    # The form metaclass moves declared fields into base_fields, so this does not shadow
    # Form.files at run time; mypy only sees the class attribute.
    files = MultipleFileField(  # type: ignore[assignment]
        label="Story files",
        widget=MultipleFileInput(attrs={"accept": ".txt,.text,.html,.htm,text/plain,text/html"}),
    )
    pseud = forms.ModelChoiceField(label="Credit to pseud", queryset=Pseud.objects.none(), empty_label=None)
    fandoms = tag_field("Fandoms", "fandom", help_text="Separate fandoms with commas. Needed unless the file names one.")
    # Blank means "what the file says", and Not Rated when it says nothing, as AO3 does for imports.
    rating = forms.ChoiceField(
        choices=[("", f"From the file, else {DEFAULT_IMPORT_RATING}")] + [(r, r) for r in RATINGS],
        required=False,
    )
    warnings = forms.MultipleChoiceField(
        label="Archive warnings",
        choices=[(w, w) for w in WARNINGS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: the file's, else “Creator Chose Not To Use Archive Warnings”.",
    )
    relationships = tag_field("Relationships", "relationship", help_text="A/B for romantic, A & B for platonic; commas between.")
    characters = tag_field("Characters", "character")
    freeforms = tag_field("Additional tags", "freeform")
    title = forms.CharField(
        required=False, max_length=255, help_text="Leave empty to use the file's title (or its name)."
    )
    draft = forms.BooleanField(label="Save as draft", required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["pseud"]).queryset = user.pseuds.all()
        self.fields["files"].help_text = (
            f"Plain text (.txt) or HTML (.html), one story per file: up to {MAX_FILES} files "
            f"of at most {filesizeformat(settings.IMPORT_MAX_BYTES)} each."
        )
        if not self.is_bound:
            self.initial.setdefault("pseud", user.default_pseud.pk)

    def clean_files(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data["files"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"Upload at most {MAX_FILES} files at a time.")
        limit = settings.IMPORT_MAX_BYTES
        # Checked before reading: an oversized upload is never loaded into memory.
        too_big = [f.name for f in files if f.size is not None and f.size > limit]
        if too_big:
            raise forms.ValidationError(
                f"{', '.join(str(name) for name in too_big)}: files can be at most {filesizeformat(limit)}."
            )
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("title") and len(data.get("files") or []) > 1:
            self.add_error("title", "A title names one work: leave it empty when uploading several files.")
        return data

    def import_options(self) -> dict[str, Any]:
        """Keyword arguments for import_file, apart from the file itself."""
        data = self.cleaned_data
        return {
            "pseud_name": data["pseud"].name,
            "fandoms": split_tag_names(data["fandoms"]),
            "rating": data["rating"] or None,
            "warnings": list(data["warnings"]),
            "relationships": split_tag_names(data["relationships"]),
            "characters": split_tag_names(data["characters"]),
            "tags": split_tag_names(data["freeforms"]),
            "title": data["title"] or None,
            "draft": data["draft"],
        }
