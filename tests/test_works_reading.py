"""Reading works: the work page, chapter pages and their navigation, the works index, series."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from django.test import Client
from django.utils import timezone

from chapbook.people.models import Pseud, User
from chapbook.people.services import update_pseud
from chapbook.works.models import Series, Work
from chapbook.works.services import ChapterInput, add_chapter, post_work, update_work
from tests.conftest import queries_for, default_tags

CHAPTERS = [
    "<p>First chapter: the boat leaves.</p>",
    "<p>Second chapter: the storm arrives.</p>",
    "<p>Third chapter: the harbour again.</p>",
]



def days_ago(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


# --------------------------------------------------------------------- the work page


def test_it_shows_a_one_chapter_work_whole(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, title="Short And Sweet", chapters=["<p>Only chapter text.</p>"])

    response = Client().get(f"/works/{work.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Short And Sweet" in page
    assert "Only chapter text." in page
    assert 'class="chapter-nav"' not in page


def test_it_opens_a_multi_chapter_work_at_its_first_chapter(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=CHAPTERS)

    page = Client().get(f"/works/{work.pk}/").content.decode()

    assert "First chapter: the boat leaves." in page
    assert "Second chapter: the storm arrives." not in page
    assert f'rel="next" href="/works/{work.pk}/chapters/2/"' in page
    assert 'rel="prev"' not in page


def test_it_links_a_middle_chapter_to_the_previous_and_next_ones(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=CHAPTERS)

    response = Client().get(f"/works/{work.pk}/chapters/2/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Second chapter: the storm arrives." in page
    assert "First chapter: the boat leaves." not in page
    assert "Third chapter: the harbour again." not in page
    assert f'rel="prev" href="/works/{work.pk}/chapters/1/"' in page
    assert f'rel="next" href="/works/{work.pk}/chapters/3/"' in page


def test_it_has_no_next_link_on_the_last_chapter(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=CHAPTERS)

    page = Client().get(f"/works/{work.pk}/chapters/3/").content.decode()

    assert "Third chapter: the harbour again." in page
    assert f'rel="prev" href="/works/{work.pk}/chapters/2/"' in page
    assert 'rel="next"' not in page


def test_it_shows_every_chapter_with_view_full_work(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=CHAPTERS)

    page = Client().get(f"/works/{work.pk}/?view_full_work=true").content.decode()

    positions = [page.index(text) for text in ("boat leaves", "storm arrives", "harbour again")]
    assert positions == sorted(positions)
    assert "<span>Entire work</span>" in page


def test_it_redirects_the_chapter_menu_to_the_chosen_chapter(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=CHAPTERS)

    response = Client().get(f"/works/{work.pk}/?chapter=2")

    assert response.status_code == 302
    assert response["Location"] == f"/works/{work.pk}/chapters/2/"


def test_it_404s_a_chapter_past_the_last_one(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=CHAPTERS)

    assert Client().get(f"/works/{work.pk}/chapters/4/").status_code == 404


def test_it_404s_a_chapter_past_the_end_of_a_one_chapter_work(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=["<p>Only chapter.</p>"])

    assert Client().get(f"/works/{work.pk}/chapters/1/").status_code == 200
    assert Client().get(f"/works/{work.pk}/chapters/2/").status_code == 404


def test_it_404s_a_work_that_does_not_exist(db: None) -> None:
    assert Client().get("/works/999999/").status_code == 404


def test_it_shows_the_word_count_and_chapters_of_the_work(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=["<p>One two three.</p>", "<p>Four five.</p>"], expected_chapters=10)

    page = Client().get(f"/works/{work.pk}/").content.decode()

    assert "Words 5 · Chapters 2/10" in page


def test_it_says_completed_with_the_date_the_last_chapter_arrived(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, expected_chapters=2, backdate=days_ago(3))
    add_chapter(work, by=author, chapter=ChapterInput(text="<p>The end.</p>"))
    work.refresh_from_db()

    page = Client().get(f"/works/{work.pk}/").content.decode()

    assert f'Completed <time datetime="{work.updated_at.isoformat()}">' in page
    assert f'Published <time datetime="{work.published_at.isoformat()}">' in page


def test_it_shows_work_notes_before_the_first_chapter_and_end_notes_after_the_last(
    author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, chapters=CHAPTERS, notes="<p>Beginning note.</p>", end_notes="<p>Closing note.</p>")

    first = Client().get(f"/works/{work.pk}/chapters/1/").content.decode()
    last = Client().get(f"/works/{work.pk}/chapters/3/").content.decode()

    assert "Beginning note." in first and "Closing note." not in first
    assert "Closing note." in last and "Beginning note." not in last


def test_it_shows_chapter_notes_with_their_chapter(author: User, make_work: Callable[..., Work]) -> None:
    work, _ = post_work(
        by=author,
        title="Annotated",
        chapters=[ChapterInput(text="<p>Body.</p>", notes="<p>Chapter note.</p>", end_notes="<p>Chapter end.</p>")],
        tags=default_tags(),
    )

    page = Client().get(f"/works/{work.pk}/").content.decode()

    assert page.index("Chapter note.") < page.index("Body.") < page.index("Chapter end.")


def test_it_shows_a_renamed_pseud_in_the_byline_of_a_work_read_before(
    author: User, make_work: Callable[..., Work]
) -> None:
    """Work pages and blurbs are cached per version of the work; a pseud's new name must show up anyway."""
    ghost = Pseud.objects.create(user=author, name="Harbour Ghost")
    work = make_work(author, pseuds=[ghost])
    guest = Client()
    assert "Harbour Ghost" in guest.get(f"/works/{work.pk}/").content.decode()
    assert "Harbour Ghost" in guest.get("/works/").content.decode()

    update_pseud(ghost, by=author, name="Sea Ghost")

    for url in (f"/works/{work.pk}/", "/works/"):
        page = guest.get(url).content.decode()
        assert 'href="/users/alice/pseuds/Sea%20Ghost"' in page
        assert "Harbour Ghost" not in page


