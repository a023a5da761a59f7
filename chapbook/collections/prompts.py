"""Prompt memes: prompts, claims and fills (services), and what pages may show of them (selectors).

Anonymity is the rule that shapes this module. A prompt keeps its `user` so that the
prompter can edit it and hear about claims and fills, but nothing here hands that user
(or the pseud) to anyone else: pages, the API and notifications name a prompter only
through `prompter_name`/`prompter_url`, and the one way to look behind "Anonymous" is
`reveal_prompter`, for site admins, which writes an IdentityAccess row every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from chapbook.collections.models import Claim, Collection, Fill, IdentityAccess, Prompt, PromptTag
from chapbook.feedback.notifications import notify
from chapbook.lib.sanitize import sanitize_comment, strip_tags
from chapbook.people.models import Pseud, User
from chapbook.tags.models import Tag, TagType
from chapbook.works.models import Creatorship, Work
from chapbook.works.selectors import AnyUser, works_visible_to
from chapbook.works.services import TagInput, _find_or_create_tag, _tag_problem, split_tag_names

MAX_TEXT = 10_000
MAX_TITLE = 255
MAX_REASON = 500
ANONYMOUS = "Anonymous"
# Until the lead adds NotificationKind.PROMPT, the kind is written as its value.
NOTIFICATION_KIND = "prompt"

# The tag types a prompt carries, by TagInput's field names; a prompt has no rating,
# warnings or categories (those describe a finished work).
PROMPT_TAG_FIELDS: dict[str, TagType] = {
    "fandoms": TagType.FANDOM,
    "relationships": TagType.RELATIONSHIP,
    "characters": TagType.CHARACTER,
    "freeforms": TagType.FREEFORM,
}
REQUIRED_MESSAGES: dict[str, str] = {
    TagType.FANDOM: "Add at least one fandom.",
    TagType.RELATIONSHIP: "Add at least one relationship.",
    TagType.CHARACTER: "Add at least one character.",
    TagType.FREEFORM: "Add at least one additional tag.",
}
SORTS = ("date", "claims")


# Checks ------------------------------------------------------------------------------


def required_types(collection: Collection) -> list[str]:
    """The tag types every prompt in `collection` must carry, in the order they were set."""
    return [value.strip() for value in collection.required_tag_types.split(",") if value.strip()]


def prompt_window_problem(collection: Collection, now: datetime | None = None) -> str | None:
    """Why `collection` takes no prompts right now, or None when it does."""
    now = now or timezone.now()
    if not collection.prompt_meme:
        return "This collection does not take prompts."
    if collection.closed:
        return f"“{collection.title}” is closed: it takes no new prompts."
    if collection.prompts_open_at is not None and now < collection.prompts_open_at:
        return f"Prompts open on {collection.prompts_open_at:%d %B %Y at %H:%M} UTC."
    if collection.prompts_close_at is not None and now >= collection.prompts_close_at:
        return f"Prompts closed on {collection.prompts_close_at:%d %B %Y at %H:%M} UTC."
    return None


def prompts_open(collection: Collection) -> bool:
    return prompt_window_problem(collection) is None


def _moderates(user: AnyUser, collection: Collection) -> bool:
    if user is None or not user.is_authenticated:
        return False
    # Imported here: the collections' own services and selectors import this module's neighbours.
    from chapbook.collections.selectors import is_moderator

    return bool(is_moderator(user, collection))


def _own_pseud(user: User, pseud: Pseud | None) -> Pseud:
    if pseud is None:
        return user.default_pseud
    if pseud.user_id != user.pk:
        # Never the pseud's owner in the message: it may be someone's anonymous name.
        raise ValidationError({"pseud": ["Choose one of your own pseuds."]})
    return pseud


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if len(title) > MAX_TITLE:
        raise ValidationError({"title": [f"Titles can be at most {MAX_TITLE} characters long."]})
    return title


def _clean_text(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": [f"This can be at most {MAX_TEXT:,} characters long (it is {len(text):,})."]})
    # A prompt is typed like a comment (plain text or a little HTML) and gets the
    # comment allow-list: no images, so a prompt page never makes a browser fetch anything.
    html = sanitize_comment(text)
    if not strip_tags(html).strip():
        raise ValidationError({"text": ["A prompt needs some text."]})
    return html


def resolve_prompt_tags(tags: TagInput | None, collection: Collection) -> list[Tag]:
    """Find or create a prompt's tags, as posting a work does, and check the required types."""
    tags = tags or TagInput()
    errors: dict[str, list[str]] = {}
    resolved: list[Tag] = []
    for field_name, tag_type in PROMPT_TAG_FIELDS.items():
        for name in split_tag_names(getattr(tags, field_name)):
            problem = _tag_problem(name, tag_type)
            if problem:
                errors.setdefault(field_name, []).append(problem)
                continue
            tag = _find_or_create_tag(name, tag_type)
            if tag.type != tag_type:
                errors.setdefault(field_name, []).append(
                    f"“{name}” is already a {tag.get_type_display().lower()} tag, so it cannot be used as a {tag_type.label.lower()}."
                )
                continue
            if tag not in resolved:
                resolved.append(tag)
    if errors:
        raise ValidationError(errors)
    present = {tag.type for tag in resolved}
    missing = [REQUIRED_MESSAGES.get(kind, f"Add at least one {kind} tag.") for kind in required_types(collection)]
    missing = [message for kind, message in zip(required_types(collection), missing) if kind not in present]
    if missing:
        raise ValidationError({"tags": missing})
    return resolved


