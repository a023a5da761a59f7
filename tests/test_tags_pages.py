"""Tag pages, the fandom index, tag autocomplete and the archive's fixed tags."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

import pytest
from django.test import Client
from django.utils import timezone

from chapbook.people.models import User
from chapbook.tags.models import CATEGORIES, RATINGS, WARNINGS, Tag, TagType, url_name_to_tag
from chapbook.works.models import Work
from tests.conftest import queries_for, default_tags
from tests.test_works_posting import work_form_data


def days_ago(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)



# --------------------------------------------------------------------- the tag page


def test_it_lists_works_with_the_tag_newest_first(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Older Storm", tags=default_tags(freeforms=["Storms"]), backdate=days_ago(5))
    make_work(author, title="Newer Storm", tags=default_tags(freeforms=["Storms"]), backdate=days_ago(1))
    make_work(author, title="Calm Seas", tags=default_tags(freeforms=["Calm"]))

    response = Client().get("/tags/Storms/")

    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Newer Storm") < page.index("Older Storm")
    assert "Calm Seas" not in page
    assert "Works <span class=\"muted\">(2)</span>" in page


def test_it_paginates_a_tag_page_twenty_to_a_page(author: User, make_work: Callable[..., Work]) -> None:
    for number in range(21):
        make_work(author, title=f"Tide {number:02d}", tags=default_tags(freeforms=["Tides"]), backdate=days_ago(30 - number))

    first = Client().get("/tags/Tides/").content.decode()
    second = Client().get("/tags/Tides/?page=2").content.decode()

    assert first.count('class="blurb"') == 20
    assert "Tide 20" in first and "Tide 00" not in first
    assert second.count('class="blurb"') == 1 and "Tide 00" in second


def test_it_serves_a_relationship_tag_at_its_ao3_style_escaped_url(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Paired Up", tags=default_tags(relationships=["Alice/Bob"]))
    tag = Tag.objects.get(name="Alice/Bob")

    response = Client().get("/tags/Alice*s*Bob/")

    assert tag.url_name == "Alice*s*Bob"
    assert tag.get_absolute_url() == "/tags/Alice*s*Bob/"
    assert response.status_code == 200
    assert "Paired Up" in response.content.decode()


def test_it_links_blurb_tags_to_their_escaped_urls(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, tags=default_tags(relationships=["Alice & Bob"]))

    page = Client().get("/works/").content.decode()

    assert 'href="/tags/Alice%20*a*%20Bob/"' in page


@pytest.mark.parametrize("name", ["Dr. Who", "Who? Me", "Number #1 Fan", "Alice & Bob", "A/B/C"])
def test_it_round_trips_tag_names_through_their_urls(author: User, make_work: Callable[..., Work], name: str) -> None:
    make_work(author, title="Escaped", tags=default_tags(freeforms=[name]))
    tag = Tag.objects.get(name=name)

    response = Client().get(tag.get_absolute_url())

    assert url_name_to_tag(tag.url_name) == name
    assert response.status_code == 200
    assert "Escaped" in response.content.decode()


def test_it_serves_a_fixed_warning_with_a_slash_at_its_escaped_url(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Warned Properly", tags=default_tags(warnings=["Rape/Non-Con"]))

    response = Client().get("/tags/Rape*s*Non-Con/")

    assert response.status_code == 200
    assert "Warned Properly" in response.content.decode()


def test_it_serves_the_tag_works_page_too(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Also Here", tags=default_tags(freeforms=["Storms"]))

    response = Client().get("/tags/Storms/works")

    assert response.status_code == 200
    assert "Also Here" in response.content.decode()


def test_it_finds_a_tag_whatever_the_case_of_the_url(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Case Blind", tags=default_tags(freeforms=["Storms"]))

    assert "Case Blind" in Client().get("/tags/storms/").content.decode()


def test_it_404s_an_unknown_tag(db: None) -> None:
    response = Client().get("/tags/No Such Tag Anywhere/")

    assert response.status_code == 404


def test_it_never_lists_drafts_or_restricted_works_to_guests_on_a_tag_page(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    tags = default_tags(freeforms=["Storms"])
    make_work(author, title="Open Storm", tags=tags)
    make_work(author, title="Members Storm", tags=tags, restricted=True)
    make_work(author, title="Unposted Storm", tags=tags, draft=True)

    guest = Client().get("/tags/Storms/").content.decode()
    logged_in = client_for(reader).get("/tags/Storms/").content.decode()

    assert "Open Storm" in guest
    assert "Members Storm" not in guest and "Unposted Storm" not in guest
    assert "Open Storm" in logged_in and "Members Storm" in logged_in
    assert "Unposted Storm" not in logged_in


def test_it_shows_a_fixed_tags_page(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Rated G")

    response = Client().get(Tag.objects.get(name="General Audiences").get_absolute_url())

    assert response.status_code == 200
    assert "Rated G" in response.content.decode()
    assert "Rating tag" in response.content.decode()


# --------------------------------------------------------------------- the fandom index


def test_it_counts_the_visible_works_of_each_fandom(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    harbour = default_tags(fandoms=["Harbour Tales"])
    make_work(author, title="One", tags=harbour)
    make_work(author, title="Two", tags=harbour)
    make_work(author, title="Members Only", tags=harbour, restricted=True)
    make_work(author, title="Not Yet", tags=harbour, draft=True)
    make_work(author, title="Elsewhere", tags=default_tags(fandoms=["Lighthouse Stories"]))

    guest = Client().get("/fandoms/").content.decode()
    logged_in = client_for(reader).get("/fandoms/").content.decode()

    assert 'Harbour Tales</a> <span class="muted">(2)</span>' in guest
    assert 'Lighthouse Stories</a> <span class="muted">(1)</span>' in guest
    assert 'Harbour Tales</a> <span class="muted">(3)</span>' in logged_in


def test_it_leaves_out_a_fandom_whose_only_work_is_a_draft(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, title="Visible", tags=default_tags(fandoms=["Harbour Tales"]))
    make_work(author, title="Hidden Away", tags=default_tags(fandoms=["Secret Fandom"]), draft=True)

    page = Client().get("/fandoms/").content.decode()

    assert "Harbour Tales" in page
    assert "Secret Fandom" not in page


def test_it_lists_fandoms_alphabetically(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, tags=default_tags(fandoms=["Zebra Tales"]))
    make_work(author, tags=default_tags(fandoms=["Aardvark Stories"]))

    page = Client().get("/fandoms/").content.decode()

    assert page.index("Aardvark Stories") < page.index("Zebra Tales")


# --------------------------------------------------------------------- autocomplete


def test_it_autocompletes_existing_tags_of_one_type(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author, tags=default_tags(characters=["Original Character"]))

    response = Client().get("/tags/autocomplete", {"type": "fandom", "q": "orig"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"results": ["Original Work"]}


def test_it_autocompletes_names_that_contain_the_term_after_those_that_start_with_it(
    author: User, make_work: Callable[..., Work]
) -> None:
    make_work(author, tags=default_tags(freeforms=["Storms at Sea", "Sea Shanties"]))

    response = Client().get("/tags/autocomplete", {"type": "freeform", "q": "sea"})

    assert response.json() == {"results": ["Sea Shanties", "Storms at Sea"]}


def test_it_autocompletes_nothing_for_an_unknown_type_or_empty_term(author: User, make_work: Callable[..., Work]) -> None:
    make_work(author)

    assert Client().get("/tags/autocomplete", {"type": "spaceship", "q": "orig"}).json() == {"results": []}
    assert Client().get("/tags/autocomplete", {"type": "fandom", "q": " "}).json() == {"results": []}


# --------------------------------------------------------------------- tags on the posting form


def test_it_shows_a_form_error_for_a_tag_name_that_exists_as_another_type(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    make_work(author, tags=default_tags(characters=["Mara Vell"]))

    response = client_for(author).post(
        "/works/new", work_form_data(author, title="Mixed Up", freeforms="Mara Vell")
    )

    assert response.status_code == 200
    assert "“Mara Vell” is already a character tag" in response.content.decode()
    assert not Work.objects.filter(title="Mixed Up").exists()
    assert Tag.objects.get(name="Mara Vell").type == TagType.CHARACTER


def test_it_shows_a_form_error_when_an_edit_uses_a_tag_of_another_type(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Kept As It Was")

    response = client_for(author).post(
        f"/works/{work.pk}/edit", work_form_data(author, title="Changed", characters="Original Work", action="save")
    )

    assert response.status_code == 200
    assert "“Original Work” is already a fandom tag" in response.content.decode()
    work.refresh_from_db()
    assert work.title == "Kept As It Was"


def test_it_shows_a_form_error_for_a_fandom_named_like_a_category(
    author: User, client_for: Callable[..., Client]
) -> None:
    response = client_for(author).post("/works/new", work_form_data(author, fandoms="Gen"))

    assert response.status_code == 200
    assert "“Gen” is already a category tag" in response.content.decode()
    assert Work.objects.count() == 0


# --------------------------------------------------------------------- fixed tags


def test_it_has_the_fixed_tags_from_the_first_migration(db: None) -> None:
    def names(tag_type: str) -> list[str]:
        return sorted(Tag.objects.filter(type=tag_type).values_list("name", flat=True))

    assert names(TagType.RATING) == sorted(RATINGS) and len(RATINGS) == 5
    assert names(TagType.WARNING) == sorted(WARNINGS) and len(WARNINGS) == 6
    assert names(TagType.CATEGORY) == sorted(CATEGORIES) and len(CATEGORIES) == 6
    assert not Tag.objects.filter(type__in=[TagType.RATING, TagType.WARNING, TagType.CATEGORY], canonical=False).exists()


# --------------------------------------------------------------------- query counts


def test_it_reads_a_tag_page_in_the_same_number_of_queries_for_two_or_ten_works(
    author: User, reader: User, make_work: Callable[..., Work]
) -> None:
    by = [author, reader]

    def add(number: int) -> None:
        make_work(by[number % 2], title=f"Work {number}", tags=default_tags(freeforms=["Storms", f"Extra {number}"]))

    for number in range(2):
        add(number)
    client = Client()
    client.get("/tags/Storms/")
    two = queries_for(client, "/tags/Storms/")
    for number in range(2, 10):
        add(number)
    ten = queries_for(client, "/tags/Storms/")

    assert two == ten


def test_it_reads_the_fandom_index_in_the_same_number_of_queries_for_two_or_ten_fandoms(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    for number in range(2):
        make_work(author, title=f"Work {number}", tags=default_tags(fandoms=[f"Fandom {number}"]))
    client = client_for(reader)
    client.get("/fandoms/")
    two = queries_for(client, "/fandoms/")
    for number in range(2, 10):
        make_work(author, title=f"Work {number}", tags=default_tags(fandoms=[f"Fandom {number}"]))
    ten = queries_for(client, "/fandoms/")

    assert two == ten