# --------------------------------------------------------------------- the works index


def test_it_lists_posted_works_most_recently_updated_first(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Older Work", backdate=days_ago(3))
    make_work(author, title="Newer Work", backdate=days_ago(1))
    make_work(author, title="Middle Work", backdate=days_ago(2))

    page = Client().get("/works/").content.decode()

    assert page.index("Newer Work") < page.index("Middle Work") < page.index("Older Work")


def test_it_leaves_drafts_out_of_the_works_index(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    """As on AO3, drafts are never listed, not even to their creator: they live on the work page only."""
    make_work(author, title="Posted Piece")
    make_work(author, title="Drafted Piece", draft=True)

    for client in (Client(), client_for(author)):
        page = client.get("/works/").content.decode()
        assert "Posted Piece" in page
        assert "Drafted Piece" not in page


def test_it_paginates_the_works_index_twenty_to_a_page(author: User, make_work: Callable[..., Work]) -> None:
    for number in range(21):
        make_work(author, title=f"Numbered Work {number:02d}", backdate=days_ago(30 - number))

    first = Client().get("/works/").content.decode()
    second = Client().get("/works/?page=2").content.decode()

    assert first.count('class="blurb"') == 20
    assert "Numbered Work 20" in first and "Numbered Work 00" not in first
    assert second.count('class="blurb"') == 1
    assert "Numbered Work 00" in second
    assert 'rel="next" href="?page=2"' in first


# --------------------------------------------------------------------- series


def test_it_lists_the_parts_of_a_series_in_order(author: User, make_work: Callable[..., Work]) -> None:
    first = make_work(author, title="Part One: Departure", series_title="The Crossing", backdate=days_ago(2))
    series = Series.objects.get()
    make_work(author, title="Part Two: Arrival", series=series, backdate=days_ago(3))

    response = Client().get(f"/series/{series.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "The Crossing" in page
    # Series order, not listing order: part two is older but still comes second.
    assert page.index("Part One: Departure") < page.index("Part Two: Arrival")
    assert f"/works/{first.pk}/" in page


def test_it_names_the_series_on_the_work_page(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Opening", series_title="The Crossing")
    series = Series.objects.get()
    second = make_work(author, title="Sequel", series=series)

    page = Client().get(f"/works/{second.pk}/").content.decode()

    assert f'Part 2 of <a href="/series/{series.pk}/">The Crossing</a>' in page


def test_it_leaves_a_draft_part_out_of_the_series_page(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Public Part", series_title="Half Written")
    series = Series.objects.get()
    make_work(author, title="Unposted Part", series=series, draft=True)

    page = Client().get(f"/series/{series.pk}/").content.decode()

    assert "Public Part" in page
    assert "Unposted Part" not in page


def test_it_404s_a_series_whose_only_part_is_a_draft_for_everyone_but_the_author(
    author: User, reader: User, staff: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    make_work(author, title="Lonely Draft", series_title="Secret Series", draft=True)
    series = Series.objects.get()

    for client in (Client(), client_for(reader), client_for(staff)):
        response = client.get(f"/series/{series.pk}/")
        assert response.status_code == 404
        assert "Secret Series" not in response.content.decode()
    own = client_for(author).get(f"/series/{series.pk}/")
    assert own.status_code == 200
    assert "Lonely Draft" in own.content.decode()


def test_it_lists_a_work_in_two_series_once_in_each_at_its_own_position(
    author: User, make_work: Callable[..., Work]
) -> None:
    shared = make_work(author, title="Crossover Piece", series_title="First Series")
    first = Series.objects.get(title="First Series")
    make_work(author, title="Second Series Opener", series_title="Second Series")
    second = Series.objects.get(title="Second Series")
    update_work(shared, by=author, series=second)
    make_work(author, title="First Series Sequel", series=first)

    in_first = Client().get(f"/series/{first.pk}/").content.decode()
    in_second = Client().get(f"/series/{second.pk}/").content.decode()

    assert in_first.count("Crossover Piece</a>") == 1
    assert in_first.index("Crossover Piece") < in_first.index("First Series Sequel")
    assert in_second.count("Crossover Piece</a>") == 1
    assert in_second.index("Second Series Opener") < in_second.index("Crossover Piece")


def test_it_404s_a_series_that_does_not_exist(db: None) -> None:
    assert Client().get("/series/999999/").status_code == 404


# --------------------------------------------------------------------- query counts


def test_it_reads_the_work_page_in_the_same_number_of_queries_for_one_or_five_chapters(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    short = make_work(author, title="Short", chapters=["<p>Alone.</p>"])
    long = make_work(author, title="Long", chapters=[f"<p>Chapter {n}.</p>" for n in range(1, 6)])
    client = client_for(author)
    client.get(f"/works/{short.pk}/")  # warm the session and template caches

    one = queries_for(client, f"/works/{short.pk}/?view_full_work=true")
    five = queries_for(client, f"/works/{long.pk}/?view_full_work=true")
    five_chapter_page = queries_for(client, f"/works/{long.pk}/chapters/3/")

    assert one == five
    assert five_chapter_page == five


def test_it_reads_the_works_index_in_the_same_number_of_queries_for_two_or_ten_works(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    client = client_for(reader)
    by = [author, reader]
    for number in range(2):
        make_work(by[number % 2], title=f"Work {number}", tags=default_tags(freeforms=[f"Tag {number}"]))
    client.get("/works/")
    two = queries_for(client, "/works/")

    for number in range(2, 10):
        make_work(by[number % 2], title=f"Work {number}", tags=default_tags(freeforms=[f"Tag {number}"]))
    # The first request after a change also brings the filter index up to date.
    client.get("/works/")
    ten = queries_for(client, "/works/")

    assert Client().get("/works/").content.decode().count('class="blurb"') == 10
    assert two == ten


def test_it_reads_the_series_page_in_the_same_number_of_queries_for_two_or_ten_parts(
    author: User, make_work: Callable[..., Work]
) -> None:
    make_work(author, title="Part 0", series_title="Long Series")
    series = Series.objects.get()
    make_work(author, title="Part 1", series=series)
    client = Client()
    client.get(f"/series/{series.pk}/")
    two = queries_for(client, f"/series/{series.pk}/")

    for number in range(2, 10):
        make_work(author, title=f"Part {number}", series=series, tags=default_tags(freeforms=[f"Tag {number}"]))
    ten = queries_for(client, f"/series/{series.pk}/")

    assert two == ten


def test_it_serves_a_guest_a_rendered_work_page_from_one_query(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author, chapters=["<p>One.</p>", "<p>Two.</p>"])
    guest = Client()
    url = f"/works/{work.pk}/chapters/2/"
    assert queries_for(guest, url) > 1
    assert queries_for(guest, url, cold_cache=False) == 1


def test_it_stops_serving_a_cached_page_once_the_work_is_restricted(author: User, make_work: Callable[..., Work]) -> None:
    from chapbook.works.services import update_work

    work = make_work(author, title="Soon Restricted")
    guest = Client()
    assert guest.get(work.get_absolute_url()).status_code == 200
    update_work(work, by=author, restricted=True)
    assert guest.get(work.get_absolute_url()).status_code == 404