def _set_prompt_tags(prompt: Prompt, tags: list[Tag]) -> None:
    PromptTag.objects.filter(prompt=prompt).exclude(tag__in=tags).delete()
    existing = set(PromptTag.objects.filter(prompt=prompt).values_list("tag_id", flat=True))
    PromptTag.objects.bulk_create([PromptTag(prompt=prompt, tag=tag) for tag in tags if tag.pk not in existing])


def _touch_works(work_ids: list[int]) -> None:
    """A work's page says which prompt it fills: its cached pages and API summaries are
    keyed on `revised_at`, so moving it makes them be built again."""
    if work_ids:
        Work.objects.filter(pk__in=work_ids).update(revised_at=timezone.now())


# Prompts -----------------------------------------------------------------------------


@transaction.atomic
def post_prompt(
    *,
    collection: Collection,
    by: User,
    text: str,
    title: str = "",
    tags: TagInput | None = None,
    anonymous: bool = False,
    pseud: Pseud | None = None,
) -> Prompt:
    """Leave a prompt in a prompt meme, inside its window.

    Tags are found or created like a work's; each type the collection requires must be
    there. The prompter's pseud is kept even when the prompt is anonymous (so that they
    can change their mind), but never shown while it is.
    """
    # Locked, so that a moderator closing the meme and a prompt arriving do not cross.
    collection = Collection.objects.select_for_update().get(pk=collection.pk)
    problem = prompt_window_problem(collection)
    if problem:
        raise ValidationError(problem)
    title = _clean_title(title)
    html = _clean_text(text)
    pseud = _own_pseud(by, pseud)
    resolved = resolve_prompt_tags(tags, collection)
    prompt = Prompt.objects.create(
        collection=collection, user=by, pseud=pseud, anonymous=anonymous, title=title, text=html
    )
    _set_prompt_tags(prompt, resolved)
    return prompt


def _lock_prompt(prompt: Prompt) -> Prompt:
    return Prompt.objects.select_for_update().select_related("collection").get(pk=prompt.pk)


def can_edit_prompt(prompt: Prompt, user: AnyUser) -> bool:
    """The prompter, until the prompt has a fill (the fill answers the prompt as it was)."""
    return bool(user is not None and user.is_authenticated and prompt.user_id == user.pk and prompt.fills_count == 0)


def can_delete_prompt(prompt: Prompt, user: AnyUser) -> bool:
    """The prompter until it has a fill; the collection's moderators and site admins always."""
    if user is None or not user.is_authenticated:
        return False
    return can_edit_prompt(prompt, user) or user.is_superuser or _moderates(user, prompt.collection)


