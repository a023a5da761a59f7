"""Forms of the wrangling pages: they turn names into tags and call the wrangling services."""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from chapbook.people.models import User
from chapbook.tags import services
from chapbook.tags.models import FIXED_TYPES, Tag, TagType
from chapbook.works.services import split_tag_names

WRANGLEABLE_TYPES = [(value, label) for value, label in TagType.choices if value not in FIXED_TYPES]
STATUSES = [("", "Any"), ("canonical", "Canonical"), ("synonym", "Synonym"), ("unwrangled", "Unwrangled")]

# What the table of search results can do to the ticked tags.
BULK_ACTIONS = [
    ("canonical", "Make canonical"),
    ("unwrangle", "Make unwrangled"),
    ("synonym", "Make synonyms of"),
    ("add_parent", "Add parent tag"),
    ("remove_parent", "Remove parent tag"),
    ("assign_fandom", "Assign fandom"),
    ("remove_fandom", "Remove fandom"),
]
# One tag's page can also act on other tags with respect to it.
TAG_ACTIONS = BULK_ACTIONS + [
    ("add_synonym", "Add synonyms"),
    ("add_child", "Add sub-tags"),
    ("remove_child", "Remove sub-tag"),
]
NEEDS_NAMES = {action for action, _ in TAG_ACTIONS} - {"canonical", "unwrangle"}


def tags_named(names: list[str]) -> tuple[list[Tag], list[str]]:
    """The tags with these names (any case), in the order given, and the names of none."""
    if not names:
        return [], []
    found = Tag.objects.filter(reduce(or_, (Q(name__iexact=name) for name in names)))
    by_name = {tag.name.lower(): tag for tag in found}
    return (
        [by_name[name.lower()] for name in names if name.lower() in by_name],
        [name for name in names if name.lower() not in by_name],
    )


class TagSearchForm(forms.Form):
    q = forms.CharField(label="Name contains", required=False, max_length=150)
    type = forms.ChoiceField(label="Type", choices=[("", "Any")] + WRANGLEABLE_TYPES, required=False)
    fandom = forms.CharField(
        label="In fandom",
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"data-autocomplete": "fandom", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(label="Status", choices=STATUSES, required=False)

    def clean_fandom(self) -> Tag | None:
        name = " ".join(self.cleaned_data["fandom"].split())
        if not name:
            return None
        fandom = Tag.objects.filter(name__iexact=name, type=TagType.FANDOM).first()
        if fandom is None:
            raise ValidationError(f"No fandom is called “{name}”.")
        return fandom

    def tags(self) -> QuerySet[Tag]:
        """The wrangleable tags that match, with what the results table shows."""
        data = self.cleaned_data
        tags = Tag.objects.exclude(type__in=FIXED_TYPES)
        if data["q"].strip():
            tags = tags.filter(name__icontains=data["q"].strip())
        if data["type"]:
            tags = tags.filter(type=data["type"])
        if data["fandom"] is not None:
            # A fandom's own tags, and for fandoms its sub-fandoms.
            tags = tags.filter(parents=data["fandom"])
        status = data["status"]
        if status == "canonical":
            tags = tags.filter(canonical=True)
        elif status == "synonym":
            tags = tags.filter(synonym_of__isnull=False)
        elif status == "unwrangled":
            tags = tags.filter(canonical=False, synonym_of__isnull=True)
        return tags.select_related("synonym_of").prefetch_related("parents").order_by("name")


class WrangleForm(forms.Form):
    """One wrangling action on some tags: the tags come from the caller (one tag's page)."""

    action = forms.ChoiceField(choices=TAG_ACTIONS)
    names = forms.CharField(
        label="Tag name",
        required=False,
        max_length=5000,
        help_text="Separate several parent tags or fandoms with commas.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        names = split_tag_names(data.get("names", ""))
        data["targets"] = []
        if action not in NEEDS_NAMES:
            return data
        if not names:
            self.add_error("names", "Name the tag to use.")
        elif action == "synonym" and len(names) > 1:
            self.add_error("names", "A tag is a synonym of one canonical tag: name only one.")
        targets, unknown = tags_named(names)
        for name in unknown:
            self.add_error("names", f"No tag is called “{name}”.")
        data["targets"] = targets
        return data

    def apply(self, tags: list[Tag], *, by: User) -> list[Tag]:
        """Call the service for the chosen action; raises its ValidationError or PermissionDenied."""
        action, targets = self.cleaned_data["action"], self.cleaned_data["targets"]
        if action == "canonical":
            return services.make_canonical(tags, by=by)
        if action == "unwrangle":
            return services.make_unwrangled(tags, by=by)
        if action == "synonym":
            return services.make_synonym(tags, of=targets[0], by=by)
        if action == "add_parent":
            return services.add_parents(tags, parents=targets, by=by)
        if action == "remove_parent":
            return services.remove_parents(tags, parents=targets, by=by)
        if action == "assign_fandom":
            return services.assign_fandoms(tags, fandoms=targets, by=by)
        if action == "remove_fandom":
            return services.remove_fandoms(tags, fandoms=targets, by=by)
        # The named tags are wrangled with respect to the one tag of the page.
        if action == "add_synonym":
            return services.make_synonym(targets, of=tags[0], by=by)
        if action == "add_child":
            return services.add_parents(targets, parents=tags, by=by)
        assert action == "remove_child"
        return services.remove_parents(targets, parents=tags, by=by)

    def add_service_errors(self, error: ValidationError) -> None:
        # The services name their own arguments; their messages name the tags, so they
        # read well above the form whichever field they came from.
        for message in error.messages:
            self.add_error(None, message)


class BulkWrangleForm(WrangleForm):
    """The search results' form: the ticked tags and one action for all of them."""

    action = forms.ChoiceField(choices=BULK_ACTIONS)
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.exclude(type__in=FIXED_TYPES),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": "Tick at least one tag."},
    )

    def apply_to_ticked(self, *, by: User) -> list[Tag]:
        return self.apply(list(self.cleaned_data["tags"]), by=by)
