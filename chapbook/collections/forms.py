"""Forms of the collection pages: plain HTML forms; the services hold the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from chapbook.collections.models import Collection
from chapbook.collections.selectors import moderated_by
from chapbook.people.models import User
from chapbook.tags.models import TagType
from chapbook.works.models import Work

# The tag types a prompt can carry (ratings, warnings and categories belong to works).
PROMPT_TAG_TYPES = [TagType.FANDOM, TagType.RELATIONSHIP, TagType.CHARACTER, TagType.FREEFORM]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


def when_field(label: str, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text=help_text or "Server time (UTC).",
    )


class CollectionForm(forms.Form):
    """A collection's settings; the name only when making one (it is its address)."""

    name = forms.CharField(
        max_length=60,
        help_text="Its address: /collections/NAME. 2 to 60 letters, digits, - or _. It cannot be changed later.",
    )
    title = forms.CharField(max_length=255)
    description = forms.CharField(
        required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 5}), help_text="HTML is cleaned."
    )
    parent = forms.ModelChoiceField(
        label="Subcollection of",
        queryset=Collection.objects.none(),
        to_field_name="name",
        required=False,
        help_text="One of the collections you moderate (a meme's rounds live under the meme).",
    )
    closed = forms.BooleanField(label="Closed: takes no new works (except from moderators)", required=False)
    moderated = forms.BooleanField(label="Moderated: works wait for a moderator's approval", required=False)
    anonymous = forms.BooleanField(label="Anonymous: creators are shown as “Anonymous” until revealed", required=False)
    unrevealed = forms.BooleanField(
        label="Unrevealed: works are seen only by their creators and the moderators until revealed", required=False
    )
    prompt_meme = forms.BooleanField(label="Run a prompt meme", required=False)
    prompts_open_at = when_field("Prompts open", "Empty: open from the start. Server time (UTC).")
    prompts_close_at = when_field("Prompts close", "Empty: never closes. Server time (UTC).")
    rules = forms.CharField(
        required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 5}), help_text="HTML is cleaned."
    )
    required_tag_types = forms.MultipleChoiceField(
        label="Every prompt must carry",
        choices=[(t.value, t.label) for t in PROMPT_TAG_TYPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args: Any, user: User, collection: Collection | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.collection = collection
        parents = moderated_by(user).filter(parent__isnull=True).order_by("title")
        if collection is not None:
            del self.fields["name"]
            parents = parents.exclude(pk=collection.pk)
            # The current parent stays a choice even when its user no longer moderates it.
            if collection.parent_id is not None:
                parents = parents | Collection.objects.filter(pk=collection.parent_id)
        cast(forms.ModelChoiceField, self.fields["parent"]).queryset = parents

    @classmethod
    def initial_for(cls, collection: Collection) -> dict[str, Any]:
        return {
            "title": collection.title,
            "description": collection.description,
            "parent": collection.parent.name if collection.parent else None,
            "closed": collection.closed,
            "moderated": collection.moderated,
            "anonymous": collection.anonymous,
            "unrevealed": collection.unrevealed,
            "prompt_meme": collection.prompt_meme,
            "prompts_open_at": collection.prompts_open_at,
            "prompts_close_at": collection.prompts_close_at,
            "rules": collection.rules,
            "required_tag_types": [t for t in collection.required_tag_types.split(",") if t],
        }

    def service_fields(self) -> dict[str, Any]:
        """The keyword arguments of create_collection / update_collection."""
        data = dict(self.cleaned_data)
        data["required_tag_types"] = list(data.get("required_tag_types") or [])
        for key in ("description", "rules"):
            data[key] = data.get(key) or ""
        return data


class InviteModeratorForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="They moderate once they accept the invitation.")

    def clean_username(self) -> User:
        name = self.cleaned_data["username"].strip()
        user = User.objects.filter(username__iexact=name).first()
        if user is None:
            raise ValidationError(f"There is no user called “{name}”.")
        return user


class RevealNowForm(forms.Form):
    works = forms.BooleanField(label="Reveal the works", required=False)
    creators = forms.BooleanField(label="Reveal the creators", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("works") and not data.get("creators"):
            raise ValidationError("Tick what to reveal: the works, the creators, or both.")
        return data


class ScheduleRevealForm(forms.Form):
    works_on = when_field("Reveal the works on", "Empty: no date. Server time (UTC).")
    creators_on = when_field("Reveal the creators on", "Empty: no date. Server time (UTC).")


class AddWorkForm(forms.Form):
    """One of the reader's own works that is not in the collection yet."""

    work = forms.ModelChoiceField(label="Your work", queryset=Work.objects.none(), empty_label=None)

    def __init__(self, *args: Any, works: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["work"]).queryset = works


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError on the form, on the field it names when the form has one."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, messages in error.message_dict.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
