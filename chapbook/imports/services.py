"""Importing a story file as a new work.

The parser (`chapbook.lib.textimport`) turns bytes into a ParsedWork without touching the
database; this module decides who is credited, which tags apply and what the work is
called, then posts it through `post_work`. One file is one transaction: a rejected file
leaves nothing behind, not even the user `--pseud` would have created.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Iterable, NamedTuple, Sequence

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction

from chapbook.lib.formats import plain_to_html
from chapbook.lib.textimport import (
    ImportRejected,
    ParsedChapter,
    ParsedWork,
    parse_file,
)
from chapbook.people.models import Pseud, User
from chapbook.people.services import (
    PSEUD_RULE,
    RESERVED_NAMES,
    USERNAME_RE,
    USERNAME_RULE,
    clean_pseud_name,
    create_pseud,
    ensure_default_pseud,
)
from chapbook.tags.models import (
    CATEGORIES,
    DEFAULT_IMPORT_RATING,
    DEFAULT_IMPORT_WARNING,
    RATINGS,
    WARNINGS,
)
from chapbook.works.models import LANGUAGE_NAMES, Work
from chapbook.works.services import (
    RELATIONSHIP_RE,
    ChapterInput,
    TagInput,
    post_work,
    split_tag_names,
)


class ImportFailed(Exception):
    """A file was not imported. `message` is meant for the person importing it.

    `field` names the option the problem is about ("fandoms", "rating", "warnings",
    "pseud"), when there is one, so a form can show the message next to it.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ImportResult(NamedTuple):
    work: Work
    # What the sanitizer (or the importer) left out, for the person importing to check.
    removed: list[str]


# Header keys the parser recognises, by the tag field they fill. Content warnings and
# genres are not archive warnings or categories, so they become additional tags.
HEADER_KEYS = {
    "fandoms": ("fandom", "fandoms"),
    "ratings": ("rating", "ratings"),
    "warnings": ("warning", "warnings", "archive warning", "archive warnings"),
    "categories": ("category", "categories"),
    "relationships": ("relationship", "relationships", "pairing", "pairings", "ship", "ships"),
    "characters": ("character", "characters"),
    "freeforms": (
        "tags", "additional tags", "freeform", "freeforms", "content warning", "content warnings", "genre", "genres"
    ),
}

# Ratings and warnings as they are written in the wild, lower-cased, to the archive's names.
RATING_ALIASES = {
    **{name.lower(): name for name in RATINGS},
    "nr": "Not Rated",
    "unrated": "Not Rated",
    "g": "General Audiences",
    "general": "General Audiences",
    "t": "Teen And Up Audiences",
    "teen": "Teen And Up Audiences",
    "teen and up": "Teen And Up Audiences",
    "m": "Mature",
    "e": "Explicit",
}
WARNING_ALIASES = {
    **{name.lower(): name for name in WARNINGS},
    "none": "No Archive Warnings Apply",
    "no warnings": "No Archive Warnings Apply",
    "no archive warnings": "No Archive Warnings Apply",
    "choose not to warn": "Creator Chose Not To Use Archive Warnings",
    "chose not to warn": "Creator Chose Not To Use Archive Warnings",
    "creator chose not to warn": "Creator Chose Not To Use Archive Warnings",
    "cntw": "Creator Chose Not To Use Archive Warnings",
    "violence": "Graphic Depictions Of Violence",
    "graphic violence": "Graphic Depictions Of Violence",
    "mcd": "Major Character Death",
    "character death": "Major Character Death",
    "rape": "Rape/Non-Con",
    "non-con": "Rape/Non-Con",
    "noncon": "Rape/Non-Con",
    "underage": "Underage Sex",
}
CATEGORY_NAMES = {name.lower(): name for name in CATEGORIES}
NO_RELATIONSHIP = {"none", "n/a", "na", "-", "gen", "no pairing", "no pairings", "no relationship"}

# English names of the archive's languages; LANGUAGES itself holds their own names.
ENGLISH_LANGUAGE_NAMES = {
    "english": "en", "spanish": "es", "french": "fr", "german": "de", "italian": "it",
    "portuguese": "pt", "russian": "ru", "chinese": "zh", "japanese": "ja", "korean": "ko",
    "polish": "pl", "dutch": "nl", "swedish": "sv", "finnish": "fi", "indonesian": "id",
    "vietnamese": "vi", "turkish": "tr", "ukrainian": "uk", "arabic": "ar", "hebrew": "he",
}

_source_url_validator = URLValidator(schemes=["http", "https"])