@transaction.atomic
def edit_prompt(
    prompt: Prompt,
    *,
    by: User,
    text: str | None = None,
    title: str | None = None,
    tags: TagInput | None = None,
    anonymous: bool | None = None,
    pseud: Pseud | None = None,
) -> Prompt:
    """Change a prompt: only the fields given. Only its prompter, and only until it has a fill."""
    prompt = _lock_prompt(prompt)
    if prompt.user_id != by.pk:
        raise PermissionDenied("Only the prompter can edit this prompt.")
    if prompt.fills_count:
        raise ValidationError("This prompt has a fill, so it can no longer be changed.")
    if title is not None:
        prompt.title = _clean_title(title)
    if text is not None:
        prompt.text = _clean_text(text)
    if anonymous is not None:
        prompt.anonymous = anonymous
    if pseud is not None:
        prompt.pseud = _own_pseud(by, pseud)
    if tags is not None:
        _set_prompt_tags(prompt, resolve_prompt_tags(tags, prompt.collection))
    prompt.edited_at = timezone.now()
    prompt.save()
    return prompt


@transaction.atomic
def delete_prompt(prompt: Prompt, *, by: User) -> None:
    """Delete a prompt with its claims and fills (the works themselves stay)."""
    prompt = _lock_prompt(prompt)
    if not can_delete_prompt(prompt, by):
        if prompt.user_id == by.pk:
            raise ValidationError("This prompt has a fill, so only the collection's moderators can delete it.")
        raise PermissionDenied("Only the prompter or the collection's moderators can delete this prompt.")
    filled = list(prompt.fills.values_list("work_id", flat=True))
    prompt.delete()
    _touch_works(filled)


# Claims ------------------------------------------------------------------------------


def claimer_name(claim: Claim) -> str:
    """The name a claim shows: the claimer's pseud, or "Anonymous" in a collection that
    hides its creators (a named claim would say who wrote the anonymous fill)."""
    if claim.prompt.collection.hides_creators or getattr(claim, "anonymous_fill", False):
        return ANONYMOUS
    pseud = claim.pseud or claim.user.default_pseud
    return pseud.name


def claimer_url(claim: Claim) -> str:
    """The claimer's pseud page, or "" when `claimer_name` says "Anonymous"."""
    if claim.prompt.collection.hides_creators or getattr(claim, "anonymous_fill", False):
        return ""
    pseud = claim.pseud or claim.user.default_pseud
    return pseud.get_absolute_url()


def _already_claimed(prompt: Prompt, user: User) -> bool:
    return Claim.objects.filter(prompt=prompt, user=user).exists()


@transaction.atomic
def claim(*, prompt: Prompt, by: User, pseud: Pseud | None = None) -> Claim:
    """Claim a prompt. Any number of writers may claim the same prompt (AO3's rule), each once."""
    prompt = _lock_prompt(prompt)
    collection = prompt.collection
    if not collection.prompt_meme:
        raise ValidationError("This collection does not take prompts.")
    if collection.closed:
        raise ValidationError(f"“{collection.title}” is closed: its prompts can no longer be claimed.")
    pseud = _own_pseud(by, pseud)
    duplicate = ValidationError("You have already claimed this prompt.")
    if _already_claimed(prompt, by):
        raise duplicate
    try:
        # A savepoint: a double click racing itself past the check above meets the
        # unique constraint, and only this insert is undone, not the caller's transaction.
        with transaction.atomic():
            row = Claim.objects.create(prompt=prompt, user=by, pseud=pseud)
    except IntegrityError:
        raise duplicate from None
    Prompt.objects.filter(pk=prompt.pk).update(claims_count=F("claims_count") + 1)
    row.prompt = prompt
    if prompt.user_id != by.pk:
        notify(
            users=[prompt.user_id],
            kind=NOTIFICATION_KIND,
            actor=claimer_name(row),
            text=f"claimed your prompt {_prompt_label(prompt)} in {collection.title}",
            url=prompt.get_absolute_url(),
        )
    return row


