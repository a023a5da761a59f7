"""The demo archive: a few people and about ten works that show what Chapbook can do.

Every story is original and every fandom invented (a space-opera TV show, a cosy
mystery series, a fantasy video game and an audio drama), so the demo can ship with
the package. Everything goes through the same services a person would use: post_work,
add_chapter, the co-creator invitation and the importer, so the demo also exercises them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, Protocol

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from chapbook.lib.formats import Format
from chapbook.people.models import Pseud, User
from chapbook.people.services import create_pseud, ensure_default_pseud
from chapbook.works.models import Chapter, Creatorship, Series, Work
from chapbook.works.services import (
    ChapterInput,
    TagInput,
    add_chapter,
    answer_co_creator_invitation,
    post_work,
    update_work,
)

__all__ = [
    "DEMO_PASSWORD",
    "FLATTENED_STORY",
    "LONG_WORK_TITLE",
    "SERIES_TITLE",
    "WIP_TITLE",
    "DemoLogin",
    "DemoResult",
    "load_demo",
]

DEMO_PASSWORD: Final = "chapbook-demo"
# The ~5,000-word one-shot: the benchmark reads its page (look it up by this title).
LONG_WORK_TITLE: Final = "The Affair of the Prize Marrow"
WIP_TITLE: Final = "Dead Reckoning"
SERIES_TITLE: Final = "What the Lantern Keeps"

DEMO_DIR: Final = Path(__file__).resolve().parent
STORIES: Final = DEMO_DIR / "stories"
# A story squashed onto a single line, the way copy-pasting from some sites leaves it:
# the importer has to find its paragraphs (and its end notes) again.
FLATTENED_STORY: Final = DEMO_DIR / "flattened_story.txt"

# A story file's extension says what the author wrote it in.
FORMAT_BY_SUFFIX: Final[dict[str, Format]] = {".html": "html", ".md": "markdown", ".txt": "text"}

MERIDIAN: Final = "The Long Meridian (TV)"
BRAMBLECOTE: Final = "The Bramblecote Mysteries - Hester Lyle"
LANTERN: Final = "Ashen Lantern (Video Game)"
GREYWATER: Final = "Greywater Radio (Podcast)"

GENERAL: Final = "General Audiences"
TEEN: Final = "Teen And Up Audiences"
MATURE: Final = "Mature"
NO_WARNINGS: Final = "No Archive Warnings Apply"
CHOSE_NOT_TO_WARN: Final = "Creator Chose Not To Use Archive Warnings"


class _Writer(Protocol):
    def write(self, text: str) -> object: ...


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


@dataclass
class DemoResult:
    created: bool
    logins: list[DemoLogin] = field(default_factory=list)
    works: list[Work] = field(default_factory=list)


@dataclass(frozen=True)
class _Person:
    username: str
    role: str
    bio: str = ""
    links: str = ""
    staff: bool = False


PEOPLE: Final = [
    _Person(
        "alice",
        "writer: a WIP, a one-shot, a draft only she can see, and a second pseud “Ali Writes”",
        bio="Writes long, updates slowly, answers every comment. Currently lost in space (The Long Meridian) "
        "and in a very small English village.",
        links="tumblr: @alicewrites\nhttps://example.org/alice",
    ),
    _Person(
        "bob",
        "writer and reader: a three-part series and an imported story",
        bio="Mostly here to read. Occasionally writes about lanterns, moths and quartermasters.",
        links="bluesky: @bob.example.org",
    ),
    _Person(
        "carol",
        "co-author with alice; wrote a prompt fill first posted on tumblr",
        bio="Prompt memes, epistolary fic, and anything with a found family in it.",
        links="dreamwidth: @carolfills",
    ),
    _Person("admin", "staff: the admin site, wrangling and moderation", staff=True),
]


def _days_ago(days: int, hour: int = 19) -> datetime:
    moment = timezone.now() - timedelta(days=days)
    return moment.replace(hour=hour, minute=(days * 7) % 60, second=0, microsecond=0)


def _story(name: str, *, title: str = "", notes: str = "", end_notes: str = "") -> ChapterInput:
    path = STORIES / name
    return ChapterInput(
        text=path.read_text(encoding="utf-8"),
        format=FORMAT_BY_SUFFIX[path.suffix],
        title=title,
        notes=notes,
        end_notes=end_notes,
    )


def _backdate_chapters(work: Work, when: datetime) -> None:
    # post_work's backdate moves the work's dates but creates its chapters "now".
    Chapter.objects.filter(work=work).update(created_at=when)


def _leave_feedback(*, one_shot: Work, in_progress: Work, alice: User, bob: User, carol: User) -> None:
    """A little of everything readers give back, so that every feedback page has something."""
    from chapbook.feedback.bookmarks import save_bookmark
    from chapbook.feedback.comments import post_comment
    from chapbook.feedback.kudos import leave_kudos
    from chapbook.feedback.subscriptions import subscribe

    leave_kudos(work=one_shot, user=bob)
    leave_kudos(work=one_shot, user=carol)
    leave_kudos(work=one_shot, user=None, guest_key="demo-guest", ip="192.0.2.10")
    first = post_comment(work=one_shot, by=bob, text="The last line made me put the book down and stare at the wall.")
    post_comment(work=one_shot, by=alice, parent=first, text="Thank you! That line came first; the rest grew around it.")
    post_comment(work=one_shot, by=None, guest_name="A lighthouse keeper", guest_email="keeper@example.org",
                 text="Reading this on a night shift. Perfect company.")
    save_bookmark(by=bob, work=one_shot, notes="<p>Quiet and perfect.</p>", tags=["comfort read"], rec=True)
    subscribe(by=bob, work=in_progress)


def _make_people() -> tuple[dict[str, User], list[DemoLogin]]:
    """The demo accounts, without their password yet (see load_demo)."""
    users: dict[str, User] = {}
    logins: list[DemoLogin] = []
    for person in PEOPLE:
        user = User.objects.filter(username=person.username).first()
        if user is None:
            user = User(
                username=person.username,
                email=f"{person.username}@example.org",
                bio=person.bio,
                links=person.links,
                is_staff=person.staff,
                is_superuser=person.staff,
            )
            user.set_unusable_password()
            user.save()
            password = DEMO_PASSWORD
        else:
            # An archive with no works may still have accounts (createsuperuser, say):
            # those keep their own passwords.
            password = "(unchanged)"
        ensure_default_pseud(user=user)
        users[person.username] = user
        logins.append(DemoLogin(person.username, password, person.role))
    return users, logins


def _pseud(user: User, name: str) -> Pseud:
    return user.pseuds.filter(name__iexact=name).first() or create_pseud(
        user=user,
        name=name,
        description="Where I post the things I'm less sure of.",
    )


def _post_one_shot(alice: User) -> Work:
    """The longest work: a one-shot of about 5,000 words, with work end notes."""
    when = _days_ago(640)
    work, _ = post_work(
        by=alice,
        title=LONG_WORK_TITLE,
        expected_chapters=1,
        chapters=[_story("the-affair-of-the-prize-marrow.html")],
        tags=TagInput(
            fandoms=[BRAMBLECOTE],
            ratings=[GENERAL],
            warnings=[NO_WARNINGS],
            categories=["Gen"],
            relationships=["Winifred Ashby & Tom Quayle", "Arthur Venn/Hilda Grice"],
            characters=[
                "Winifred Ashby", "Tom Quayle", "Arthur Venn", "Poppy Venn",
                "Hilda Grice", "Dorothy Penhallow", "Barnaby Venn", "Lionel Hartsough",
            ],
            freeforms=["Cosy Mystery", "Village Fete", "Vegetables", "Mentor/Protégé Relationship", "Found Family"],
        ),
        summary="<p>The day before the Bramblecote Summer Show, Arthur Venn's prize marrow vanishes from his "
        "greenhouse. Winifred Ashby, retired headmistress, telephones the only detective she ever taught "
        "to read.</p>",
        notes="<p>Set two summers after <em>The Vicar's Garden Party</em>. No spoilers for the later books.</p>",
        end_notes="<p>Thank you for reading! The crocodile cucumber is based on a real entry at my village show, "
        "which was robbed. If you liked this, a comment makes my week.</p>"
        "<p>Sir Gerald's coat of arms is a watering can rampant on a field of green, obviously.</p>",
        backdate=when,
    )
    _backdate_chapters(work, when)
    return work


def _post_work_in_progress(alice: User) -> Work:
    """Three chapters of five, each with a title and notes, posted months apart."""
    tags = TagInput(
        fandoms=[MERIDIAN],
        ratings=[TEEN],
        warnings=[NO_WARNINGS],
        categories=["F/M", "Gen"],
        relationships=["Sefa Arden/Oren Tallis", "Juno Kask & WREN"],
        characters=["Sefa Arden", "Oren Tallis", "Juno Kask", "WREN"],
        freeforms=["Slow Burn", "Canon Divergence", "Navigation", "Conspiracy", "Hurt/Comfort", "Backstory"],
    )
    dates = [_days_ago(200), _days_ago(120), _days_ago(21)]
    work, _ = post_work(
        by=alice,
        title=WIP_TITLE,
        chapters=[
            _story(
                "dead-reckoning-1.html",
                title="Drift",
                notes="<p>Diverges after season two, episode nine (“Lane Fever”). You don't need to have seen the "
                "show: all you need to know is that the ship is old, the crew is small, and the AI is nosy.</p>",
            )
        ],
        tags=tags,
        summary="<p>After a routine jump the <em>Halcyon Debt</em>'s star plot comes up blank. Her navigator has "
        "to find their way home by hand, with his grandmother's sextant and his captain writing down the "
        "numbers. Then the numbers come out wrong.</p>",
        notes="<p>Updates roughly monthly. Five chapters are planned; the outline is done, I promise.</p>",
        expected_chapters=5,
        backdate=dates[0],
    )
    add_chapter(
        work,
        by=alice,
        chapter=_story(
            "dead-reckoning-2.html",
            title="Fixed Stars",
            notes="<p>Oren's backstory at last. Sorry for the wait; this one fought me.</p>",
            end_notes="<p>Calloway's Drift is mentioned once in canon, in the season one finale, and never again. "
            "I have filled that silence.</p>",
        ),
    )
    add_chapter(
        work,
        by=alice,
        chapter=_story(
            "dead-reckoning-3.html",
            title="The Cost of a Heading",
            notes="<p>Shorter chapter, bigger cliffhanger. I regret nothing.</p>",
        ),
    )
    for position, when in enumerate(dates, start=1):
        Chapter.objects.filter(work=work, position=position).update(created_at=when)
    Work.objects.filter(pk=work.pk).update(updated_at=dates[-1], revised_at=dates[-1])
    work.refresh_from_db()
    return work


def _post_draft(alice: User) -> Work:
    work, _ = post_work(
        by=alice,
        title="untitled lighthouse thing",
        chapters=[_story("lighthouse-draft.html")],
        tags=TagInput(
            fandoms=[MERIDIAN],
            ratings=[TEEN],
            warnings=[NO_WARNINGS],
            characters=["Oren Tallis"],
            freeforms=["Backstory", "Work In Progress"],
        ),
        summary="<p>Oren, before. (Probably becomes chapter four of Dead Reckoning.)</p>",
        draft=True,
        backdate=_days_ago(10),
    )
    return work


def _post_restricted(alice: User) -> Work:
    """Posted under alice's second pseud, for logged-in readers only."""
    when = _days_ago(590, hour=23)
    work, _ = post_work(
        by=alice,
        pseuds=[_pseud(alice, "Ali Writes")],
        title="Vespers",
        expected_chapters=1,
        chapters=[_story("vespers.html")],
        tags=TagInput(
            fandoms=[BRAMBLECOTE],
            ratings=[MATURE],
            warnings=[NO_WARNINGS],
            categories=["M/M"],
            relationships=["Tom Quayle/Lionel Hartsough"],
            characters=["Tom Quayle", "Lionel Hartsough", "Dorothy Penhallow"],
            freeforms=["Second Chances", "Grief", "Alcohol", "Implied Sexual Content", "Getting Back Together"],
        ),
        summary="<p>After Margaret Venn's funeral, somebody knocks on the vicarage's back door. Lionel knows the "
        "knock.</p>",
        notes="<p>Set two years before <em>The Affair of the Prize Marrow</em>. Rated for themes and a "
        "closed-door night.</p>",
        restricted=True,
        backdate=when,
    )
    _backdate_chapters(work, when)
    return work


