"""What readers give back: kudos, comments, bookmarks, subscriptions, and what they are told.

Counters live on the Work (`kudos_count`, ...) so that blurbs and listing sorts never
aggregate; every service that changes one also moves `Work.feedback_at`, which the filter
index and the guest page cache read as the version of a work's feedback.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from chapbook.people.models import Pseud
from chapbook.tags.models import Tag
from chapbook.works.models import Chapter, Series, Work



class Kudos(models.Model):
    """Kudos on a work (chapter is None) or on one chapter of it.

    A logged-in reader is known by `user`; a guest by `guest_key`, the hash of a token in a
    signed cookie, and by `ip`, as AO3 counts guests.
    """

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="kudos")
    chapter = models.ForeignKey(Chapter, null=True, blank=True, on_delete=models.CASCADE, related_name="kudos")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="kudos")
    guest_key = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "kudos"
        constraints = [
            # The database, not a check before the insert, is what stops a double kudos:
            # two clicks racing each other both pass any check.
            models.UniqueConstraint(
                fields=["work", "user"], condition=Q(chapter__isnull=True, user__isnull=False), name="kudos_work_user"
            ),
            models.UniqueConstraint(
                fields=["work", "guest_key"], condition=Q(chapter__isnull=True, user__isnull=True), name="kudos_work_guest"
            ),
            models.UniqueConstraint(
                fields=["chapter", "user"], condition=Q(chapter__isnull=False, user__isnull=False), name="kudos_chapter_user"
            ),
            models.UniqueConstraint(
                fields=["chapter", "guest_key"], condition=Q(chapter__isnull=False, user__isnull=True),
                name="kudos_chapter_guest",
            ),
        ]
        indexes = [
            models.Index(fields=["work", "created_at"], name="kudos_work_created_idx"),
            models.Index(fields=["work", "ip"], name="kudos_work_ip_idx"),
        ]


class CommentStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    # Waiting for a creator: moderated works, and guest comments that look like spam.
    HELD = "held", "Held for moderation"


class Comment(models.Model):
    """A comment on a work or one of its chapters, or a reply to another comment.

    A deleted comment that has replies stays as a placeholder (`deleted`, text emptied) so
    that the thread keeps its shape.
    """

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="comments")
    chapter = models.ForeignKey(Chapter, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    # The top comment of the thread (itself for a top comment once saved): one query fetches a thread.
    thread = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    depth = models.PositiveSmallIntegerField(default=0)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    pseud = models.ForeignKey(Pseud, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    guest_name = models.CharField(max_length=100, blank=True)
    # Never shown to anyone; used only to tell the guest about replies when they asked.
    guest_email = models.EmailField(blank=True)
    guest_notify = models.BooleanField(default=False)
    html = models.TextField(blank=True)  # sanitized
    status = models.CharField(max_length=10, choices=CommentStatus.choices, default=CommentStatus.APPROVED)
    deleted = models.BooleanField(default=False)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["work", "status", "created_at"], name="comment_work_status_idx"),
            models.Index(fields=["thread", "created_at"], name="comment_thread_idx"),
            models.Index(fields=["user", "created_at"], name="comment_user_idx"),
        ]

    @property
    def by_guest(self) -> bool:
        return self.user_id is None


class Bookmark(models.Model):
    """A reader's bookmark of a work or a series, with their own notes and tags."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks")
    pseud = models.ForeignKey(Pseud, on_delete=models.CASCADE, related_name="bookmarks")
    work = models.ForeignKey(Work, null=True, blank=True, on_delete=models.CASCADE, related_name="bookmarks")
    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.CASCADE, related_name="bookmarks")
    notes = models.TextField(blank=True)  # sanitized
    tags = models.ManyToManyField(Tag, through="BookmarkTag", related_name="bookmarks", blank=True)
    private = models.BooleanField(default=False)
    rec = models.BooleanField(default=False, help_text="Recommend it: shown as a rec.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "work"], condition=Q(work__isnull=False), name="bookmark_user_work"),
            models.UniqueConstraint(
                fields=["user", "series"], condition=Q(series__isnull=False), name="bookmark_user_series"
            ),
            models.CheckConstraint(
                condition=Q(work__isnull=False, series__isnull=True) | Q(work__isnull=True, series__isnull=False),
                name="bookmark_work_xor_series",
            ),
        ]
        indexes = [
            models.Index(fields=["work", "private", "created_at"], name="bookmark_work_idx"),
            models.Index(fields=["user", "created_at"], name="bookmark_user_idx"),
        ]