def import_file(
    *,
    by: User | None = None,
    filename: str,
    data: bytes,
    pseud_name: str | None = None,
    fandoms: Iterable[str] = (),
    rating: str | None = None,
    warnings: Iterable[str] = (),
    relationships: Iterable[str] = (),
    characters: Iterable[str] = (),
    tags: Iterable[str] = (),
    title: str | None = None,
    draft: bool = False,
    max_bytes: int | None = None,
) -> ImportResult:
    """Parse one file and post it as a work. Raises ImportFailed, and then nothing was saved.

    The work is credited to `by` (its default pseud, or its pseud `pseud_name`); without
    `by`, to the pseud `pseud_name` of the user of the same name, both created if missing.
    Options come before what the file's header says; a single rating given as an option
    replaces the header's.
    """
    if by is None and not pseud_name:
        raise ImportFailed("Name the pseud to credit the work to.", field="pseud")
    if pseud_name is not None:
        pseud_name = check_pseud_name(pseud_name, creating_user=by is None)
    try:
        parsed = parse_file(filename, data, max_bytes=settings.IMPORT_MAX_BYTES if max_bytes is None else max_bytes)
    except ImportRejected as error:
        raise ImportFailed(str(error)) from error

    tag_input = _tag_input(
        parsed,
        fandoms=fandoms,
        rating=rating,
        warnings=warnings,
        relationships=relationships,
        characters=characters,
        freeforms=tags,
    )
    source_url, dropped = _source_url(parsed.source_url)
    try:
        with transaction.atomic():
            user, pseud = _credit(by, pseud_name)
            work, removed = post_work(
                by=user,
                pseuds=[pseud] if pseud else [],
                title=_title(title, parsed, filename),
                chapters=[_chapter_input(chapter) for chapter in parsed.chapters],
                tags=tag_input,
                summary=parsed.summary,
                notes=parsed.notes,
                end_notes=parsed.end_notes,
                notes_format="text",
                language=_language(parsed.header),
                draft=draft,
                source_site=parsed.source_site or "",
                source_url=source_url,
                prompt_text=parsed.prompt_text or "",
                prompt_relationship=parsed.prompt_relationship or "",
            )
    except ValidationError as error:
        raise ImportFailed(flatten_validation_error(error)) from error
    return ImportResult(work, dropped + removed)


def check_pseud_name(name: str, *, creating_user: bool) -> str:
    """The pseud name, tidied; raises ImportFailed when it cannot be one.

    With `creating_user`, a name with no user behind it must also be a valid username,
    because that user is created under the same name.
    """
    try:
        name = clean_pseud_name(name)
    except ValidationError:
        raise ImportFailed(f"“{name}” cannot be a pseud. {PSEUD_RULE}", field="pseud") from None
    if creating_user and not _user_named(name) and (not USERNAME_RE.fullmatch(name) or name.lower() in RESERVED_NAMES):
        raise ImportFailed(
            f"There is no user “{name}” and one cannot be created with that name: {USERNAME_RULE}", field="pseud"
        )
    return name


def _user_named(name: str) -> User | None:
    # Usernames are one person whatever their case, as profile URLs are.
    return User.objects.filter(username=name).first() or User.objects.filter(username__iexact=name).first()


def _credit(by: User | None, pseud_name: str | None) -> tuple[User, Pseud | None]:
    """Who posts the work and under which pseud (None: the user's default pseud)."""
    if by is not None:
        if pseud_name is None:
            return by, None
        pseud = by.pseuds.filter(name__iexact=pseud_name).first()
        if pseud is None:
            raise ImportFailed(f"“{pseud_name}” is not one of your pseuds.", field="pseud")
        return by, pseud
    assert pseud_name is not None
    user = _user_named(pseud_name)
    if user is None:
        # No password: the account exists so the works have someone to belong to, until
        # its owner claims it through a password reset.
        try:
            # A savepoint: two imports naming the same new pseud at once meet the unique
            # constraint, and the second simply uses the user the first created.
            with transaction.atomic():
                user = User.objects.create_user(username=pseud_name)
        except IntegrityError:
            user = User.objects.get(username=pseud_name)
        return user, ensure_default_pseud(user=user)
    pseud = user.pseuds.filter(name__iexact=pseud_name).first()
    if pseud is None:
        if not user.pseuds.exists():
            return user, ensure_default_pseud(user=user)
        pseud = create_pseud(user=user, name=pseud_name)
    return user, pseud


def _header(parsed: ParsedWork, field: str) -> list[str]:
    return split_tag_names(parsed.header_values(*HEADER_KEYS[field]))


