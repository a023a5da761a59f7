"""The bookmark form: what a reader writes about a work or series they keep."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from chapbook.feedback.bookmarks import MAX_TAGS, NOTES_LIMIT
from chapbook.feedback.models import Bookmark
from chapbook.people.models import Pseud, User
from chapbook.works.services import split_tag_names


class BookmarkForm(forms.Form):
    """Only the shape of the input; the rules (tag limits, sanitizing) are the service's."""

    pseud = forms.ModelChoiceField(label="Bookmark as", queryset=Pseud.objects.none(), empty_label=None)
    notes = forms.CharField(
        required=False,
        # No max_length here: the service's limit and message are the one rule (the form,
        # the API and any other caller share it); the attribute only helps browsers.
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": NOTES_LIMIT}),
        help_text=f"Up to {NOTES_LIMIT:,} characters. HTML is cleaned: scripts and styles are removed.",
    )
    tags = forms.CharField(
        label="Your tags",
        required=False,
        max_length=20_000,
        help_text=f"Separate tags with commas; at most {MAX_TAGS}.",
        # data-autocomplete is picked up by tags.js; without JavaScript it is a plain text field.
        widget=forms.TextInput(attrs={"data-autocomplete": "freeform", "autocomplete": "off"}),
    )
    rec = forms.BooleanField(label="Rec (recommend it)", required=False)
    private = forms.BooleanField(label="Private bookmark (only you can see it)", required=False)

    def __init__(self, *args: Any, user: User, bookmark: Bookmark | None = None, **kwargs: Any) -> None:
        if bookmark is not None:
            kwargs.setdefault(
                "initial",
                {
                    "pseud": bookmark.pseud_id,
                    "notes": bookmark.notes,
                    "tags": ", ".join(tag.name for tag in bookmark.tags.all()),
                    "rec": bookmark.rec,
                    "private": bookmark.private,
                },
            )
        super().__init__(*args, **kwargs)
        pseuds = cast(forms.ModelChoiceField, self.fields["pseud"])
        pseuds.queryset = user.pseuds.order_by("-is_default", "name")
        if bookmark is None and "pseud" not in self.initial:
            self.initial["pseud"] = user.default_pseud.pk

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "pseud": data["pseud"],
            "notes": data["notes"],
            "tags": split_tag_names(data["tags"]),
            "rec": data["rec"],
            "private": data["private"],
        }
