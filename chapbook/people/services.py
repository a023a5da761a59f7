"""Writes to accounts and pseuds. Each is one transaction, and each validates what it writes
so that the signup form, the admin and the API share a single set of rules."""

from __future__ import annotations

import re

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from chapbook.people.models import PSEUD_NAME_RE, Pseud, User
from chapbook.search.services import works_changed
from chapbook.works.models import Work

# AO3's rule: 3 to 40 letters, digits or underscores, beginning and ending with a letter or
# digit. ASCII only, so that two usernames cannot look alike but differ.
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,38}[A-Za-z0-9]$")
USERNAME_RULE = "Usernames are 3 to 40 letters, digits or underscores, and begin and end with a letter or digit."
PSEUD_RULE = "Pseuds are 1 to 40 letters, digits, spaces or . _ - ' and begin with a letter or digit."

# "/users/<name>/pseuds/new" is the page that creates a pseud, so a pseud called "new" would
# have a page nobody could reach; the username is reserved too because it names a pseud.
RESERVED_NAMES = {"new"}


def check_username(username: str) -> str:
    if not USERNAME_RE.fullmatch(username):
        raise ValidationError({"username": [USERNAME_RULE]})
    if username.lower() in RESERVED_NAMES:
        raise ValidationError({"username": [f"“{username}” is reserved; choose another username."]})
    # Case-insensitive because profile URLs are: "Alice" and "alice" must be one person.
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": [f"The username “{username}” is already taken."]})
    return username


def check_email(email: str) -> str:
    email = User.objects.normalize_email(email.strip())
    if not email:
        raise ValidationError({"email": ["An email address is required, to reset a forgotten password."]})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": ["Enter a valid email address."]}) from None
    # One account per address, or a password reset would not know whom it is for.
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": ["An account with this email address already exists."]})
    return email


def clean_pseud_name(name: str) -> str:
    name = " ".join(name.split())
    if not PSEUD_NAME_RE.fullmatch(name):
        raise ValidationError({"name": [PSEUD_RULE]})
    if name.lower() in RESERVED_NAMES:
        raise ValidationError({"name": [f"“{name}” is reserved; choose another name."]})
    return name


def _check_pseud_name_free(*, user: User, name: str, exclude: Pseud | None = None) -> None:
    taken = Pseud.objects.filter(user=user, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError({"name": [f"You already have a pseud called “{name}”."]})


def ensure_default_pseud(*, user: User) -> Pseud:
    """The pseud named after the username, which every account has from its first moment."""
    pseud = user.pseuds.filter(is_default=True).first()
    if pseud is None:
        pseud = Pseud.objects.create(user=user, name=user.username[:40], is_default=True)
    return pseud


@transaction.atomic
def sign_up(*, username: str, email: str, password: str) -> User:
    """Create an account and its default pseud. Raises ValidationError keyed by field name."""
    errors: dict[str, list[str]] = {}
    try:
        username = check_username(username.strip())
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        email = check_email(email)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        # An unsaved user lets the similarity validator compare the password with the name.
        validate_password(password, user=User(username=username, email=email))
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    try:
        # A savepoint: two people submitting the same name at once meet the unique
        # constraint, and the loser gets a form error instead of a broken transaction.
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:
        raise ValidationError({"username": [f"The username “{username}” is already taken."]}) from None
    ensure_default_pseud(user=user)
    return user


def _save_pseud(pseud: Pseud) -> Pseud:
    try:
        # The database's unique index on lower(name) is the real guard against a race.
        with transaction.atomic():
            pseud.save()
    except IntegrityError:
        raise ValidationError({"name": [f"You already have a pseud called “{pseud.name}”."]}) from None
    return pseud


@transaction.atomic
def create_pseud(*, user: User, name: str, description: str = "") -> Pseud:
    name = clean_pseud_name(name)
    _check_pseud_name_free(user=user, name=name)
    return _save_pseud(Pseud(user=user, name=name, description=description.strip()))


def _require_owner(pseud: Pseud, by: User) -> None:
    if pseud.user_id != by.pk:
        raise PermissionDenied("This pseud is not yours.")


@transaction.atomic
def update_pseud(pseud: Pseud, *, by: User, name: str | None = None, description: str | None = None) -> Pseud:
    _require_owner(pseud, by)
    if name is not None:
        name = clean_pseud_name(name)
        # The default pseud is the username, as on AO3: renaming it would leave the account
        # credited under a name nobody could find it by. A change of capitals is allowed.
        if pseud.is_default and name.lower() != pseud.user.username.lower():
            raise ValidationError({"name": ["Your default pseud is your username and cannot be renamed."]})
        _check_pseud_name_free(user=pseud.user, name=name, exclude=pseud)
        if name != pseud.name:
            # Work pages are cached per version of the work; the byline is part of it.
            Work.objects.filter(creatorships__pseud=pseud).update(revised_at=timezone.now())
            works_changed(list(Work.objects.filter(creatorships__pseud=pseud).values_list("pk", flat=True)))
        pseud.name = name
    if description is not None:
        pseud.description = description.strip()
    return _save_pseud(pseud)


@transaction.atomic
def delete_pseud(pseud: Pseud, *, by: User) -> None:
    _require_owner(pseud, by)
    # FOR UPDATE conflicts with the key-share lock a new creatorship takes on the pseud row,
    # so a work cannot be credited to the pseud between the check and the delete.
    pseud = Pseud.objects.select_for_update().get(pk=pseud.pk)
    if pseud.is_default:
        raise ValidationError({"name": ["Your default pseud cannot be deleted."]})
    credited = pseud.creatorships.filter(accepted=True).count()
    if credited:
        raise ValidationError(
            {"name": [f"“{pseud.name}” is credited on {credited} work{'s' if credited != 1 else ''}, "
                      "so it cannot be deleted. Move those works to another pseud first."]}
        )
    # Pending co-creator invitations to this pseud go with it: nobody can accept them now.
    pseud.delete()