def _tag_input(
    parsed: ParsedWork,
    *,
    fandoms: Iterable[str],
    rating: str | None,
    warnings: Iterable[str],
    relationships: Iterable[str],
    characters: Iterable[str],
    freeforms: Iterable[str],
) -> TagInput:
    fandom_names = split_tag_names([*fandoms, *_header(parsed, "fandoms")])
    if not fandom_names:
        raise ImportFailed(
            "No fandom: none was given with the import, and the file has no “Fandom:” line at the top.",
            field="fandoms",
        )
    # "Pairing: none" means no relationship, and "Pairing: Ines" names a character; as
    # relationship tags both would make the archive refuse the whole file.
    header_relationships: list[str] = []
    extra_characters: list[str] = []
    for name in _header(parsed, "relationships"):
        if RELATIONSHIP_RE.fullmatch(name):
            header_relationships.append(name)
        elif name.lower() not in NO_RELATIONSHIP:
            extra_characters.append(name)
    relationship_names = split_tag_names([*relationships, *header_relationships])
    prompt_relationship = " ".join((parsed.prompt_relationship or "").split())
    # A prompt's relationship is what the work is about, so it is tagged too (AO3 prompt
    # memes do the same); anything that is not written like a relationship stays only on
    # the prompt.
    if prompt_relationship and RELATIONSHIP_RE.fullmatch(prompt_relationship):
        relationship_names = split_tag_names([*relationship_names, prompt_relationship])

    # The options are the importer's own choice, so a typo there is an error. A file's
    # "Warnings: blood, swearing" are content warnings, which AO3 creators put in the
    # additional tags; rejecting them would leave no way to import the file unedited.
    warning_names = [_fixed(name, WARNING_ALIASES, "warnings", WARNINGS) for name in warnings]
    categories: list[str] = []
    extra_freeforms: list[str] = []
    for name in _header(parsed, "warnings"):
        known = _known(name, WARNING_ALIASES)
        (warning_names if known else extra_freeforms).append(known or name)
    for name in _header(parsed, "categories"):
        known = _known(name, CATEGORY_NAMES)
        (categories if known else extra_freeforms).append(known or name)
    # One rating only: the option replaces the file's (and is the way round an odd one).
    rating_names = [rating] if rating and rating.strip() else _header(parsed, "ratings")[:1]
    return TagInput(
        fandoms=fandom_names,
        ratings=[_fixed(name, RATING_ALIASES, "rating", RATINGS) for name in rating_names] or [DEFAULT_IMPORT_RATING],
        warnings=split_tag_names(warning_names) or [DEFAULT_IMPORT_WARNING],
        categories=split_tag_names(categories),
        relationships=relationship_names,
        characters=split_tag_names([*characters, *_header(parsed, "characters"), *extra_characters]),
        freeforms=split_tag_names([*freeforms, *_header(parsed, "freeforms"), *extra_freeforms]),
    )


def _known(name: str, aliases: dict[str, str]) -> str | None:
    return aliases.get(" ".join(name.split()).lower())


def _fixed(name: str, aliases: dict[str, str], field: str, choices: Sequence[str]) -> str:
    if known := _known(name, aliases):
        return known
    label = {"rating": "rating", "warnings": "archive warning"}[field]
    raise ImportFailed(f"Unknown {label} “{name}”: use one of {', '.join(choices)}.", field=field)


def _language(header: dict[str, list[str]]) -> str:
    for value in header.get("language", []):
        name = value.strip().lower()
        code = name.replace("_", "-").split("-")[0]
        if code in LANGUAGE_NAMES:
            return code
        if name in ENGLISH_LANGUAGE_NAMES:
            return ENGLISH_LANGUAGE_NAMES[name]
        for known_code, own_name in LANGUAGE_NAMES.items():
            if own_name.lower() == name:
                return known_code
    # An unknown language is no reason to refuse a story: it gets the archive's default.
    return "en"


def _title(option: str | None, parsed: ParsedWork, filename: str) -> str:
    for candidate in (option, parsed.title):
        if candidate and candidate.strip():
            return candidate.strip()
    stem = PurePath(filename).stem
    return " ".join(re.sub(r"[_-]+", " ", stem).split())


def _source_url(url: str | None) -> tuple[str, list[str]]:
    """The source URL when it is a web address; anything else would become a link we cannot trust."""
    url = (url or "").strip()
    if not url:
        return "", []
    try:
        _source_url_validator(url)
    except ValidationError:
        return "", [f"the source URL “{url[:80]}” (not a web address)"]
    return url, []


def paragraphs_to_html(paragraphs: Sequence[str]) -> str:
    """Plain-text paragraphs as HTML: one <p> each, single line breaks kept as <br>."""
    return "\n".join(block for paragraph in paragraphs if (block := plain_to_html(paragraph)))


def _chapter_input(chapter: ParsedChapter) -> ChapterInput:
    text = chapter.html if chapter.html.strip() else paragraphs_to_html(chapter.paragraphs)
    return ChapterInput(text=text, format="html", title=chapter.title or "")


# Service field names where the name an importer sees differs.
FIELD_LABELS = {"freeforms": "additional tags", "ratings": "rating", NON_FIELD_ERRORS: ""}


def flatten_validation_error(error: ValidationError) -> str:
    """A service's ValidationError as one line: "field: message; field: message"."""
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    parts = []
    for field, messages in error.message_dict.items():
        label = FIELD_LABELS.get(field, field)
        parts += [f"{label}: {message}" if label else message for message in messages]
    return "; ".join(parts)
