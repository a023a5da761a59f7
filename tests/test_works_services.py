"""The rules of works, checked on the services directly: counts, credits, tags and drafts."""

from __future__ import annotations

from typing import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from chapbook.people.models import Pseud, User
from chapbook.tags.models import Tag, TagType
from chapbook.works.models import Chapter, Creatorship, Series, Work
from chapbook.works.selectors import is_creator, works_visible_to
from chapbook.works.services import (
    ChapterInput,
    add_chapter,
    answer_co_creator_invitation,
    delete_chapter,
    post_work,
    publish_work,
    reorder_chapters,
    update_chapter,
    update_work,
)
from tests.conftest import default_tags


def invitation_for(work: Work, user: User) -> Creatorship:
    return Creatorship.objects.get(work=work, pseud__user=user)


# --------------------------------------------------------------------- word counts


def test_it_counts_the_words_of_each_chapter_from_its_text_only(author: User) -> None:
    work, _ = post_work(
        by=author,
        title="Counted",
        chapters=[
            ChapterInput(text="<p>One two <em>three</em>.</p>", notes="<p>Notes do not count at all.</p>"),
            ChapterInput(text="<p>Four five.</p><p>Six.</p>", end_notes="<p>Neither do end notes.</p>"),
        ],
        tags=default_tags(),
        summary="<p>A summary is not text either.</p>",
        notes="<p>Nor are work notes.</p>",
    )

    assert [c.word_count for c in work.chapters.order_by("position")] == [3, 3]
    assert work.word_count == 6


def test_it_recounts_the_work_when_a_chapter_is_edited(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=["<p>One two three.</p>", "<p>Four five.</p>"])

    update_chapter(work.chapters.get(position=2), by=author, data=ChapterInput(text="<p>Just one more now.</p>"))

    work.refresh_from_db()
    assert work.word_count == 7


def test_it_recounts_the_work_when_a_chapter_is_deleted(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=["<p>One two three.</p>", "<p>Four five.</p>"])

    delete_chapter(work.chapters.get(position=1), by=author)

    work.refresh_from_db()
    assert (work.word_count, work.chapter_count) == (2, 1)


def test_it_counts_markdown_words_after_rendering(author: User) -> None:
    work, _ = post_work(
        by=author,
        title="Marked",
        chapters=[ChapterInput(text="Some **bold** words\n\n# A heading", format="markdown")],
        tags=default_tags(),
    )

    assert work.word_count == 5


# --------------------------------------------------------------------- chapters display and completion


@pytest.mark.parametrize(
    ("chapters", "expected", "shown"),
    [(1, 1, "1/1"), (2, None, "2/?"), (3, 10, "3/10")],
)
def test_it_shows_chapters_as_posted_over_expected(
    author: User, make_work: Callable[..., Work], chapters: int, expected: int | None, shown: str
) -> None:
    work = make_work(author, chapters=[f"<p>Chapter {n}.</p>" for n in range(chapters)], expected_chapters=expected)

    assert work.chapters_display == shown


def test_it_marks_a_work_complete_when_its_chapters_reach_the_expected_number(
    author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, expected_chapters=2)
    assert not work.complete

    add_chapter(work, by=author, chapter=ChapterInput(text="<p>The end.</p>"))

    work.refresh_from_db()
    assert work.complete


def test_it_never_marks_a_work_with_unknown_length_complete(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=["<p>One.</p>", "<p>Two.</p>", "<p>Three.</p>"])

    assert work.expected_chapters is None
    assert not work.complete


def test_it_marks_a_work_complete_when_the_expected_number_is_lowered(
    author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, chapters=["<p>One.</p>", "<p>Two.</p>"], expected_chapters=5)

    work, _ = update_work(work, by=author, expected_chapters=2)

    assert work.complete


def test_it_marks_a_complete_work_incomplete_when_a_chapter_is_deleted(
    author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, chapters=["<p>One.</p>", "<p>Two.</p>"], expected_chapters=2)
    assert work.complete

    delete_chapter(work.chapters.get(position=2), by=author)

    work.refresh_from_db()
    assert not work.complete


# --------------------------------------------------------------------- chapters


def test_it_inserts_a_chapter_at_a_given_position(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=["<p>First.</p>", "<p>Last.</p>"])

    add_chapter(work, by=author, chapter=ChapterInput(text="<p>Middle.</p>"), position=2)

    assert [c.html for c in work.chapters.order_by("position")] == ["<p>First.</p>", "<p>Middle.</p>", "<p>Last.</p>"]