@transaction.atomic
def drop_claim(claim: Claim, *, by: User) -> None:
    """Drop one's own claim. Fills posted for it stay (they no longer point at a claim)."""
    row = Claim.objects.select_for_update().filter(pk=claim.pk).first()
    if row is None:
        return
    if row.user_id != by.pk:
        raise PermissionDenied("This claim is not yours.")
    prompt_id = row.prompt_id
    row.delete()
    Prompt.objects.filter(pk=prompt_id, claims_count__gt=0).update(claims_count=F("claims_count") - 1)


# Fills -------------------------------------------------------------------------------


def _prompt_label(prompt: Prompt) -> str:
    return f"“{prompt.title}”" if prompt.title else f"#{prompt.pk}"


def _add_to_collection(work: Work, collection: Collection, *, by: User) -> None:
    """A fill belongs to its meme: the work joins the prompt's collection (under its rules)."""
    # Imported here: the collection services import the works services, which call back
    # into this module when a work is posted as a fill.
    from chapbook.collections import services as collection_services
    from chapbook.collections.models import CollectionItem

    if CollectionItem.objects.filter(collection=collection, work=work).exists():
        return
    try:
        collection_services.add_work(collection, by=by, work=work)
    except ValidationError as error:
        raise ValidationError({"fill_prompt": error.messages}) from error


def _is_creator(work: Work, user: User) -> bool:
    return Creatorship.objects.filter(work=work, pseud__user=user, accepted=True).exists()


@transaction.atomic
def fill_prompt(*, work: Work, prompt: Prompt, by: User, claim: Claim | None = None) -> Fill:
    """Link `work` to `prompt` as a fill, with the writer's claim if they have one.

    Filling without claiming first is allowed. Linking the same work again returns the
    fill it already is. The prompter is told once the work is posted (not while it is a
    draft; `fills_posted` tells them when it is).
    """
    if not _is_creator(work, by):
        raise PermissionDenied("Only the work's creators can link it to a prompt.")
    prompt = _lock_prompt(prompt)
    collection = prompt.collection
    existing = Fill.objects.filter(prompt=prompt, work=work).first()
    if existing is not None:
        return existing
    if not collection.prompt_meme:
        raise ValidationError({"fill_prompt": ["That prompt's collection is no longer a prompt meme."]})
    if collection.closed:
        raise ValidationError({"fill_prompt": [f"“{collection.title}” is closed: it takes no new fills."]})
    if claim is None:
        claim = Claim.objects.filter(prompt=prompt, user=by).first()
    elif claim.user_id != by.pk or claim.prompt_id != prompt.pk:
        raise ValidationError({"fill_prompt": ["That claim is not yours, or not for this prompt."]})
    _add_to_collection(work, collection, by=by)
    try:
        with transaction.atomic():
            fill = Fill.objects.create(prompt=prompt, work=work, claim=claim)
    except IntegrityError:
        # The same work linked twice at once: the other request's fill is this one.
        return Fill.objects.get(prompt=prompt, work=work)
    Prompt.objects.filter(pk=prompt.pk).update(fills_count=F("fills_count") + 1)
    _touch_works([work.pk])
    # Read again: joining the collection may have made the work anonymous or unrevealed.
    work = Work.objects.get(pk=work.pk)
    if not work.draft:
        _tell_prompter(prompt, work)
    return fill


def fills_posted(work: Work) -> None:
    """A draft linked to prompts was posted: their prompters hear of it now."""
    for fill in Fill.objects.filter(work=work).select_related("prompt__collection"):
        _tell_prompter(fill.prompt, work)


