"""Adding, editing, deleting and reordering chapters through their pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from django.test import Client
from django.utils import timezone

from chapbook.people.models import User
from chapbook.works.models import Chapter, Work

THREE = ["<p>Alpha chapter text.</p>", "<p>Beta chapter text.</p>", "<p>Gamma chapter text.</p>"]


def chapter_form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "chapter_title": "",
        "chapter_notes": "",
        "text": "<p>A brand new chapter, five more words.</p>",
        "format": "html",
        "chapter_end_notes": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def texts_in_order(work: Work) -> list[str]:
    return [c.html for c in Chapter.objects.filter(work=work).order_by("position")]


# --------------------------------------------------------------------- adding


def test_it_adds_a_chapter_at_the_end_and_opens_it(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author)

    response = client_for(author).post(f"/works/{work.pk}/chapters/new", chapter_form_data(chapter_title="The Return"))

    assert response.status_code == 302
    assert response["Location"] == f"/works/{work.pk}/chapters/2/"
    page = Client().get(response["Location"]).content.decode()
    assert "Chapter 2: The Return" in page
    assert "A brand new chapter" in page


def test_it_moves_the_updated_date_and_the_chapter_count_when_a_chapter_is_added(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    posted = timezone.now() - timedelta(days=7)
    work = make_work(author, title="Growing Work", backdate=posted)

    client_for(author).post(f"/works/{work.pk}/chapters/new", chapter_form_data())

    work.refresh_from_db()
    assert work.chapter_count == 2
    assert work.chapters_display == "2/?"
    assert work.published_at == posted
    assert work.updated_at > posted
    assert "Chapters:</dt><dd>2/?</dd>" in Client().get("/works/").content.decode()


def test_it_moves_a_work_to_the_top_of_the_index_when_a_chapter_is_added(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    old = make_work(author, title="Long Dormant", backdate=timezone.now() - timedelta(days=30))
    make_work(author, title="Recently Posted", backdate=timezone.now() - timedelta(days=1))

    client_for(author).post(f"/works/{old.pk}/chapters/new", chapter_form_data())

    page = Client().get("/works/").content.decode()
    assert page.index("Long Dormant") < page.index("Recently Posted")


def test_it_leaves_a_drafts_updated_date_empty_when_a_chapter_is_added(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, draft=True)

    client_for(author).post(f"/works/{work.pk}/chapters/new", chapter_form_data())

    work.refresh_from_db()
    assert work.chapter_count == 2
    assert work.updated_at is None


def test_it_marks_the_work_complete_when_the_expected_last_chapter_arrives(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Two Parter", expected_chapters=2)
    assert not work.complete
    assert "Work in progress" in Client().get("/works/").content.decode()

    client_for(author).post(f"/works/{work.pk}/chapters/new", chapter_form_data())

    work.refresh_from_db()
    assert work.complete
    assert work.chapters_display == "2/2"
    listing = Client().get("/works/").content.decode()
    assert "Complete work" in listing and "Work in progress" not in listing


def test_it_previews_a_new_chapter_without_saving_it(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author)

    response = client_for(author).post(
        f"/works/{work.pk}/chapters/new", chapter_form_data(action="preview", text="<p>Draft text<script>x()</script></p>")
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert '<div class="userstuff"><p>Draft text</p></div>' in page
    assert "&lt;script&gt; element" in page
    assert Chapter.objects.filter(work=work).count() == 1


def test_it_refuses_an_empty_chapter(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author)

    response = client_for(author).post(f"/works/{work.pk}/chapters/new", chapter_form_data(text="<p>   </p>"))

    assert response.status_code == 200
    assert "Chapter 2 has no text." in response.content.decode()
    assert Chapter.objects.filter(work=work).count() == 1


def test_it_forbids_a_reader_from_adding_a_chapter(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author)

    response = client_for(reader).post(f"/works/{work.pk}/chapters/new", chapter_form_data())

    assert response.status_code == 403
    assert Chapter.objects.filter(work=work).count() == 1


def test_it_sends_a_guest_to_log_in_before_adding_a_chapter(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)

    response = Client().get(f"/works/{work.pk}/chapters/new")

    assert response.status_code == 302
    assert "/login" in response["Location"]


# --------------------------------------------------------------------- editing


def test_it_updates_a_chapters_text_and_word_counts(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, chapters=["<p>One two three.</p>", "<p>Four five.</p>"])

    response = client_for(author).post(
        f"/works/{work.pk}/chapters/2/edit", chapter_form_data(text="<p>Four five six seven.</p>", chapter_title="Longer")
    )

    assert response.status_code == 302
    chapter = Chapter.objects.get(work=work, position=2)
    assert chapter.title == "Longer"
    assert chapter.word_count == 4
    work.refresh_from_db()
    assert work.word_count == 7
    assert "Four five six seven." in Client().get(f"/works/{work.pk}/chapters/2/").content.decode()


def test_it_shows_the_chapter_edit_form_filled_in(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, chapters=["<p>Existing words.</p>"])

    response = client_for(author).get(f"/works/{work.pk}/chapters/1/edit")

    assert response.status_code == 200
    assert "&lt;p&gt;Existing words.&lt;/p&gt;" in response.content.decode()


def test_it_forbids_a_reader_from_editing_a_chapter(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, chapters=["<p>Original words.</p>"])

    response = client_for(reader).post(f"/works/{work.pk}/chapters/1/edit", chapter_form_data(text="<p>Defaced.</p>"))

    assert response.status_code == 403
    assert texts_in_order(work) == ["<p>Original words.</p>"]


# --------------------------------------------------------------------- deleting


def test_it_deletes_a_chapter_and_renumbers_the_rest(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, chapters=THREE, expected_chapters=10)

    response = client_for(author).post(f"/works/{work.pk}/chapters/2/delete")

    assert response.status_code == 302
    assert texts_in_order(work) == [THREE[0], THREE[2]]
    assert list(Chapter.objects.filter(work=work).values_list("position", flat=True)) == [1, 2]
    work.refresh_from_db()
    assert work.chapter_count == 2
    assert work.chapters_display == "2/10"
    assert "Gamma chapter text." in Client().get(f"/works/{work.pk}/chapters/2/").content.decode()


def test_it_refuses_to_delete_the_only_chapter_with_a_message(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, chapters=["<p>Lonely chapter.</p>"])

    response = client_for(author).post(f"/works/{work.pk}/chapters/1/delete", follow=True)

    assert response.status_code == 200
    assert "A work needs at least one chapter; delete the work instead." in response.content.decode()
    assert texts_in_order(work) == ["<p>Lonely chapter.</p>"]


def test_it_asks_before_deleting_a_chapter(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, chapters=THREE)

    response = client_for(author).get(f"/works/{work.pk}/chapters/3/delete")

    assert response.status_code == 200
    assert "Delete Chapter 3" in response.content.decode()
    assert Chapter.objects.filter(work=work).count() == 3


def test_it_forbids_a_reader_from_deleting_a_chapter(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, chapters=THREE)

    response = client_for(reader).post(f"/works/{work.pk}/chapters/2/delete")

    assert response.status_code == 403
    assert texts_in_order(work) == THREE


# --------------------------------------------------------------------- reordering


def test_it_reorders_chapters_from_position_fields(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, chapters=THREE)
    alpha, beta, gamma = Chapter.objects.filter(work=work).order_by("position")

    response = client_for(author).post(
        f"/works/{work.pk}/chapters/order",
        {f"position-{alpha.pk}": "3", f"position-{beta.pk}": "1", f"position-{gamma.pk}": "2"},
    )

    assert response.status_code == 302
    assert texts_in_order(work) == [THREE[1], THREE[2], THREE[0]]
    assert "Beta chapter text." in Client().get(f"/works/{work.pk}/chapters/1/").content.decode()


def test_it_shows_every_chapter_on_the_reorder_form(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, chapters=THREE)

    page = client_for(author).get(f"/works/{work.pk}/chapters/order").content.decode()

    for chapter in Chapter.objects.filter(work=work):
        assert f'name="position-{chapter.pk}" value="{chapter.position}"' in page


def test_it_asks_for_a_number_for_every_chapter_when_reordering(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, chapters=THREE)
    alpha, beta, _ = Chapter.objects.filter(work=work).order_by("position")

    response = client_for(author).post(
        f"/works/{work.pk}/chapters/order", {f"position-{alpha.pk}": "2", f"position-{beta.pk}": "1"}
    )

    assert response.status_code == 200
    assert "Give every chapter a position number." in response.content.decode()
    assert texts_in_order(work) == THREE


def test_it_forbids_a_reader_from_reordering_chapters(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, chapters=THREE)
    alpha, beta, gamma = Chapter.objects.filter(work=work).order_by("position")

    response = client_for(reader).post(
        f"/works/{work.pk}/chapters/order",
        {f"position-{alpha.pk}": "3", f"position-{beta.pk}": "2", f"position-{gamma.pk}": "1"},
    )

    assert response.status_code == 403
    assert texts_in_order(work) == THREE
