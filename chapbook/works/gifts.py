"""Gifts: a work given to a user of the archive, who may refuse it, or to a name without an account.

As on AO3, a gift names its recipient on the work page even when the work is anonymous:
it says who the work is for, never who wrote it. A refused gift stays on record (so the
creators cannot give the work to the same person again) but is shown nowhere.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chapbook.people.models import User
from chapbook.works.models import Creatorship, Gift, Work

# More than a fic exchange ever needs; a bound keeps one form from writing thousands of rows.
MAX_GIFTS = 20
MAX_NAME = 100  # Gift.recipient_name's length


def _wanted(recipients: Sequence[str]) -> list[str]:
    """The names as given, stripped, blanks dropped, each once whatever its case."""
    names: dict[str, str] = {}
    for entry in recipients:
        name = " ".join(str(entry).split())
        if name:
            names.setdefault(name.lower(), name)
    return list(names.values())


@transaction.atomic
def set_gifts(work: Work, *, by: User, recipients: Sequence[str]) -> list[Gift]:
    """Make `recipients` the work's gifts: each a username (a gift to that user) or any
    other name (shown as written). Gifts not named any more are removed.

    Raises ValidationError({"gifts": [...]}) for too many or too long names, a gift to
    oneself, or a user who refused this work before; PermissionDenied unless `by` is one
    of the work's creators.
    """
    if not Creatorship.objects.filter(work=work, pseud__user_id=by.pk, accepted=True).exists():
        raise PermissionDenied("Only the work's creators can change who it is for.")
    # Two creators saving at once would both add the same recipient (a unique violation):
    # the work's row lock makes the second read what the first wrote.
    Work.objects.select_for_update().filter(pk=work.pk).values_list("pk", flat=True).first()
    names = _wanted(recipients)
    errors: list[str] = []
    if len(names) > MAX_GIFTS:
        errors.append(f"A work can be a gift to at most {MAX_GIFTS} people.")
    errors += [f"“{name[:40]}…” is too long for a name (at most {MAX_NAME} characters)." for name in names if len(name) > MAX_NAME]
    if errors:
        raise ValidationError({"gifts": errors})

    # Usernames are unique without regard to case: "Bob" is bob's gift.
    lowered = [name.lower() for name in names]
    matches = functools.reduce(operator.or_, (Q(username__iexact=name) for name in names), Q(pk__in=[]))
    users = {user.username.lower(): user for user in User.objects.filter(matches, is_active=True)}
    creators = set(Creatorship.objects.filter(work=work, accepted=True).values_list("pseud__user_id", flat=True))
    existing = list(Gift.objects.filter(work=work).select_related("recipient"))
    refused = {gift.recipient_id for gift in existing if gift.refused and gift.recipient_id}
    for name in names:
        user = users.get(name.lower())
        if user is None:
            continue
        if user.pk in creators:
            errors.append(f"{user.username} is one of the work's creators: a work cannot be a gift to its own creator.")
        elif user.pk in refused:
            errors.append(f"{user.username} has refused this work as a gift.")
    if errors:
        raise ValidationError({"gifts": errors})

    wanted_users = {users[key].pk for key in lowered if key in users}
    wanted_names = {name.lower(): name for name in names if name.lower() not in users}
    # Refused gifts stay, so that the refusal holds; anything else not asked for goes.
    stale = [
        gift.pk
        for gift in existing
        if not gift.refused
        and (gift.recipient_id not in wanted_users if gift.recipient_id else gift.recipient_name.lower() not in wanted_names)
    ]
    have_users = {gift.recipient_id for gift in existing if gift.recipient_id}
    have_names = {gift.recipient_name.lower() for gift in existing if not gift.recipient_id and gift.pk not in stale}
    new = [Gift(work=work, recipient_id=pk) for pk in sorted(wanted_users - have_users)]
    new += [Gift(work=work, recipient_name=name) for key, name in wanted_names.items() if key not in have_names]
    if stale:
        Gift.objects.filter(pk__in=stale).delete()
    if new:
        Gift.objects.bulk_create(new)
    if stale or new:
        _revised(work)
    return list(Gift.objects.filter(work=work, refused=False).select_related("recipient").order_by("pk"))


@transaction.atomic
def refuse_gift(gift: Gift, *, by: User) -> None:
    """The recipient refuses a gift: it disappears from the work and from their gifts page."""
    if gift.recipient_id is None or gift.recipient_id != by.pk:
        raise PermissionDenied("Only its recipient can refuse a gift.")
    if Gift.objects.filter(pk=gift.pk, refused=False).update(refused=True):
        gift.refused = True
        _revised(gift.work)


def _revised(work: Work) -> None:
    # The work page, its blurb and its API summary are cached per revision; they show gifts.
    now = timezone.now()
    Work.objects.filter(pk=work.pk).update(revised_at=now)
    work.revised_at = now