def _tell_prompter(prompt: Prompt, work: Work) -> None:
    """Only the prompter is told, by their own inbox, so nothing names them to anyone else;
    an anonymous fill names no writer, and an unrevealed one not even its title."""
    if Creatorship.objects.filter(work=work, pseud__user_id=prompt.user_id, accepted=True).exists():
        return
    label = _prompt_label(prompt)
    collection = prompt.collection
    if work.unrevealed:
        notify(
            users=[prompt.user_id],
            kind=NOTIFICATION_KIND,
            text=f"Your prompt {label} in {collection.title} has a new fill; you can read it once the collection reveals its works.",
            url=prompt.get_absolute_url(),
        )
        return
    writers = ANONYMOUS if work.anonymous else _writer_names(work)
    notify(
        users=[prompt.user_id],
        kind=NOTIFICATION_KIND,
        actor=writers,
        text=f"filled your prompt {label} in {collection.title}: {work.title}",
        url=work.get_absolute_url(),
        work=work,
    )


def _writer_names(work: Work) -> str:
    names = Creatorship.objects.filter(work=work, accepted=True).order_by("position", "pk").values_list(
        "pseud__name", flat=True
    )
    return ", ".join(names) or ANONYMOUS


# Selectors ---------------------------------------------------------------------------


def prompter_hidden(prompt: Prompt) -> bool:
    """Whether a prompt's prompter is hidden: an anonymous prompt always (moderators
    included), any prompt while its collection hides its creators."""
    return prompt.anonymous or prompt.collection.hides_creators


def prompter_name(prompt: Prompt) -> str:
    """The ONLY name pages, the API and notifications show for a prompter."""
    if prompter_hidden(prompt):
        return ANONYMOUS
    pseud = prompt.pseud or prompt.user.default_pseud
    return pseud.name


def prompter_url(prompt: Prompt) -> str:
    """The prompter's pseud page, or "" when the prompter is hidden."""
    if prompter_hidden(prompt):
        return ""
    pseud = prompt.pseud or prompt.user.default_pseud
    return pseud.get_absolute_url()


def prompts_for(
    collection: Collection,
    *,
    viewer: AnyUser,
    tag: str | None = None,
    unclaimed: bool = False,
    unfilled: bool = False,
    sort: str = "date",
) -> QuerySet[Prompt]:
    """A meme's prompts with their tags and the fills `viewer` may see (as `visible_fills`).

    `tag` is a tag's name: its synonyms and its canonical tag count as the same tag. An
    unknown name finds no prompts.
    """
    prompts = Prompt.objects.filter(collection=collection)
    if tag:
        ids = same_tag_ids(tag)
        if not ids:
            return prompts.none()
        prompts = prompts.filter(pk__in=PromptTag.objects.filter(tag_id__in=ids).values("prompt_id"))
    if unclaimed:
        prompts = prompts.filter(claims_count=0)
    if unfilled:
        prompts = prompts.filter(fills_count=0)
    order = ("-claims_count", "-created_at", "-pk") if sort == "claims" else ("-created_at", "-pk")
    return with_details(prompts.order_by(*order), viewer)


def with_details(prompts: QuerySet[Prompt], viewer: AnyUser) -> QuerySet[Prompt]:
    """What a prompt's blurb shows, in a fixed number of queries however many prompts."""
    return prompts.select_related("collection", "pseud__user").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch(
            "fills",
            queryset=Fill.objects.filter(work__in=works_visible_to(viewer))
            .select_related("work")
            .order_by("created_at", "pk"),
            to_attr="visible_fills",
        ),
    )


def same_tag_ids(name: str) -> set[int]:
    """The ids of the tag called `name`, its canonical tag and that tag's synonyms."""
    tag = Tag.objects.filter(name__iexact=" ".join(name.split())).first()
    if tag is None:
        return set()
    canonical_id = tag.synonym_of_id or tag.pk
    return {canonical_id, tag.pk, *Tag.objects.filter(synonym_of_id=canonical_id).values_list("pk", flat=True)}


def prompt_in(collection: Collection, pk: int, *, viewer: AnyUser) -> Prompt | None:
    return with_details(Prompt.objects.filter(collection=collection, pk=pk), viewer).first()