class BookmarkTag(models.Model):
    bookmark = models.ForeignKey(Bookmark, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bookmark", "tag"], name="bookmarktag_unique")]
        indexes = [models.Index(fields=["tag", "bookmark"], name="bookmarktag_tag_idx")]


class Subscription(models.Model):
    """Tell `user` about a work's new chapters, a series' new parts or a creator's new works."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    work = models.ForeignKey(Work, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions")
    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="subscribers"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "work"], condition=Q(work__isnull=False), name="subscription_work"),
            models.UniqueConstraint(
                fields=["user", "series"], condition=Q(series__isnull=False), name="subscription_series"
            ),
            models.UniqueConstraint(
                fields=["user", "creator"], condition=Q(creator__isnull=False), name="subscription_creator"
            ),
            models.CheckConstraint(
                condition=(
                    Q(work__isnull=False, series__isnull=True, creator__isnull=True)
                    | Q(work__isnull=True, series__isnull=False, creator__isnull=True)
                    | Q(work__isnull=True, series__isnull=True, creator__isnull=False)
                ),
                name="subscription_one_target",
            ),
        ]


class NotificationKind(models.TextChoices):
    COMMENT = "comment", "Comments on my works"
    REPLY = "reply", "Replies to my comments"
    KUDOS = "kudos", "Kudos on my works"
    SUBSCRIPTION = "subscription", "Updates to my subscriptions"
    PROMPT = "prompt", "Claims and fills of my prompts"


class Notification(models.Model):
    """One line in a user's inbox, and in their next email digest unless they opted out.

    `actor` is the name to show, decided by the sender: a guest's name, a pseud, or
    "Anonymous" — never looked up again from the rows, so it cannot leak what the sender hid.
    Kudos are summarised: further kudos on the same work add to `count` of the unread row.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    work = models.ForeignKey(Work, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.CharField(max_length=100, blank=True)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["user", "emailed_at"], name="notification_email_idx"),
        ]


class Preferences(models.Model):
    """A reader's feedback settings; a user without a row has the defaults."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback_preferences")
    email_comments = models.BooleanField(default=True, help_text="Email me about comments on my works.")
    email_replies = models.BooleanField(default=True, help_text="Email me about replies to my comments.")
    email_kudos = models.BooleanField(default=True, help_text="Email me about kudos on my works.")
    email_subscriptions = models.BooleanField(default=True, help_text="Email me about updates to my subscriptions and my prompts.")
    history_enabled = models.BooleanField(default=True, help_text="Keep a history of the works I read.")
    last_digest_at = models.DateTimeField(null=True, blank=True)


class Reading(models.Model):
    """A logged-in reader's history entry for a work, and its Marked for Later flag."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="readings")
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="+")
    chapter_position = models.PositiveIntegerField(default=1)
    visits = models.PositiveIntegerField(default=0)
    first_read_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)
    marked_for_later = models.BooleanField(default=False)
    marked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "work"], name="reading_user_work")]
        indexes = [
            models.Index(fields=["user", "last_read_at"], name="reading_history_idx"),
            models.Index(fields=["user", "marked_for_later", "marked_at"], name="reading_later_idx"),
        ]


class PendingHit(models.Model):
    """One visitor's view of a work on one day, waiting to be added to its hit count.

    Page views insert here (never touching the work's row, so a popular work's readers do
    not queue behind each other); a background task adds the uncounted rows to
    `Work.hits_count` and `DailyHits` in one write per work. Rows stay until the day is
    over so that a second visit the same day is recognised and not counted.
    """

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="+")
    visitor = models.CharField(max_length=32)
    day = models.DateField()
    counted = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["work", "visitor", "day"], name="pendinghit_unique")]
        indexes = [models.Index(fields=["counted", "work"], name="pendinghit_counted_idx")]


class DailyHits(models.Model):
    """Hits per work per day, for the creator's stats chart."""

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["work", "day"], name="dailyhits_unique")]
