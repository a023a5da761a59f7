from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from chapbook.people.models import Pseud
from chapbook.tags.models import Tag, TagType

# ISO 639-1 codes of the languages most works on AO3 are written in; "other" languages
# can be added here without a migration because the field stores the code only.
LANGUAGES = [
    ("en", "English"), ("es", "Español"), ("fr", "Français"), ("de", "Deutsch"),
    ("it", "Italiano"), ("pt", "Português"), ("ru", "Русский"), ("zh", "中文"),
    ("ja", "日本語"), ("ko", "한국어"), ("pl", "Polski"), ("nl", "Nederlands"),
    ("sv", "Svenska"), ("fi", "Suomi"), ("id", "Bahasa Indonesia"), ("vi", "Tiếng Việt"),
    ("tr", "Türkçe"), ("uk", "Українська"), ("ar", "العربية"), ("he", "עברית"),
]
LANGUAGE_NAMES = dict(LANGUAGES)


class CommentPermission(models.TextChoices):
    EVERYONE = "everyone", "Everyone, guests included"
    USERS = "users", "Logged-in users only"
    OFF = "off", "No one (comments are off)"


class Work(models.Model):
    title = models.CharField(max_length=255)
    summary = models.TextField(blank=True)  # sanitized HTML
    notes = models.TextField(blank=True)  # sanitized HTML
    end_notes = models.TextField(blank=True)  # sanitized HTML
    language = models.CharField(max_length=12, default="en", choices=LANGUAGES)
    # None means the creator does not know yet: shown as "2/?".
    expected_chapters = models.PositiveIntegerField(null=True, blank=True)
    restricted = models.BooleanField(default=False, help_text="Only logged-in readers can see it.")
    draft = models.BooleanField(default=True)
    # Set by moderators; hides the work from everyone but its creators and staff.
    hidden = models.BooleanField(default=False)
    # Denormalised from the work's collections by the collection services: creators shown
    # as "Anonymous" until revealed; the work shown to no one but its creators and the
    # collection's moderators until revealed.
    anonymous = models.BooleanField(default=False)
    unrevealed = models.BooleanField(default=False)

    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    # AO3's "Updated" date: when the last chapter was added, not when a typo was fixed.
    updated_at = models.DateTimeField(null=True, blank=True)
    # Any change at all: the version key for caches of rendered pages and files.
    revised_at = models.DateTimeField(default=timezone.now)

    # Denormalised from the chapters so that listings never aggregate.
    word_count = models.PositiveIntegerField(default=0)
    chapter_count = models.PositiveIntegerField(default=0)
    complete = models.BooleanField(default=False)

    source_site = models.CharField(max_length=100, blank=True)
    source_url = models.URLField(max_length=500, blank=True)
    prompt_text = models.TextField(blank=True)
    prompt_relationship = models.CharField(max_length=150, blank=True)

    # Feedback counters; the listing sorts read them, feedback keeps them up to date.
    kudos_count = models.PositiveIntegerField(default=0)
    comments_count = models.PositiveIntegerField(default=0)
    bookmarks_count = models.PositiveIntegerField(default=0)
    hits_count = models.PositiveIntegerField(default=0)
    subscriptions_count = models.PositiveIntegerField(default=0)
    # Moves with any feedback (kudos, comments, bookmarks, hits): the version of the
    # counters, read by the filter index's delta and the guest page cache.
    feedback_at = models.DateTimeField(null=True, blank=True)

    # The creators' choices for comments on this work.
    comment_permission = models.CharField(
        max_length=10, choices=CommentPermission.choices, default=CommentPermission.EVERYONE
    )
    moderate_comments = models.BooleanField(
        default=False, help_text="Hold new comments until a creator approves them."
    )

    pseuds = models.ManyToManyField(Pseud, through="Creatorship", related_name="works")
    tags = models.ManyToManyField(Tag, through="WorkTag", related_name="works")

    class Meta:
        indexes = [
            models.Index(fields=["draft", "restricted", "-updated_at"], name="work_listing_idx"),
            # The filter index asks for the works revised since its snapshot.
            models.Index(fields=["revised_at"], name="work_revised_idx"),
            models.Index(fields=["feedback_at"], name="work_feedback_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("works:detail", args=[self.pk])

    @property
    def chapters_display(self) -> str:
        return f"{self.chapter_count}/{self.expected_chapters or '?'}"

    def refresh_counts(self) -> None:
        """Recompute the denormalised chapter figures from the chapters themselves."""
        chapters = list(self.chapters.all())
        self.chapter_count = len(chapters)
        self.word_count = sum(chapter.word_count for chapter in chapters)
        self.complete = self.expected_chapters is not None and self.chapter_count >= self.expected_chapters

    @cached_property
    def _tags_by_type(self) -> dict[str, list[Tag]]:
        # Built once from the prefetched tags, so a blurb costs no query (and no manager)
        # per tag type.
        grouped: dict[str, list[Tag]] = {}
        for tag in sorted(self.tags.all(), key=lambda tag: tag.name.lower()):
            grouped.setdefault(tag.type, []).append(tag)
        return grouped

    def tags_of(self, tag_type: str) -> list[Tag]:
        return self._tags_by_type.get(tag_type, [])

    @property
    def fandoms(self) -> list[Tag]:
        return self.tags_of(TagType.FANDOM)

    @property
    def ratings(self) -> list[Tag]:
        return self.tags_of(TagType.RATING)

    @property
    def warnings(self) -> list[Tag]:
        return self.tags_of(TagType.WARNING)

    @property
    def categories(self) -> list[Tag]:
        return self.tags_of(TagType.CATEGORY)

    @property
    def relationships(self) -> list[Tag]:
        return self.tags_of(TagType.RELATIONSHIP)

    @property
    def characters(self) -> list[Tag]:
        return self.tags_of(TagType.CHARACTER)

    @property
    def freeforms(self) -> list[Tag]:
        return self.tags_of(TagType.FREEFORM)

    @cached_property
    def creators(self) -> list[Pseud]:
        """Accepted creators, in credit order; pending co-creator invitations are not credited."""
        return [c.pseud for c in self.creatorships.all() if c.accepted]

    # Everything that names a work's creators to a reader goes through these two, never
    # through `creators`, so an anonymous work names nobody on any page, feed, file or API.
    @property
    def shown_creators(self) -> list[Pseud]:
        """The creators a reader may be shown: none while the work is anonymous."""
        return [] if self.anonymous else self.creators

    @property
    def byline(self) -> str:
        """The creators as one line of text: "Anonymous" for an anonymous work (or one left
        with no accepted credit), else each pseud as `str(pseud)` shows it."""
        return ", ".join(str(pseud) for pseud in self.shown_creators) or "Anonymous"

    @property
    def byline_names(self) -> list[str]:
        """The byline as a list of names, for formats that list creators one by one."""
        return [str(pseud) for pseud in self.shown_creators] or ["Anonymous"]

    def visible_gifts(self) -> list[Gift]:
        """Gifts shown on the work: refused ones are hidden (read from a prefetch when there is one)."""
        return [gift for gift in self.gifts.all() if not gift.refused]

    @property
    def language_name(self) -> str:
        return LANGUAGE_NAMES.get(self.language, self.language)


class Creatorship(models.Model):
    """A pseud credited on a work. Adding someone else's pseud waits for their acceptance."""

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="creatorships")
    pseud = models.ForeignKey(Pseud, on_delete=models.CASCADE, related_name="creatorships")
    accepted = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["work", "pseud"], name="creatorship_unique")]
        ordering = ["position", "pk"]


