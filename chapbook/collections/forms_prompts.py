"""Forms of prompt memes: a prompt, an admin's reason to look behind one, and the work
form's "This work fills a prompt" fields."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from chapbook.collections import prompts
from chapbook.collections.models import Prompt
from chapbook.people.models import Pseud, User
from chapbook.works.services import TagInput, split_tag_names

TAG_HELP = "Separate tags with commas."


def _tag_field(label: str, tag_type: str, help_text: str = TAG_HELP) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=5000,
        help_text=help_text,
        # Picked up by tags.js for suggestions; a plain text field without JavaScript.
        widget=forms.TextInput(attrs={"data-autocomplete": tag_type, "autocomplete": "off"}),
    )


class PromptForm(forms.Form):
    title = forms.CharField(required=False, max_length=prompts.MAX_TITLE)
    text = forms.CharField(
        label="Prompt",
        max_length=prompts.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Plain text (a blank line starts a paragraph) or a little HTML.",
    )
    fandoms = _tag_field("Fandoms", "fandom")
    relationships = _tag_field("Relationships", "relationship", "A/B for romantic, A & B for platonic; commas between.")
    characters = _tag_field("Characters", "character")
    freeforms = _tag_field("Additional tags", "freeform")
    anonymous = forms.BooleanField(
        label="Post anonymously",
        required=False,
        help_text="Nobody will see who left this prompt, the collection's moderators included.",
    )
    pseud = forms.ModelChoiceField(label="Pseud", queryset=Pseud.objects.none(), required=False)

    def __init__(self, *args: Any, user: User, required: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pseuds = user.pseuds.all()
        field = cast(forms.ModelChoiceField, self.fields["pseud"])
        field.queryset = pseuds
        field.empty_label = None
        if not self.is_bound and "pseud" not in self.initial:
            self.initial["pseud"] = user.default_pseud.pk
        fields_by_type = {str(tag_type): name for name, tag_type in prompts.PROMPT_TAG_FIELDS.items()}
        for tag_type in required or []:
            if tag_type in fields_by_type:
                # Marked for the reader; the service is what enforces it.
                tag_field = self.fields[fields_by_type[tag_type]]
                tag_field.label = f"{tag_field.label} (required)"

    def tag_input(self) -> TagInput:
        data = self.cleaned_data
        return TagInput(**{name: split_tag_names(data[name]) for name in prompts.PROMPT_TAG_FIELDS})

    def prompt_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "text": data["text"],
            "tags": self.tag_input(),
            "anonymous": data["anonymous"],
            "pseud": data["pseud"],
        }

    @staticmethod
    def initial_for(prompt: Prompt) -> dict[str, Any]:
        tags = {name: [t.name for t in prompt.tags.all() if t.type == tag_type] for name, tag_type in prompts.PROMPT_TAG_FIELDS.items()}
        return {
            "title": prompt.title,
            "text": prompt.text,
            **{name: ", ".join(names) for name, names in tags.items()},
            "anonymous": prompt.anonymous,
            "pseud": prompt.pseud_id,
        }


class RevealForm(forms.Form):
    reason = forms.CharField(
        label="Why do you need to know?",
        max_length=prompts.MAX_REASON,
        help_text="Written to the access log with your name.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# The work form's fields --------------------------------------------------------------


class PromptReferenceField(forms.CharField):
    """A prompt's number or its address; cleans to the Prompt (or None when empty)."""

    def clean(self, value: Any) -> Prompt | None:  # type: ignore[override]
        text = super().clean(value)
        if not text:
            return None
        prompt = prompts.prompt_from_reference(text)
        if prompt is None or not prompt.collection.prompt_meme:
            raise ValidationError(f"There is no prompt “{text[:60]}”.")
        return prompt


def add_fill_fields(form: forms.Form, user: User) -> None:
    """Add "This work fills a prompt" to a work form: the writer's open claims, or any
    prompt by number or address (filling without claiming first is allowed)."""
    claims = prompts.open_claims(user)
    choices = [("", "—")] + [
        (str(claim.prompt_id), f"{claim.prompt} in {claim.prompt.collection.title}") for claim in claims
    ]
    form.fields["fill_claim"] = forms.TypedChoiceField(
        label="This work fills a prompt I claimed",
        choices=choices,
        coerce=int,
        empty_value=None,
        required=False,
    )
    form.fields["fill_prompt"] = PromptReferenceField(
        label="…or fills this prompt",
        required=False,
        max_length=500,
        help_text="The prompt's number or address, if you did not claim it first.",
    )


def chosen_fill_prompt(form: forms.Form) -> Prompt | None:
    """The prompt the work form says the work fills (the typed one over the claimed one)."""
    data = form.cleaned_data
    typed = data.get("fill_prompt")
    if typed is not None:
        return cast(Prompt, typed)
    claimed = data.get("fill_claim")
    if claimed is None:
        return None
    return Prompt.objects.select_related("collection").filter(pk=claimed).first()
