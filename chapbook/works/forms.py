from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from chapbook.collections.forms_prompts import add_fill_fields, chosen_fill_prompt
from chapbook.people.models import Pseud, User
from chapbook.tags.models import CATEGORIES, RATINGS, WARNINGS
from chapbook.works.models import LANGUAGES, CommentPermission, Series, Work
from chapbook.works.services import ChapterInput, TagInput, split_tag_names

FORMAT_CHOICES = [("html", "HTML"), ("markdown", "Markdown"), ("text", "Plain text")]
TAG_HELP = "Separate tags with commas."


def tag_field(label: str, tag_type: str, required: bool = False, help_text: str = TAG_HELP) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=5000,
        help_text=help_text,
        # data-autocomplete is picked up by tags.js; without JavaScript it is a plain text field.
        widget=forms.TextInput(attrs={"data-autocomplete": tag_type, "autocomplete": "off"}),
    )


class ChapterFields(forms.Form):
    chapter_title = forms.CharField(label="Chapter title", required=False, max_length=255)
    chapter_notes = forms.CharField(label="Chapter beginning notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    text = forms.CharField(
        label="Text",
        widget=forms.Textarea(attrs={"class": "text", "rows": 20}),
        max_length=510_000,
        help_text="The story itself. HTML is cleaned: scripts, styles and unsafe links are removed.",
    )
    format = forms.ChoiceField(label="Text format", choices=FORMAT_CHOICES, initial="html")
    chapter_end_notes = forms.CharField(label="Chapter end notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def chapter_input(self) -> ChapterInput:
        data = self.cleaned_data
        return ChapterInput(
            text=data["text"],
            format=data["format"],
            title=data["chapter_title"],
            notes=data["chapter_notes"],
            end_notes=data["chapter_end_notes"],
        )


class ChapterForm(ChapterFields):
    pass


class WorkForm(forms.Form):
    """The metadata of a work. The first chapter's fields are added by NewWorkForm."""

    title = forms.CharField(max_length=255)
    pseuds = forms.ModelMultipleChoiceField(
        label="Creator pseuds", queryset=Pseud.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    co_creators = forms.CharField(
        label="Invite co-creators",
        required=False,
        max_length=1000,
        help_text="Usernames, or “pseud (username)”, separated by commas. They are credited once they accept.",
    )
    gifts = forms.CharField(
        label="Gift to",
        required=False,
        max_length=2000,
        help_text="Usernames, or the names of people without an account, separated by commas.",
    )
    fandoms = tag_field("Fandoms", "fandom", required=True)
    rating = forms.ChoiceField(choices=[(r, r) for r in RATINGS], initial="Not Rated")
    warnings = forms.MultipleChoiceField(
        label="Archive warnings", choices=[(w, w) for w in WARNINGS], widget=forms.CheckboxSelectMultiple
    )
    categories = forms.MultipleChoiceField(
        choices=[(c, c) for c in CATEGORIES], widget=forms.CheckboxSelectMultiple, required=False
    )
    relationships = tag_field("Relationships", "relationship", help_text="A/B for romantic, A & B for platonic; commas between.")
    characters = tag_field("Characters", "character")
    freeforms = tag_field("Additional tags", "freeform")
    language = forms.ChoiceField(choices=LANGUAGES, initial="en")
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
    notes = forms.CharField(label="Beginning notes", required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)
    end_notes = forms.CharField(label="End notes", required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)
    expected_chapters = forms.IntegerField(
        label="Expected number of chapters",
        required=False,
        min_value=1,
        max_value=10000,
        help_text="Leave empty if you do not know yet (shown as “?”).",
    )
    restricted = forms.BooleanField(label="Only show to logged-in readers", required=False)
    comment_permission = forms.ChoiceField(
        label="Who can comment", choices=CommentPermission.choices, initial=CommentPermission.EVERYONE, required=False
    )
    moderate_comments = forms.BooleanField(
        label="Hold new comments until I approve them", required=False
    )
    series = forms.ModelChoiceField(label="Add to series", queryset=Series.objects.none(), required=False)
    collections = forms.CharField(
        label="Collections",
        required=False,
        max_length=2000,
        help_text="Names of collections (as in their address, /collections/NAME), separated by commas.",
    )
    series_title = forms.CharField(label="…or start a new series", required=False, max_length=255)
    source_site = forms.CharField(label="Originally posted on (site)", required=False, max_length=100)
    source_url = forms.URLField(label="Original URL", required=False, max_length=500, assume_scheme="https")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        cast(forms.ModelMultipleChoiceField, self.fields["pseuds"]).queryset = user.pseuds.all()
        cast(forms.ModelChoiceField, self.fields["series"]).queryset = Series.objects.filter(owner=user)
        # "This work fills a prompt": the writer's open claims, or a prompt's number or address.
        add_fill_fields(self, user)
        if not self.is_bound and "pseuds" not in self.initial:
            self.initial["pseuds"] = [user.default_pseud.pk]

    def clean_co_creators(self) -> list[Pseud]:
        found: list[Pseud] = []
        for entry in split_tag_names(self.cleaned_data["co_creators"]):
            found.append(find_pseud(entry))
        return found

    def tag_input(self) -> TagInput:
        data = self.cleaned_data
        return TagInput(
            fandoms=split_tag_names(data["fandoms"]),
            ratings=[data["rating"]],
            warnings=list(data["warnings"]),
            categories=list(data["categories"]),
            relationships=split_tag_names(data["relationships"]),
            characters=split_tag_names(data["characters"]),
            freeforms=split_tag_names(data["freeforms"]),
        )

    def work_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "tags": self.tag_input(),
            "pseuds": list(data["pseuds"]),
            "co_creators": data["co_creators"],
            "gifts": split_tag_names(data["gifts"]),
            "summary": data["summary"],
            "notes": data["notes"],
            "end_notes": data["end_notes"],
            "language": data["language"],
            "expected_chapters": data["expected_chapters"],
            "restricted": data["restricted"],
            "comment_permission": data["comment_permission"] or CommentPermission.EVERYONE,
            "moderate_comments": data["moderate_comments"],
            "series": data["series"],
            "series_title": data["series_title"],
            "collections": split_tag_names(data["collections"]),
            "source_site": data["source_site"],
            "source_url": data["source_url"],
            "fill_prompt": chosen_fill_prompt(self),
        }

    @classmethod
    def initial_for(cls, work: Work) -> dict[str, Any]:
        tags = TagInput.from_work(work)
        return {
            "title": work.title,
            "pseuds": [c.pseud_id for c in work.creatorships.all() if c.accepted],
            # Every collection the work is in or asked to be in (waiting or declined too):
            # a name left in the field keeps its item as it is, a name taken out removes it.
            "collections": ", ".join(
                work.collection_items.order_by("collection__title", "pk").values_list("collection__name", flat=True)
            ),
            "gifts": ", ".join(g.recipient.username if g.recipient else g.recipient_name for g in work.visible_gifts()),
            "fandoms": ", ".join(tags.fandoms),
            "rating": tags.ratings[0] if tags.ratings else "Not Rated",
            "warnings": tags.warnings,
            "categories": tags.categories,
            "relationships": ", ".join(tags.relationships),
            "characters": ", ".join(tags.characters),
            "freeforms": ", ".join(tags.freeforms),
            "language": work.language,
            "summary": work.summary,
            "notes": work.notes,
            "end_notes": work.end_notes,
            "expected_chapters": work.expected_chapters,
            "restricted": work.restricted,
            "comment_permission": work.comment_permission,
            "moderate_comments": work.moderate_comments,
            "source_site": work.source_site,
            "source_url": work.source_url,
        }


class NewWorkForm(WorkForm, ChapterFields):
    """A new work: its metadata plus the first chapter, as on AO3."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A new work is a one-shot (1/1) unless the writer says it will have more chapters.
        self.fields["expected_chapters"].initial = 1


def find_pseud(entry: str) -> Pseud:
    """Resolve "username" or "pseud (username)" to a pseud, or raise a form error."""
    entry = entry.strip()
    if entry.endswith(")") and "(" in entry:
        name, _, username = entry[:-1].rpartition("(")
        pseud = Pseud.objects.filter(name__iexact=name.strip(), user__username__iexact=username.strip()).first()
    else:
        user = User.objects.filter(username__iexact=entry).first()
        pseud = user.default_pseud if user else None
    if pseud is None:
        raise ValidationError(f"There is no user or pseud called “{entry}”.")
    return pseud


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, on the field it names when the form has one."""
    field_map = {"ratings": "rating", "chapters": "text", "order": None}
    for field_name, messages in error.message_dict.items():
        target = field_map.get(field_name, field_name)
        if target not in form.fields:
            target = None
        for message in messages:
            form.add_error(target, message)
