from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse


class TagType(models.TextChoices):
    FANDOM = "fandom", "Fandom"
    RATING = "rating", "Rating"
    WARNING = "warning", "Archive Warning"
    CATEGORY = "category", "Category"
    RELATIONSHIP = "relationship", "Relationship"
    CHARACTER = "character", "Character"
    FREEFORM = "freeform", "Additional Tag"


# The types whose tags are fixed by the archive, as on AO3: creators pick from them.
FIXED_TYPES = {TagType.RATING, TagType.WARNING, TagType.CATEGORY}

RATINGS = ["Not Rated", "General Audiences", "Teen And Up Audiences", "Mature", "Explicit"]
WARNINGS = [
    "Creator Chose Not To Use Archive Warnings",
    "Graphic Depictions Of Violence",
    "Major Character Death",
    "No Archive Warnings Apply",
    "Rape/Non-Con",
    "Underage Sex",
]
CATEGORIES = ["F/F", "F/M", "Gen", "M/M", "Multi", "Other"]
FIXED_TAGS: dict[str, list[str]] = {TagType.RATING: RATINGS, TagType.WARNING: WARNINGS, TagType.CATEGORY: CATEGORIES}
DEFAULT_IMPORT_RATING = "Not Rated"
DEFAULT_IMPORT_WARNING = "Creator Chose Not To Use Archive Warnings"

# AO3 escapes these characters in tag URLs so that "A/B" or "Dr. Who" survive a path segment.
_URL_ESCAPES = [("*", "*s*"), ("/", "*s*"), ("&", "*a*"), (".", "*d*"), ("?", "*q*"), ("#", "*h*")]


def tag_to_url_name(name: str) -> str:
    for char, escape in _URL_ESCAPES[1:]:
        name = name.replace(char, escape)
    return name


def url_name_to_tag(url_name: str) -> str:
    for char, escape in _URL_ESCAPES[1:]:
        url_name = url_name.replace(escape, char)
    return url_name


class Tag(models.Model):
    """A tag as creators write it.

    Wrangling (canonical tags, synonyms, parents and fandoms) decides what a tag means
    for filtering; it never changes the tags on a work.
    """

    name = models.CharField(max_length=150)
    type = models.CharField(max_length=20, choices=TagType.choices, db_index=True)
    canonical = models.BooleanField(default=False)
    # The canonical tag this one is a synonym of (AO3 calls it the merger).
    synonym_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="synonyms"
    )
    parents = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="children")
    created_at = models.DateTimeField(auto_now_add=True)
    # Moved by every wrangling change: the filter index compares it with its snapshot's
    # time to know when what tags mean for filtering has changed.
    wrangled_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci")]
        ordering = ["name"]
        # Given through the "Tag wranglers" group (created by a migration); superusers have it anyway.
        permissions = [("wrangle_tag", "Can wrangle tags")]

    def __str__(self) -> str:
        return self.name

    @property
    def url_name(self) -> str:
        return tag_to_url_name(self.name)

    def get_absolute_url(self) -> str:
        return reverse("tags:detail", args=[self.url_name])

    @property
    def is_fixed(self) -> bool:
        return self.type in FIXED_TYPES

    @classmethod
    def fixed(cls, name: str, tag_type: str) -> Tag | None:
        """One of the archive's fixed tags by name (any case), or None if it is not one.

        The first migration creates them; one deleted since (through the admin, or by a
        test database flush) is created again rather than making every post fail.
        """
        canonical = next((n for n in FIXED_TAGS.get(tag_type, []) if n.lower() == name.lower()), None)
        if canonical is None:
            return None
        tag, _ = cls.objects.get_or_create(name=canonical, defaults={"type": tag_type, "canonical": True})
        return tag if tag.type == tag_type else None
