"""The demo archive: `chapbook demo` fills an empty archive with people and works showing each feature."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import authenticate

from chapbook.demo.loader import (
    DEMO_PASSWORD,
    FLATTENED_STORY,
    LONG_WORK_TITLE,
    SERIES_TITLE,
    WIP_TITLE,
    DemoResult,
    load_demo,
)
from chapbook.people.models import User
from chapbook.tags.models import Tag, TagType
from chapbook.works.models import Series, Work
from tests.conftest import build_work, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db: None) -> DemoResult:
    return load_demo()


def work(title: str) -> Work:
    return Work.objects.prefetch_related("tags", "creatorships__pseud").get(title=title)


def test_it_creates_the_demo_people_with_the_demo_password(demo: DemoResult) -> None:
    assert demo.created
    assert [login.username for login in demo.logins] == ["alice", "bob", "carol", "admin"]
    for login in demo.logins:
        assert login.password == DEMO_PASSWORD
        assert login.role
        assert authenticate(username=login.username, password=DEMO_PASSWORD) is not None
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser


def test_each_person_has_a_default_pseud_and_alice_a_second_one(demo: DemoResult) -> None:
    for username in ("alice", "bob", "carol"):
        assert User.objects.get(username=username).default_pseud.name == username
    alice = User.objects.get(username="alice")
    assert sorted(alice.pseuds.values_list("name", flat=True)) == ["Ali Writes", "alice"]


def test_alice_has_a_profile_with_links(demo: DemoResult) -> None:
    alice = User.objects.get(username="alice")
    assert alice.bio
    labels = [link.label for link in alice.profile_links()]
    assert labels == ["tumblr: @alicewrites", "example.org/alice"]


def test_it_loads_about_ten_works_in_several_invented_fandoms(demo: DemoResult) -> None:
    assert 8 <= Work.objects.count() <= 12
    fandoms = {tag.name for w in Work.objects.prefetch_related("tags") for tag in w.fandoms}
    assert len(fandoms) >= 3


def test_every_work_has_a_fandom_one_rating_and_a_warning(demo: DemoResult) -> None:
    for w in Work.objects.prefetch_related("tags"):
        assert w.fandoms, w.title
        assert len(w.ratings) == 1, w.title
        assert w.warnings, w.title


def test_ratings_warnings_and_relationship_kinds_vary(demo: DemoResult) -> None:
    works = list(Work.objects.prefetch_related("tags"))
    ratings = {tag.name for w in works for tag in w.ratings}
    warnings = {tag.name for w in works for tag in w.warnings}
    relationships = {tag.name for w in works for tag in w.relationships}
    assert {"General Audiences", "Teen And Up Audiences", "Mature"} <= ratings
    assert {"No Archive Warnings Apply", "Creator Chose Not To Use Archive Warnings"} <= warnings
    assert any("/" in name for name in relationships)
    assert any(" & " in name for name in relationships)
    assert any(w.characters and w.freeforms and w.categories for w in works)


def test_the_work_in_progress_shows_three_of_five_chapters(demo: DemoResult) -> None:
    wip = work(WIP_TITLE)
    assert wip.chapters_display == "3/5"
    assert not wip.complete
    chapters = list(wip.chapters.all())
    assert [c.title for c in chapters] == ["Drift", "Fixed Stars", "The Cost of a Heading"]
    assert all(c.notes for c in chapters)
    assert chapters[0].created_at < chapters[1].created_at < chapters[2].created_at
    assert wip.updated_at == chapters[2].created_at


def test_finished_one_shots_show_as_complete(demo: DemoResult) -> None:
    for title in (LONG_WORK_TITLE, "Vespers", "Small Hours", "Inventory", "Caller on Line Two"):
        one_shot = work(title)
        assert one_shot.chapters_display == "1/1" and one_shot.complete, title


def test_the_series_has_its_parts_in_order(demo: DemoResult) -> None:
    series = Series.objects.get(title=SERIES_TITLE)
    titles = [part.work.title for part in series.parts.select_related("work")]
    assert titles == ["Inventory", "Field Notes on the Lesser Lantern-Moth", "After the Ninth Bell"]
    assert series.owner.username == "bob"


def test_the_markdown_part_is_rendered_to_html(demo: DemoResult) -> None:
    html = work("Field Notes on the Lesser Lantern-Moth").chapters.get().html
    assert "<h2>" in html and "<li>" in html and "<blockquote>" in html and "<hr" in html


def test_the_plain_text_work_keeps_its_paragraphs(demo: DemoResult) -> None:
    html = work("Small Hours").chapters.get().html
    assert html.count("<p>") > 20
    assert "&lt;" not in html


def test_the_one_shot_has_end_notes(demo: DemoResult) -> None:
    assert work(LONG_WORK_TITLE).end_notes.startswith("<p>Thank you for reading!")


def test_the_long_one_shot_is_about_five_thousand_words(demo: DemoResult) -> None:
    long = work(LONG_WORK_TITLE)
    assert long.chapter_count == 1
    assert 4_500 <= long.word_count <= 6_500


def test_the_prompt_fill_credits_its_prompt_and_source(demo: DemoResult) -> None:
    fill = work("Small Hours")
    assert fill.prompt_text.startswith("Juno teaches WREN")
    assert fill.prompt_relationship == "Juno Kask & WREN"
    assert fill.source_site == "tumblr"
    assert fill.source_url == "https://example.tumblr.com/post/12345"


def test_a_work_is_restricted_and_posted_under_a_second_pseud(demo: DemoResult) -> None:
    restricted = work("Vespers")
    assert restricted.restricted and not restricted.draft
    assert [p.name for p in restricted.creators] == ["Ali Writes"]


def test_alice_has_a_draft(demo: DemoResult) -> None:
    draft = Work.objects.get(draft=True)
    assert draft.published_at is None
    assert [p.user.username for p in draft.pseuds.all()] == ["alice"]


def test_the_co_created_work_credits_both_after_carol_accepts(demo: DemoResult) -> None:
    letters = work("Yours Faithfully, Bramblecote")
    assert [p.name for p in letters.creators] == ["alice", "carol"]
    assert all(c.accepted for c in letters.creatorships.all())


def test_the_flattened_file_is_imported_with_its_paragraphs_and_end_notes(demo: DemoResult) -> None:
    assert "\n" not in FLATTENED_STORY.read_text(encoding="utf-8")
    imported = work("Caller on Line Two")
    assert [p.name for p in imported.creators] == ["bob"]
    assert [t.name for t in imported.fandoms] == ["Greywater Radio (Podcast)"]
    assert [t.name for t in imported.ratings] == ["Teen And Up Audiences"]
    html = imported.chapters.get().html
    assert len(re.findall(r"<p[ >]", html)) > 5
    assert "Notes:" not in html
    assert "Halloween exchange" in imported.end_notes


def test_works_are_backdated_over_about_two_years(demo: DemoResult) -> None:
    dates = sorted(Work.objects.filter(draft=False).values_list("published_at", flat=True))
    assert (dates[-1] - dates[0]).days > 365


def test_running_it_again_creates_nothing(demo: DemoResult) -> None:
    counts = (User.objects.count(), Work.objects.count(), Series.objects.count())
    again = load_demo()
    assert not again.created and again.logins == []
    assert (User.objects.count(), Work.objects.count(), Series.objects.count()) == counts


def test_it_leaves_an_archive_with_works_alone(db: None) -> None:
    build_work(make_user("someone"))
    output = io.StringIO()
    assert not load_demo(stdout=output).created
    assert not User.objects.filter(username="alice").exists()
    assert "already has works" in output.getvalue()


def test_an_existing_account_keeps_its_password(db: None) -> None:
    make_user("admin", is_staff=True, is_superuser=True)
    result = load_demo()
    admin_login = next(login for login in result.logins if login.username == "admin")
    assert admin_login.password != DEMO_PASSWORD
    assert authenticate(username="admin", password=DEMO_PASSWORD) is None


def test_the_fandom_tags_are_the_invented_ones(demo: DemoResult) -> None:
    names = set(Tag.objects.filter(type=TagType.FANDOM, works__isnull=False).values_list("name", flat=True))
    assert names == {
        "The Long Meridian (TV)",
        "The Bramblecote Mysteries - Hester Lyle",
        "Ashen Lantern (Video Game)",
        "Greywater Radio (Podcast)",
    }
