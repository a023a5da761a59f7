from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

PSEUD_NAME_RE = re.compile(r"^[\w][\w .\-']{0,39}$")


class User(AbstractUser):
    """An account. Works are never credited to a user directly, only to one of their pseuds."""

    bio = models.TextField(blank=True, help_text="Plain text; shown on your profile.")
    links = models.TextField(
        blank=True,
        help_text="One per line: a URL, or a handle such as @name or tumblr: @name.",
    )

    class Meta:
        constraints = [
            # Usernames and emails are unique whatever their case: "Alice" is alice.
            models.UniqueConstraint(Lower("username"), name="user_username_unique_ci"),
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci"
            ),
        ]

    def get_absolute_url(self) -> str:
        return reverse("people:profile", args=[self.username])

    @property
    def default_pseud(self) -> Pseud:
        pseud = self.pseuds.filter(is_default=True).first() or self.pseuds.order_by("pk").first()
        if pseud is None:
            # Users made by createsuperuser or the admin have no pseud yet.
            pseud = Pseud.objects.create(user=self, name=self.username, is_default=True)
        return pseud

    def profile_links(self) -> list[ProfileLink]:
        return [link for line in self.links.splitlines() if (link := ProfileLink.parse(line))]


@dataclass(frozen=True)
class ProfileLink:
    label: str
    url: str | None

    # Where a bare @handle is assumed to live when the line names a site first.
    SITES = {
        "tumblr": "https://{}.tumblr.com/",
        "twitter": "https://twitter.com/{}",
        "bluesky": "https://bsky.app/profile/{}",
        "bsky": "https://bsky.app/profile/{}",
        "dreamwidth": "https://{}.dreamwidth.org/",
        "pillowfort": "https://www.pillowfort.social/{}",
        "instagram": "https://www.instagram.com/{}/",
        "ao3": "https://archiveofourown.org/users/{}",
    }

    @classmethod
    def parse(cls, line: str) -> ProfileLink | None:
        line = line.strip()
        if not line:
            return None
        if re.match(r"^https?://\S+$", line):
            return cls(label=line.split("://", 1)[1].rstrip("/"), url=line)
        match = re.match(r"^(?:(?P<site>[A-Za-z0-9]+)\s*:\s*)?@(?P<handle>[\w.\-]{1,60})$", line)
        if match:
            handle = match["handle"]
            site = (match["site"] or "").lower()
            template = cls.SITES.get(site)
            label = f"{site}: @{handle}" if site else f"@{handle}"
            return cls(label=label, url=template.format(handle) if template else None)
        # Anything else is shown as text, never as a link: we do not guess URLs.
        return cls(label=line[:200], url=None)


class Pseud(models.Model):
    """A name a user writes under. The first one is the username and is the default."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="pseuds")
    name = models.CharField(max_length=40)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), "user", name="pseud_name_unique_per_user"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        if self.name.lower() == self.user.username.lower():
            return self.name
        return f"{self.name} ({self.user.username})"

    def get_absolute_url(self) -> str:
        return reverse("people:pseud", args=[self.user.username, self.name])


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the API. Only its hash is stored, so a database leak leaks no tokens."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def issue(cls, user: User, label: str = "") -> tuple[ApiToken, str]:
        raw = "cb_" + secrets.token_urlsafe(32)
        return cls.objects.create(user=user, digest=hash_token(raw), label=label), raw

    @classmethod
    def authenticate(cls, raw: str) -> User | None:
        token = cls.objects.select_related("user").filter(digest=hash_token(raw)).first()
        if token is None or not token.user.is_active:
            return None
        now = timezone.now()
        # Recorded at most once an hour, so that API reads do not each become a write.
        if token.last_used_at is None or now - token.last_used_at > timedelta(hours=1):
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user