class WorkTag(models.Model):
    work = models.ForeignKey(Work, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["work", "tag"], name="worktag_unique")]
        indexes = [models.Index(fields=["tag", "work"], name="worktag_tag_work_idx")]


class Chapter(models.Model):
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="chapters")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)
    end_notes = models.TextField(blank=True)
    html = models.TextField()
    word_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # No unique constraint on position: SQLite cannot defer one, and reordering
        # rewrites every position inside one transaction anyway.
        ordering = ["position"]
        indexes = [models.Index(fields=["work", "position"], name="chapter_work_position_idx")]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return f"Chapter {self.position}: {self.title}" if self.title else f"Chapter {self.position}"

    def get_absolute_url(self) -> str:
        return reverse("works:chapter", args=[self.work_id, self.position])


class Series(models.Model):
    title = models.CharField(max_length=255)
    summary = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    complete = models.BooleanField(default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="series")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("works:series", args=[self.pk])


class Gift(models.Model):
    """A work given to a user of the archive (who may refuse it) or to a name without an account."""

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="gifts")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="gifts"
    )
    recipient_name = models.CharField(max_length=100, blank=True)
    refused = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["work", "recipient"], condition=models.Q(recipient__isnull=False), name="gift_work_recipient"
            ),
            models.CheckConstraint(
                condition=models.Q(recipient__isnull=False) | ~models.Q(recipient_name=""), name="gift_names_someone"
            ),
        ]


class SeriesPart(models.Model):
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="parts")
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="series_parts")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["series", "work"], name="seriespart_unique")]