def _post_co_created(alice: User, carol: User) -> Work:
    """alice posts and invites carol, who accepts: only then is carol credited."""
    when = _days_ago(410, hour=12)
    work, _ = post_work(
        by=alice,
        co_creators=[carol.default_pseud],
        title="Yours Faithfully, Bramblecote",
        expected_chapters=1,
        chapters=[_story("yours-faithfully-bramblecote.html")],
        tags=TagInput(
            fandoms=[BRAMBLECOTE],
            ratings=[GENERAL],
            warnings=[NO_WARNINGS],
            categories=["Gen"],
            relationships=["Dorothy Penhallow & Winifred Ashby"],
            characters=["Dorothy Penhallow", "Winifred Ashby", "Barnaby Venn"],
            freeforms=["Epistolary", "Letters", "Friendship", "Holidays"],
        ),
        summary="<p>Dorothy Penhallow goes to Portugal for a month. Winifred Ashby finds out what running the "
        "village's gossip actually involves. Letters, a postcard, and a jar of honey.</p>",
        notes="<p>Written in turns: alice wrote Winnie's letters and carol wrote Dot's.</p>",
        backdate=when,
    )
    _backdate_chapters(work, when)
    invitation = Creatorship.objects.get(work=work, pseud__user=carol)
    answer_co_creator_invitation(invitation, by=carol, accept=True)
    return work


