"""Subscriptions to a work (new chapters), a series (new parts) or a creator (new works).

`subscribe`/`unsubscribe` are the services behind the pages and the API. `work_posted`
and `chapter_posted` are called by chapbook/works/services.py inside the poster's
transaction, so they cost a fixed handful of queries however many subscribers there are.
"""

from __future__ import annotations

from typing import cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404

from chapbook.feedback import counters
from chapbook.feedback.models import NotificationKind, Subscription
from chapbook.feedback.notifications import notify
from chapbook.people.models import User
from chapbook.works.models import Chapter, Creatorship, Series, Work
from chapbook.works.selectors import is_creator, series_visible_to, works_visible_to


def _target_filter(*, work: Work | None, series: Series | None, creator: User | None) -> Q:
    if work is not None:
        return Q(work=work)
    if series is not None:
        return Q(series=series)
    return Q(creator=creator)


def subscription_for(
    user: User, *, work: Work | None = None, series: Series | None = None, creator: User | None = None
) -> Subscription | None:
    """`user`'s subscription to the one target given, if any (one query)."""
    return Subscription.objects.filter(_target_filter(work=work, series=series, creator=creator), user=user).first()


def _check_target(*, by: User, work: Work | None, series: Series | None, creator: User | None) -> None:
    if sum(target is not None for target in (work, series, creator)) != 1:
        raise ValueError("Subscribe to exactly one of a work, a series or a creator.")
    if work is not None:
        # A work the reader may not see is not theirs to know about: 404, as on its page.
        if not works_visible_to(by).filter(pk=work.pk).exists():
            raise Http404("No such work.")
        if is_creator(by, work):
            raise ValidationError("You cannot subscribe to your own work.")
    elif series is not None:
        if not series_visible_to(by).filter(pk=series.pk).exists():
            raise Http404("No such series.")
        if series.owner_id == by.pk:
            raise ValidationError("You cannot subscribe to your own series.")
    elif cast(User, creator).pk == by.pk:
        raise ValidationError("You cannot subscribe to yourself.")


@transaction.atomic
def subscribe(
    *, by: User, work: Work | None = None, series: Series | None = None, creator: User | None = None
) -> Subscription:
    """Subscribe `by` to one work, series or creator; subscribing twice returns the first row.

    Raises Http404 for a work or series `by` may not see, ValidationError for their own.
    """
    _check_target(by=by, work=work, series=series, creator=creator)
    existing = subscription_for(by, work=work, series=series, creator=creator)
    if existing is not None:
        return existing
    try:
        # A savepoint: two clicks racing past the check above meet at the unique
        # constraint, and the loser's transaction must stay usable to read the winner's row.
        with transaction.atomic():
            subscription = Subscription.objects.create(user=by, work=work, series=series, creator=creator)
            if work is not None:
                counters.bump(work.pk, subscriptions=1)
    except IntegrityError:
        return Subscription.objects.get(_target_filter(work=work, series=series, creator=creator), user=by)
    return subscription


@transaction.atomic
def unsubscribe(subscription: Subscription, *, by: User) -> None:
    """Remove `by`'s own subscription; removing one already gone is not an error."""
    if subscription.user_id != by.pk:
        raise PermissionDenied("That subscription is not yours.")
    deleted, _ = Subscription.objects.filter(pk=subscription.pk).delete()
    # Only the request that really deleted the row moves the counter.
    if deleted and subscription.work_id is not None:
        counters.bump(subscription.work_id, subscriptions=-1)


def _announced(work: Work) -> bool:
    """Whether a posted work may be announced to its subscribers.

    Subscribers are logged-in readers who are not its creators; for all of them the
    selector's answer is the same, so it is asked once, for a stand-in reader with no
    works of their own. Drafts and hidden works are never announced; restricted ones are.
    """
    stand_in = User(pk=0, is_staff=False)
    return not work.draft and works_visible_to(stand_in).filter(pk=work.pk).exists()


def _names(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def work_posted(work: Work) -> None:
    """A work was posted (or a draft published): tell subscribers of its creators and series.

    Each subscriber hears once: a reader subscribed to the series and to the writer gets the
    series' message, which says more. Creators never hear about their own work.

    An anonymous work is announced to nobody: telling a writer's subscribers, or their
    series' (a series names its owner), would say who wrote it, however the message read.
    Its work subscribers still hear of new chapters (`chapter_posted` names no one).
    """
    # Read again: the caller's copy may predate the collection that made the work anonymous.
    if Work.objects.filter(pk=work.pk, anonymous=True).exists() or not _announced(work):
        return
    credits = list(
        Creatorship.objects.filter(work=work, accepted=True).order_by("position", "pk").values_list(
            "pseud__user_id", "pseud__name"
        )
    )
    creator_ids = {user_id for user_id, _ in credits}
    byline = _names(list(dict.fromkeys(name for _, name in credits)))
    rows = (
        Subscription.objects.filter(Q(creator_id__in=creator_ids) | Q(series__parts__work=work))
        .exclude(user_id__in=creator_ids)
        .values_list("user_id", "series_id", "series__title")
        .order_by("series_id", "pk")
    )
    by_series: dict[int, tuple[str, set[int]]] = {}
    by_creator: set[int] = set()
    for user_id, series_id, series_title in rows:
        if series_id is not None:
            by_series.setdefault(series_id, (series_title, set()))[1].add(user_id)
        else:
            by_creator.add(user_id)
    told: set[int] = set()
    url = work.get_absolute_url()
    for title, user_ids in by_series.values():
        users = user_ids - told
        if users:
            notify(
                users=users, kind=NotificationKind.SUBSCRIPTION, work=work, url=url,
                text=f"New part in {title}: {work.title}",
            )
            told |= users
    if users := by_creator - told:
        notify(
            users=users, kind=NotificationKind.SUBSCRIPTION, work=work, url=url, actor=byline,
            text=f"posted a new work: {work.title}",
        )


def chapter_posted(work: Work, chapter: Chapter) -> None:
    """A posted work gained a chapter: tell the work's subscribers (never its creators)."""
    if not _announced(work):
        return
    creators = Creatorship.objects.filter(work=work, accepted=True).values("pseud__user_id")
    users = set(
        Subscription.objects.filter(work=work).exclude(user_id__in=creators).values_list("user_id", flat=True)
    )
    if users:
        notify(
            users=users, kind=NotificationKind.SUBSCRIPTION, work=work, url=chapter.get_absolute_url(),
            text=f"{work.title}: {chapter.display_title} posted",
        )