def claims_of(prompt: Prompt) -> list[Claim]:
    """A prompt's claims, oldest first, ready for `claimer_name`.

    `anonymous_fill`: the claimer wrote an anonymous fill of this prompt (say, a work in an
    anonymous collection filling a prompt of a meme that names its creators). Such a claim
    is shown as "Anonymous": one named claim next to one anonymous fill says who wrote it.
    """
    anonymous_fill = Fill.objects.filter(
        prompt=prompt,
        work__anonymous=True,
        work__creatorships__pseud__user_id=OuterRef("user_id"),
        work__creatorships__accepted=True,
    )
    claims: list[Claim] = list(
        prompt.claims.select_related("pseud__user", "user")
        .annotate(anonymous_fill=Exists(anonymous_fill))
        .order_by("created_at", "pk")
    )
    for row in claims:
        row.prompt = prompt
    return claims


@dataclass
class FillView:
    """A fill as a page shows it: the work, and its writers as a reader may see them."""

    fill: Fill
    work: Work
    writers: list[Pseud]  # empty for an anonymous work: show "Anonymous"


def fills_of(prompt: Prompt, *, viewer: AnyUser) -> list[FillView]:
    """The fills of `prompt` whose works `viewer` may see, oldest first."""
    fills = (
        Fill.objects.filter(prompt=prompt, work__in=works_visible_to(viewer))
        .select_related("work")
        .prefetch_related(
            Prefetch("work__creatorships", queryset=Creatorship.objects.select_related("pseud__user").order_by("position", "pk"))
        )
        .order_by("created_at", "pk")
    )
    return [FillView(fill=fill, work=fill.work, writers=fill.work.shown_creators) for fill in fills]


def my_claims(user: User) -> QuerySet[Claim]:
    """A writer's claims, newest first, with their prompts and whether they filled them (`filled`)."""
    filled = Fill.objects.filter(
        prompt_id=OuterRef("prompt_id"), work__creatorships__pseud__user=user, work__creatorships__accepted=True
    )
    return (
        Claim.objects.filter(user=user)
        .select_related("prompt__collection", "prompt__pseud__user", "pseud")
        .annotate(filled=Exists(filled))
        .order_by("-created_at", "-pk")
    )


def open_claims(user: User) -> list[Claim]:
    """The claims a writer could still post a fill for (collections not closed)."""
    return list(
        Claim.objects.filter(user=user, prompt__collection__closed=False, prompt__collection__prompt_meme=True)
        .select_related("prompt__collection")
        .order_by("-created_at", "-pk")
    )


def fills_of_work(work: Work) -> list[Fill]:
    """The prompts a work fills, with their collections, oldest first (read from the
    prefetch of `prefetch_fills` when there is one, else one query)."""
    cached = getattr(work, "_prefetched_objects_cache", {})
    fills = cached["fills"] if "fills" in cached else work.fills.select_related("prompt__collection")
    return sorted(fills, key=lambda fill: (fill.created_at, fill.pk))


def prefetch_fills(works: list[Work]) -> None:
    """Load what `fills_of_work` reads for a page of works, in one query."""
    prefetch_related_objects(works, Prefetch("fills", queryset=Fill.objects.select_related("prompt__collection")))


def prompt_from_reference(value: str) -> Prompt | None:
    """A prompt from its number or its address (".../prompts/12", with or without the site)."""
    import re

    value = value.strip()
    match = re.fullmatch(r"#?(\d{1,18})", value) or re.search(r"/prompts/(\d{1,18})/?(?:[?#].*)?$", value)
    if match is None:
        return None
    return Prompt.objects.select_related("collection").filter(pk=int(match.group(1))).first()


@transaction.atomic
def reveal_prompter(prompt: Prompt, *, admin: User, reason: str) -> User:
    """Who left `prompt`: for site admins only (to act on abuse), and written down each time.

    Moderators are refused like everyone else: an anonymous prompt is anonymous to them too.
    """
    if not (admin.is_authenticated and admin.is_superuser):
        raise PermissionDenied("Only site admins can see who left a prompt.")
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": ["Say why you need to know (it is logged)."]})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": [f"Keep the reason under {MAX_REASON} characters."]})
    IdentityAccess.objects.create(admin=admin, prompt=prompt, reason=reason)
    return User.objects.get(pk=prompt.user_id)