def _post_prompt_fill(carol: User) -> Work:
    """A prompt-meme fill first posted on tumblr, written in plain text."""
    when = _days_ago(700, hour=2)
    work, _ = post_work(
        by=carol,
        title="Small Hours",
        expected_chapters=1,
        chapters=[_story("small-hours.txt")],
        tags=TagInput(
            fandoms=[MERIDIAN],
            ratings=[GENERAL],
            warnings=[NO_WARNINGS],
            categories=["Gen"],
            relationships=["Juno Kask & WREN"],
            characters=["Juno Kask", "WREN"],
            freeforms=["Card Games", "Night Shifts", "Artificial Intelligence", "Fluff", "Prompt Fill"],
        ),
        summary="<p>Juno teaches the ship to play cards. The ship is a quick study.</p>",
        notes="<p>Filled for the Long Meridian kink-and-fluff meme, round three. Lightly edited from the "
        "original.</p>",
        prompt_text="Juno teaches WREN to play cards on the night shift. WREN is terrible at first, then far too "
        "good, then starts losing on purpose because it likes seeing Juno happy. Juno is NOT having it.",
        prompt_relationship="Juno Kask & WREN",
        source_site="tumblr",
        source_url="https://example.tumblr.com/post/12345",
        backdate=when,
    )
    _backdate_chapters(work, when)
    return work


