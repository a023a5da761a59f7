"""Kudos: leaving them, and what a work's page says about them.

Kudos on the work itself count in `Work.kudos_count` (what blurbs and sorts show); kudos
on one chapter are a separate, per-chapter thing that AO3 lacks, shown as "Most loved
chapters". A reader gives each at most once: a logged-in reader by account, a guest by the
key kept in a signed cookie and, as AO3 does, by IP address as well.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from chapbook.feedback import counters
from chapbook.feedback.models import Kudos
from chapbook.feedback.notifications import notify_kudos
from chapbook.people.models import User
from chapbook.works.models import Chapter, Creatorship, Work
from chapbook.works.selectors import AnyUser

ALREADY = "You have already left kudos here."
OWN_WORK = "You can't leave kudos on your own work."
DRAFT = "You can't leave kudos on a draft."
# How many names the work page lists before it says "and N more users".
NAMES_SHOWN = 50
MOST_LOVED_SHOWN = 3


# Guests ---------------------------------------------------------------------------------

GUEST_COOKIE = "kudos_guest"
GUEST_COOKIE_SALT = "chapbook.feedback.kudos"


def new_guest_token() -> str:
    return secrets.token_urlsafe(24)


def guest_key_for(token: str) -> str:
    """What is stored for a guest: a hash, so the database never holds the cookie itself."""
    return hashlib.sha256(token.encode()).hexdigest()


# Services -------------------------------------------------------------------------------


def _creator_ids(work: Work) -> set[int]:
    return set(Creatorship.objects.filter(work=work, accepted=True).values_list("pseud__user_id", flat=True))


def leave_kudos(
    *,
    work: Work,
    user: User | None,
    guest_key: str = "",
    ip: str | None = None,
    chapter: Chapter | None = None,
) -> Kudos:
    """Leave kudos on `work`, or on one of its chapters, as `user` or as a guest.

    The caller has fetched `work` through `works_visible_to`: a work the reader may not
    see never gets this far. Raises ValidationError with a message for the reader.
    """
    if chapter is not None and chapter.work_id != work.pk:
        raise ValidationError("That chapter is not part of this work.")
    if work.draft:
        raise ValidationError(DRAFT)
    creators = _creator_ids(work)
    if user is not None and user.pk in creators:
        raise ValidationError(OWN_WORK)
    if user is None and not guest_key:
        raise ValidationError("Your browser did not keep our cookie; please allow cookies to leave kudos as a guest.")

    earlier = Kudos.objects.filter(work=work, chapter=chapter)
    if user is not None:
        earlier = earlier.filter(user=user)
    else:
        # AO3 also refuses a second guest kudos from the same address, so that clearing
        # cookies is not enough to leave kudos twice.
        same_guest = Q(guest_key=guest_key) | Q(ip=ip) if ip else Q(guest_key=guest_key)
        earlier = earlier.filter(same_guest, user__isnull=True)
    if earlier.exists():
        raise ValidationError(ALREADY)

    with transaction.atomic():
        try:
            # The check above is for the message; two clicks racing each other both pass
            # it, and the unique constraints are what stop the second one. The savepoint
            # keeps the outer transaction usable after the IntegrityError.
            with transaction.atomic():
                kudos = Kudos.objects.create(
                    work=work, chapter=chapter, user=user, guest_key="" if user else guest_key, ip=ip or None
                )
        except IntegrityError:
            raise ValidationError(ALREADY) from None
        # Chapter kudos are not in the work's count, but the page shows them: moving
        # `feedback_at` (bump with no deltas) still renews the guest page cache.
        counters.bump(work.pk, **({"kudos": 1} if chapter is None else {}))
        target = chapter.get_absolute_url() if chapter is not None else work.get_absolute_url()
        notify_kudos(
            users=creators, work=work, actor=user.username if user is not None else "A guest", url=target
        )
    return kudos


# Selectors ------------------------------------------------------------------------------


@dataclass
class KudosNames:
    """Who left kudos on a work: the newest users' names, the rest as numbers."""

    usernames: list[str]
    more_users: int
    guests: int

    @property
    def total(self) -> int:
        return len(self.usernames) + self.more_users + self.guests


@dataclass
class KudosSummary:
    names: KudosNames
    # Chapter position -> kudos on that chapter.
    chapters: dict[int, int] = field(default_factory=dict)
    # Whether the reader looking at the page has left kudos on the work, and on which chapters.
    mine_on_work: bool = False
    mine_on_chapters: set[int] = field(default_factory=set)

    def most_loved(self, limit: int = MOST_LOVED_SHOWN) -> list[tuple[int, int]]:
        """(position, kudos) of the most loved chapters, earliest first among equals."""
        ranked = sorted(((p, n) for p, n in self.chapters.items() if n), key=lambda item: (-item[1], item[0]))
        return ranked[:limit]


@dataclass
class _Counts:
    users: int = 0
    guests: int = 0
    chapters: dict[int, int] = field(default_factory=dict)
    mine_on_work: bool = False
    mine_on_chapters: set[int] = field(default_factory=set)


def _counts(work: Work, viewer: AnyUser | None) -> _Counts:
    """Every kudos count of a work in one GROUP BY: the work's own (chapter NULL) and each chapter's."""
    annotations = {"total": Count("pk"), "users": Count("user_id")}
    if viewer is not None and viewer.is_authenticated:
        annotations["mine"] = Count("pk", filter=Q(user_id=viewer.pk))
    rows = cast(
        "Iterable[dict[str, Any]]",
        Kudos.objects.filter(work=work).values("chapter__position").annotate(**annotations).order_by(),
    )
    counts = _Counts()
    for row in rows:
        position = row["chapter__position"]
        if position is None:
            counts.users = row["users"]
            counts.guests = row["total"] - row["users"]
            counts.mine_on_work = bool(row.get("mine"))
        else:
            counts.chapters[position] = row["total"]
            if row.get("mine"):
                counts.mine_on_chapters.add(position)
    return counts


def _usernames(work: Work, limit: int) -> list[str]:
    recent = Kudos.objects.filter(work=work, chapter__isnull=True, user__isnull=False).order_by("-created_at", "-pk")
    return list(recent.values_list("user__username", flat=True)[:limit])


def _names(work: Work, counts: _Counts, limit: int) -> KudosNames:
    usernames = _usernames(work, limit) if counts.users else []
    return KudosNames(usernames=usernames, more_users=counts.users - len(usernames), guests=counts.guests)


def kudos_names(work: Work, *, limit: int = NAMES_SHOWN) -> KudosNames:
    """The newest `limit` usernames that left kudos on the work itself, plus how many others and guests."""
    return _names(work, _counts(work, None), limit)


def chapter_kudos_counts(work: Work) -> dict[int, int]:
    """Chapter position -> kudos left on that chapter."""
    return _counts(work, None).chapters


def kudos_summary(work: Work, *, viewer: AnyUser | None = None, limit: int = NAMES_SHOWN) -> KudosSummary:
    """Everything the kudos box shows, in two queries at most (one when only guests left kudos)."""
    counts = _counts(work, viewer)
    return KudosSummary(
        names=_names(work, counts, limit),
        chapters=counts.chapters,
        mine_on_work=counts.mine_on_work,
        mine_on_chapters=counts.mine_on_chapters,
    )


def kudos_count(work: Work, chapter: Chapter | None = None) -> int:
    """The number a kudos button shows after a click: the work's counter or the chapter's kudos."""
    if chapter is None:
        return Work.objects.filter(pk=work.pk).values_list("kudos_count", flat=True).first() or 0
    return Kudos.objects.filter(chapter=chapter).count()
