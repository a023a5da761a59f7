"""Collections, their moderators and items, and prompt memes (prompts, claims, fills).

A collection's privacy settings reach its works through two flags denormalised onto
Work (`anonymous`, `unrevealed`), which the collection services keep up to date; the
visibility selector and every page that names creators read those flags, never the
collections, so that one rule decides what a reader sees.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from chapbook.people.models import Pseud
from chapbook.tags.models import Tag
from chapbook.works.models import Work


class Collection(models.Model):
    name = models.SlugField(max_length=60, unique=True, help_text="Used in its address: letters, digits, - and _.")
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)  # sanitized HTML
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_collections")
    # A meme's rounds, a challenge's years: subcollections under one parent.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    closed = models.BooleanField(default=False, help_text="Closed collections take no new works or prompts.")
    moderated = models.BooleanField(default=False, help_text="Works wait for a moderator's approval.")
    anonymous = models.BooleanField(default=False, help_text="Creators are shown as Anonymous until revealed.")
    unrevealed = models.BooleanField(default=False, help_text="Works are hidden from everyone else until revealed.")
    # When the moderators revealed the works / the creators (null: not yet), and when
    # they asked for it to happen on its own.
    works_revealed_at = models.DateTimeField(null=True, blank=True)
    creators_revealed_at = models.DateTimeField(null=True, blank=True)
    reveal_works_on = models.DateTimeField(null=True, blank=True)
    reveal_creators_on = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # Prompt meme settings.
    prompt_meme = models.BooleanField(default=False)
    prompts_open_at = models.DateTimeField(null=True, blank=True, help_text="Empty: open from the start.")
    prompts_close_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never closes.")
    rules = models.TextField(blank=True)  # sanitized HTML
    # Tag types every prompt must carry, comma-separated TagType values ("fandom,relationship").
    required_tag_types = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            # "Foo" and "foo" are one address: two requests racing for it cannot both win.
            models.UniqueConstraint(Lower("name"), name="collection_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("collections:detail", args=[self.name])

    @property
    def hides_creators(self) -> bool:
        return self.anonymous and self.creators_revealed_at is None

    @property
    def hides_works(self) -> bool:
        return self.unrevealed and self.works_revealed_at is None


class Moderator(models.Model):
    """A collection's moderator: the owner adds them; they act once they accept."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="moderators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderating")
    accepted = models.BooleanField(default=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collection", "user"], name="moderator_unique")]


class ItemStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    PENDING = "pending", "Waiting for approval"
    REJECTED = "rejected", "Rejected"


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="collection_items")
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.APPROVED)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collection", "work"], name="collectionitem_unique")]
        indexes = [
            models.Index(fields=["collection", "status", "created_at"], name="collectionitem_listing_idx"),
            models.Index(fields=["work", "status"], name="collectionitem_work_idx"),
        ]


class Prompt(models.Model):
    """A prompt left in a prompt meme.

    `user` is who left it, kept even for an anonymous prompt so that the prompter can edit
    it and be told about claims and fills; nothing shows it to anyone else but site admins,
    and every such look is written to IdentityAccess.
    """

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="prompts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prompts")
    pseud = models.ForeignKey(Pseud, null=True, blank=True, on_delete=models.SET_NULL, related_name="prompts")
    anonymous = models.BooleanField(default=False)
    title = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True)  # sanitized HTML
    tags = models.ManyToManyField(Tag, through="PromptTag", related_name="prompts")
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Denormalised so that the prompts page sorts and filters without aggregating.
    claims_count = models.PositiveIntegerField(default=0)
    fills_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["collection", "created_at"], name="prompt_collection_idx"),
            models.Index(fields=["collection", "claims_count"], name="prompt_claims_idx"),
        ]

    def __str__(self) -> str:
        return self.title or f"Prompt {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("collections:prompt", args=[self.collection.name, self.pk])


class PromptTag(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prompt", "tag"], name="prompttag_unique")]
        indexes = [models.Index(fields=["tag", "prompt"], name="prompttag_tag_idx")]


class Claim(models.Model):
    """A writer's claim on a prompt; any number of writers may claim the same prompt."""

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claims")
    pseud = models.ForeignKey(Pseud, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prompt", "user"], name="claim_unique")]


class Fill(models.Model):
    """A work posted in response to a prompt (with or without a claim first)."""

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="fills")
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="fills")
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.SET_NULL, related_name="fills")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prompt", "work"], name="fill_unique")]


class IdentityAccess(models.Model):
    """A site admin looked behind an anonymous prompt or work (to act on abuse)."""

    admin = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prompt = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    work = models.ForeignKey(Work, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(prompt__isnull=False) | Q(work__isnull=False), name="identityaccess_names_something"
            )
        ]