def _post_series(bob: User) -> list[Work]:
    """Three works in one series; the second is written in Markdown."""
    common = {"fandoms": [LANTERN], "characters": ["Kiri Solace", "Thessaly Rook", "Dunmore"]}
    parts = [
        (
            "Inventory",
            "lantern-1-inventory.html",
            TagInput(
                **common,
                ratings=[GENERAL],
                warnings=[NO_WARNINGS],
                categories=["Gen"],
                relationships=["Kiri Solace & Dunmore"],
                freeforms=["Night Before the Battle", "Traditions", "Mentor/Protégé Relationship"],
            ),
            "<p>The night before the army marches on the Ninth Bell, the Warden can't sleep, so she goes down "
            "to the stores to count things.</p>",
            _days_ago(520),
        ),
        (
            "Field Notes on the Lesser Lantern-Moth",
            "lantern-2-field-notes.md",
            TagInput(
                **common,
                ratings=[TEEN],
                warnings=[NO_WARNINGS],
                categories=["F/F"],
                relationships=["Kiri Solace/Thessaly Rook"],
                freeforms=["Journal Entries", "Moths", "First Kiss", "Scientist Thessaly Rook"],
            ),
            "<p>From the field journal of the Second Mage: observations on a small brown moth, and on the "
            "Warden it will not leave alone.</p>",
            _days_ago(470),
        ),
        (
            "After the Ninth Bell",
            "lantern-3-after-the-ninth-bell.html",
            TagInput(
                **common,
                ratings=[MATURE],
                warnings=[CHOSE_NOT_TO_WARN],
                categories=["F/F", "Gen"],
                relationships=["Kiri Solace/Thessaly Rook", "Kiri Solace & Dunmore"],
                freeforms=["Battle Aftermath", "Injury", "Blood", "Grief", "Hurt/Comfort"],
            ),
            "<p>The Bell stops. The silence afterwards is very large. Somebody has to count what is left.</p>",
            _days_ago(300, hour=21),
        ),
    ]
    works: list[Work] = []
    series: Series | None = None
    for title, filename, tags, summary, when in parts:
        work, _ = post_work(
            by=bob,
            title=title,
            expected_chapters=1,
            chapters=[_story(filename)],
            tags=tags,
            summary=summary,
            series=series,
            series_title=SERIES_TITLE if series is None else "",
            backdate=when,
        )
        _backdate_chapters(work, when)
        if series is None:
            series = work.series_parts.get().series
        works.append(work)
    assert series is not None
    series.summary = (
        "Three nights around the battle of the Ninth Bell: before, during (in a manner of speaking), and after.\n\n"
        "Spoilers for the end of Act Two."
    )
    series.complete = True
    series.created_at = parts[0][4]
    series.save(update_fields=["summary", "complete", "created_at"])
    return works