def test_it_refuses_to_delete_the_last_chapter(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    with pytest.raises(ValidationError):
        delete_chapter(work.chapters.get(), by=author)

    assert work.chapters.count() == 1


def test_it_refuses_an_order_that_leaves_out_a_chapter(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=["<p>A.</p>", "<p>B.</p>", "<p>C.</p>"])
    a, b, _ = work.chapters.order_by("position")

    with pytest.raises(ValidationError):
        reorder_chapters(work, by=author, order=[b.pk, a.pk])


def test_it_refuses_an_order_with_another_works_chapter(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=["<p>A.</p>", "<p>B.</p>"])
    other = make_work(author, title="Other")
    a, _ = work.chapters.order_by("position")

    with pytest.raises(ValidationError):
        reorder_chapters(work, by=author, order=[a.pk, other.chapters.get().pk])


def test_it_refuses_chapter_changes_from_someone_who_is_not_a_creator(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, chapters=["<p>A.</p>", "<p>B.</p>"])
    first = work.chapters.get(position=1)

    with pytest.raises(PermissionDenied):
        add_chapter(work, by=reader, chapter=ChapterInput(text="<p>Intruder.</p>"))
    with pytest.raises(PermissionDenied):
        update_chapter(first, by=reader, data=ChapterInput(text="<p>Intruder.</p>"))
    with pytest.raises(PermissionDenied):
        delete_chapter(first, by=reader)
    with pytest.raises(PermissionDenied):
        reorder_chapters(work, by=reader, order=list(reversed([c.pk for c in work.chapters.all()])))
    assert [c.html for c in Chapter.objects.filter(work=work)] == ["<p>A.</p>", "<p>B.</p>"]


# --------------------------------------------------------------------- co-creators


def test_it_does_not_credit_an_invited_co_creator_until_she_accepts(
    author: User, co_author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, co_creators=[co_author.default_pseud])

    assert [p.name for p in Work.objects.get(pk=work.pk).creators] == ["alice"]
    assert not is_creator(co_author, work)
    assert invitation_for(work, co_author).accepted is False


def test_it_credits_a_co_creator_who_accepts(author: User, co_author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, co_creators=[co_author.default_pseud])

    answer_co_creator_invitation(invitation_for(work, co_author), by=co_author, accept=True)

    assert [p.name for p in Work.objects.get(pk=work.pk).creators] == ["alice", "carol"]
    assert is_creator(co_author, work)


def test_it_forgets_a_declined_invitation(author: User, co_author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, co_creators=[co_author.default_pseud])

    answer_co_creator_invitation(invitation_for(work, co_author), by=co_author, accept=False)

    assert not Creatorship.objects.filter(work=work, pseud__user=co_author).exists()


def test_it_lets_only_the_invitee_answer_an_invitation(
    author: User, co_author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, co_creators=[co_author.default_pseud])

    with pytest.raises(PermissionDenied):
        answer_co_creator_invitation(invitation_for(work, co_author), by=author, accept=True)

    assert invitation_for(work, co_author).accepted is False


def test_it_refuses_edits_from_a_co_creator_who_has_not_accepted(
    author: User, co_author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, title="Unchanged", co_creators=[co_author.default_pseud])

    with pytest.raises(PermissionDenied):
        update_work(work, by=co_author, title="Taken Over")

    work.refresh_from_db()
    assert work.title == "Unchanged"


def test_it_lets_an_accepted_co_creator_edit_and_read_the_draft(
    author: User, co_author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, title="Shared", co_creators=[co_author.default_pseud], draft=True)
    assert not works_visible_to(co_author).filter(pk=work.pk).exists()

    answer_co_creator_invitation(invitation_for(work, co_author), by=co_author, accept=True)
    work, _ = update_work(work, by=co_author, title="Shared, Revised")

    assert work.title == "Shared, Revised"
    assert works_visible_to(co_author).filter(pk=work.pk).exists()


def test_it_credits_the_posters_own_second_pseud_at_once(author: User) -> None:
    second = Pseud.objects.create(user=author, name="Lighthouse Keeper")

    work, _ = post_work(
        by=author, title="Two Names", chapters=[ChapterInput(text="<p>Text.</p>")], tags=default_tags(), co_creators=[second]
    )

    assert {p.name for p in Work.objects.get(pk=work.pk).creators} == {"alice", "Lighthouse Keeper"}


def test_it_refuses_to_post_under_someone_elses_pseud(author: User, co_author: User) -> None:
    with pytest.raises(ValidationError) as error:
        post_work(
            by=author,
            title="Impostor",
            chapters=[ChapterInput(text="<p>Text.</p>")],
            tags=default_tags(),
            pseuds=[co_author.default_pseud],
        )

    assert "pseuds" in error.value.message_dict
    assert Work.objects.count() == 0


# --------------------------------------------------------------------- drafts


def test_it_gives_a_draft_no_published_or_updated_date(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, draft=True)

    assert (work.published_at, work.updated_at) == (None, None)


def test_it_dates_a_draft_when_it_is_posted(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, draft=True)

    work = publish_work(work, by=author)

    assert not work.draft
    assert work.published_at is not None and work.updated_at == work.published_at


def test_it_never_turns_a_posted_work_back_into_a_draft(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    with pytest.raises(ValidationError):
        update_work(work, by=author, draft=True)

    work.refresh_from_db()
    assert not work.draft


def test_it_lets_only_a_creator_post_a_draft(author: User, reader: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, draft=True)

    with pytest.raises(PermissionDenied):
        publish_work(work, by=reader)

    work.refresh_from_db()
    assert work.draft


# --------------------------------------------------------------------- source links


def test_it_refuses_to_post_a_source_url_that_is_not_http_or_https(author: User) -> None:
    """The work page renders source_url as a link, so the service must not store a javascript: one."""
    with pytest.raises(ValidationError) as error:
        post_work(
            by=author,
            title="Cross-posted",
            chapters=[ChapterInput(text="<p>Text.</p>")],
            tags=default_tags(),
            source_site="elsewhere",
            source_url="javascript:alert(document.cookie)",
        )

    assert "source_url" in error.value.message_dict
    assert Work.objects.count() == 0


def test_it_refuses_to_change_a_source_url_to_one_that_is_not_http_or_https(
    author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, source_url="https://example.org/story")

    with pytest.raises(ValidationError) as error:
        update_work(work, by=author, source_url="javascript:alert(document.cookie)")

    assert "source_url" in error.value.message_dict
    work.refresh_from_db()
    assert work.source_url == "https://example.org/story"


# --------------------------------------------------------------------- tags


def test_it_refuses_a_tag_name_that_already_exists_as_another_type(author: User) -> None:
    with pytest.raises(ValidationError) as error:
        post_work(
            by=author,
            title="Confused",
            chapters=[ChapterInput(text="<p>Text.</p>")],
            tags=default_tags(characters=["Original Work"]),
        )

    assert "already a fandom tag" in error.value.message_dict["characters"][0]
    assert Work.objects.count() == 0


def test_it_refuses_ratings_the_archive_does_not_have(author: User) -> None:
    with pytest.raises(ValidationError) as error:
        post_work(
            by=author,
            title="Off The Scale",
            chapters=[ChapterInput(text="<p>Text.</p>")],
            tags=default_tags(ratings=["Super Explicit"]),
        )

    assert "ratings" in error.value.message_dict
    assert not Tag.objects.filter(name="Super Explicit").exists()


def test_it_requires_exactly_one_rating(author: User) -> None:
    with pytest.raises(ValidationError) as error:
        post_work(
            by=author,
            title="Two Ratings",
            chapters=[ChapterInput(text="<p>Text.</p>")],
            tags=default_tags(ratings=["General Audiences", "Mature"]),
        )

    assert "ratings" in error.value.message_dict


@pytest.mark.parametrize("name", ["Alice/Bob", "Alice & Bob", "Mara Vell/Tomas Ansel/Ines"])
def test_it_accepts_romantic_and_platonic_relationships(author: User, name: str) -> None:
    work, _ = post_work(
        by=author, title="Paired", chapters=[ChapterInput(text="<p>Text.</p>")], tags=default_tags(relationships=[name])
    )

    assert [t.name for t in work.relationships] == [name]


@pytest.mark.parametrize("name", ["Alice and Bob", "Alice", "/Bob", "Alice&Bob"])
def test_it_refuses_relationships_that_are_not_a_pairing(author: User, name: str) -> None:
    with pytest.raises(ValidationError) as error:
        post_work(
            by=author, title="Unpaired", chapters=[ChapterInput(text="<p>Text.</p>")], tags=default_tags(relationships=[name])
        )

    assert "relationships" in error.value.message_dict


def test_it_reuses_an_existing_tag_whatever_its_case(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, tags=default_tags(freeforms=["Found Family"]))

    second = make_work(author, title="Second", tags=default_tags(freeforms=["found family", "FOUND FAMILY"]))

    assert Tag.objects.filter(name__iexact="found family").count() == 1
    assert [t.name for t in Work.objects.get(pk=second.pk).freeforms] == ["Found Family"]


def test_it_creates_new_fandoms_characters_and_freeforms_with_their_type(author: User) -> None:
    post_work(
        by=author,
        title="New Tags",
        chapters=[ChapterInput(text="<p>Text.</p>")],
        tags=default_tags(fandoms=["Harbour Tales"], characters=["Mara Vell"], freeforms=["Storms"]),
    )

    assert Tag.objects.get(name="Harbour Tales").type == TagType.FANDOM
    assert Tag.objects.get(name="Mara Vell").type == TagType.CHARACTER
    assert Tag.objects.get(name="Storms").type == TagType.FREEFORM


# --------------------------------------------------------------------- series


def test_it_refuses_to_add_a_work_to_someone_elses_series(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    make_work(author, series_title="Alice's Series")
    series = Series.objects.get()

    with pytest.raises(ValidationError):
        make_work(reader, title="Gatecrasher", series=series)

    assert series.parts.count() == 1
    assert not Work.objects.filter(title="Gatecrasher").exists()


def test_it_numbers_series_parts_in_the_order_they_are_added(author: User, make_work: Callable[..., Work]) -> None:
    first = make_work(author, title="One", series_title="Numbered")
    series = Series.objects.get()
    second = make_work(author, title="Two", series=series)

    assert list(series.parts.values_list("work_id", "position")) == [(first.pk, 1), (second.pk, 2)]
