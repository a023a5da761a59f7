"""The filter form of every listing page (GET parameters in, `Filters` out) and saved exclusions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict

from chapbook.listings.query import (
    CROSSOVER_CHOICES,
    SORT_LABELS,
    Filters,
    tags_by_name,
)
from chapbook.tags.models import CATEGORIES, RATINGS, WARNINGS, Tag, TagType
from chapbook.works.models import LANGUAGES
from chapbook.works.services import split_tag_names

# A page number past this is read as this: a deep OFFSET costs the index nothing, but a
# link with page=10**30 should not reach it as a number at all.
LAST_PAGE = 5000
# Ratings, warnings and categories: the archive's fixed tags, ticked by name.
FIXED_FIELDS: dict[str, tuple[TagType, list[str]]] = {
    "rating": (TagType.RATING, RATINGS),
    "warning": (TagType.WARNING, WARNINGS),
    "category": (TagType.CATEGORY, CATEGORIES),
}
CROSSOVER_LABELS = {"": "Include crossovers", "only": "Only crossovers", "exclude": "Exclude crossovers"}
ORDER_CHOICES = [("", "Default order"), ("desc", "Descending"), ("asc", "Ascending")]
MAX_SAVED_EXCLUSIONS = 200
WORDS_ERROR = "A word count cannot be negative."


class TagNamesInput(forms.TextInput):
    """Comma-separated tag names, also accepted as a repeated parameter (?include=A&include=B):
    the sidebar's facet links add a tag by appending one more."""

    def value_from_datadict(self, data: Mapping[str, Any], files: Any, name: str) -> str:
        values = data.getlist(name) if isinstance(data, MultiValueDict) else [data.get(name) or ""]
        return ", ".join(value for value in values if value and value.strip())


def tag_names_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=5000,
        help_text=help_text,
        widget=TagNamesInput(attrs={"autocomplete": "off"}),
    )


def fixed_field(label: str, names: list[str]) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        choices=[(name, name) for name in names],
        widget=forms.CheckboxSelectMultiple,
    )


def _unknown_tags_error(names: list[str]) -> str:
    quoted = ", ".join(f"“{name}”" for name in names)
    return f"No tag named {quoted}." if len(names) == 1 else f"No tags named {quoted}."


class ListingForm(forms.Form):
    """What a reader may ask a listing for. Always bound to request.GET, even when empty."""

    sort = forms.ChoiceField(label="Sort by", required=False, choices=list(SORT_LABELS.items()))
    order = forms.ChoiceField(label="Order", required=False, choices=ORDER_CHOICES)
    rating = fixed_field("Ratings", RATINGS)
    warning = fixed_field("Warnings", WARNINGS)
    category = fixed_field("Categories", CATEGORIES)
    include = tag_names_field("Other tags to include", "Works must have every one. Separate tags with commas.")
    exclude = tag_names_field("Other tags to exclude", "Works with any of these are left out.")
    complete = forms.BooleanField(label="Complete works only", required=False)
    crossover = forms.ChoiceField(
        label="Crossovers", required=False, choices=[(value, CROSSOVER_LABELS[value]) for value in CROSSOVER_CHOICES]
    )
    language = forms.ChoiceField(label="Language", required=False, choices=[("", "Any language"), *LANGUAGES])
    words_min = forms.IntegerField(
        label="Words from", required=False, min_value=0, max_value=10**9, error_messages={"min_value": WORDS_ERROR}
    )
    words_max = forms.IntegerField(
        label="Words to", required=False, min_value=0, max_value=10**9, error_messages={"min_value": WORDS_ERROR}
    )
    updated_since = forms.DateField(
        label="Updated since", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    # Not shown as fields: the page comes from pagination links, and "exclusions=off" from
    # the notice that turns a reader's saved exclusions off for one page.
    page = forms.CharField(required=False)
    exclusions = forms.CharField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Lowercased name -> tag, for every name the reader typed or ticked.
        self.tags: dict[str, Tag] = {}

    def clean_page(self) -> int:
        # A bad page number is a stale or hand-edited link, not a mistake worth an error.
        value = str(self.cleaned_data.get("page") or "").strip()
        number = int(value) if value.isdigit() else 1
        return min(max(number, 1), LAST_PAGE)

    def clean_exclusions(self) -> bool:
        """True when the reader's saved exclusions apply (they do unless turned off)."""
        return self.cleaned_data.get("exclusions") != "off"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        include = split_tag_names(data.get("include") or "")
        exclude = split_tag_names(data.get("exclude") or "")
        data["include"], data["exclude"] = include, exclude
        ticked = [name for field in FIXED_FIELDS for name in data.get(field) or []]
        names = include + exclude + ticked
        if names:
            self.tags, _ = tags_by_name(names)
        for field, values in (("include", include), ("exclude", exclude)):
            unknown = [name for name in values if name.lower() not in self.tags]
            if unknown:
                self.add_error(field, _unknown_tags_error(unknown))
        low, high = data.get("words_min"), data.get("words_max")
        if low is not None and high is not None and low > high:
            self.add_error("words_max", "The highest word count is below the lowest.")
        return data

    @property
    def page_number(self) -> int:
        return self.cleaned_data["page"] if self.is_valid() else 1

    @property
    def exclusions_on(self) -> bool:
        # An invalid form lists nothing; the notice still needs to know which link to offer.
        return self.data.get("exclusions") != "off"

    def tag_ids(self, field: str) -> tuple[int, ...]:
        """The ids of the tags named in a field of a valid form, in the order given."""
        names = self.cleaned_data.get(field) or []
        return tuple(dict.fromkeys(self.tags[name.lower()].pk for name in names if name.lower() in self.tags))

    def filters(self, *, include: tuple[int, ...] = (), pseuds: tuple[int, ...] = (), hidden: tuple[int, ...] = ()) -> Filters:
        """The valid form as Filters, on top of the page's own scope.

        `include` is the page's tag (a tag listing), `hidden` the reader's saved exclusions;
        a saved exclusion the page or the reader asks for by name is not applied, since
        excluding what was asked for would only ever list nothing.
        """
        data = self.cleaned_data
        included = tuple(dict.fromkeys((*include, *self.tag_ids("include"))))
        excluded = tuple(dict.fromkeys((*self.tag_ids("exclude"), *(pk for pk in hidden if pk not in included))))
        any_of = tuple(group for group in (self.tag_ids(field) for field in FIXED_FIELDS) if group)
        return Filters(
            include=included,
            exclude=excluded,
            any_of=any_of,
            pseuds=pseuds,
            complete=bool(data.get("complete")),
            crossover=data.get("crossover") or "",
            language=data.get("language") or "",
            words_min=data.get("words_min"),
            words_max=data.get("words_max"),
            updated_since=data.get("updated_since"),
            sort=data.get("sort") or "updated",
            order=data.get("order") or "",
        )


class SavedExclusionForm(forms.Form):
    """Add one tag, by name, to the tags a reader never wants listed."""

    name = forms.CharField(label="Tag", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off", "data-tag-suggest": ""}))

    def clean_name(self) -> Tag:
        name = " ".join(self.cleaned_data["name"].split())
        found, _ = tags_by_name([name])
        tag = found.get(name.lower())
        if tag is None:
            raise ValidationError(_unknown_tags_error([name]))
        return tag