def _import_flattened(bob: User) -> Work:
    """The one-line story goes through the importer, which has to find its paragraphs again."""
    # Imported lazily: the importer pulls in the text parser, which nothing else here needs.
    from chapbook.imports.services import import_file

    result = import_file(
        by=bob,
        filename=FLATTENED_STORY.name,
        data=FLATTENED_STORY.read_bytes(),
        pseud_name="bob",
        title="Caller on Line Two",
        fandoms=[GREYWATER],
        rating=TEEN,
        warnings=[CHOSE_NOT_TO_WARN],
        relationships=["Marguerite Oyelaran & Sol Beck"],
        characters=["Marguerite Oyelaran", "Sol Beck", "Dev Reyes"],
        tags=["Ghosts", "Late Night Radio", "Fog", "Ambiguous Ending", "Halloween"],
    )
    # A file does not say whether its story is finished; this one is.
    update_work(result.work, by=bob, expected_chapters=1)
    # The importer has no backdate: a file is imported "now". The demo wants it to look older.
    when = _days_ago(60, hour=2)
    Work.objects.filter(pk=result.work.pk).update(
        created_at=when, published_at=when, updated_at=when, revised_at=when
    )
    _backdate_chapters(result.work, when)
    result.work.refresh_from_db()
    return result.work


def load_demo(*, stdout: _Writer | None = None) -> DemoResult:
    """Fill an empty archive with the demo people and works; leave any other archive alone."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    with transaction.atomic():
        if Work.objects.exists():
            say("The archive already has works; the demo was not loaded.")
            return DemoResult(created=False)
        users, logins = _make_people()
        new_accounts = [users[login.username].pk for login in logins if login.password == DEMO_PASSWORD]
        alice, bob, carol = users["alice"], users["bob"], users["carol"]
        # The password hasher takes most of a second on purpose, and the first word count
        # in a process builds its tables for as long again; pbkdf2 lets go of the GIL, so
        # both run at once and the demo loads in a couple of seconds. One hash serves
        # every account: they share a password anyway.
        with ThreadPoolExecutor(max_workers=1) as pool:
            password_hash = pool.submit(make_password, DEMO_PASSWORD)
            works = [
                _post_prompt_fill(carol),
                _post_one_shot(alice),
                _post_restricted(alice),
                *_post_series(bob),
                _post_co_created(alice, carol),
                _post_work_in_progress(alice),
                _import_flattened(bob),
                _post_draft(alice),
            ]
            # works[1] is Alice's one-shot, works[-3] her work in progress.
            _leave_feedback(one_shot=works[1], in_progress=works[-3], alice=alice, bob=bob, carol=carol)
            User.objects.filter(pk__in=new_accounts).update(password=password_hash.result())
    for work in works:
        say(f"  {work.title} ({work.chapters_display}, {work.word_count:,} words{', draft' if work.draft else ''})")
    return DemoResult(created=True, logins=logins, works=works)
