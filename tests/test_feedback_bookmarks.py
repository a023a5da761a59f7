"""Bookmarks of works and series: the form, the listings, who sees which, and the public count.

Alice (author) writes; Bob (reader) and Carol (co_author, here just another reader) bookmark.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import pytest
from django.db import connection
from django.test import Client

from chapbook.feedback.bookmarks import save_bookmark
from chapbook.feedback.models import Bookmark
from chapbook.people.models import Pseud, User
from chapbook.tags.models import Tag
from chapbook.works.models import Series, Work
from tests.conftest import build_work, default_tags, listed_titles, make_user, queries_for

MakeWork = Callable[..., Work]
ClientFor = Callable[[User], Client]


def bookmark_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"notes": "", "tags": "", "pseud": ""}
    data.update(overrides)
    # Unchecked checkboxes are simply absent from a real form post.
    return {key: value for key, value in data.items() if value is not False}


def post_bookmark(client: Client, user: User, work: Work, **fields: Any) -> Any:
    return client.post(f"/works/{work.pk}/bookmark", bookmark_form(pseud=user.default_pseud.pk, **fields))


def count_of(work: Work) -> int:
    work.refresh_from_db(fields=["bookmarks_count"])
    return work.bookmarks_count


def bookmarked_titles(response: Any) -> list[str]:
    return listed_titles(response)


# Creating, editing, deleting -----------------------------------------------------------


def test_it_creates_a_bookmark_with_notes_tags_and_rec(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, title="Harbour Lights")
    client = client_for(reader)
    response = post_bookmark(client, reader, work, notes="<p>So good.</p>", tags="Comfort Read, harbours", rec="on")
    assert response.status_code == 302
    assert response.url == work.get_absolute_url()
    bookmark = Bookmark.objects.get(user=reader, work=work)
    assert bookmark.notes == "<p>So good.</p>"
    assert sorted(tag.name for tag in bookmark.tags.all()) == ["Comfort Read", "harbours"]
    assert bookmark.rec and not bookmark.private
    assert bookmark.pseud == reader.default_pseud
    assert count_of(work) == 1
    page = client.get(f"/users/{reader.username}/bookmarks")
    assert bookmarked_titles(page) == ["Harbour Lights"]
    assert "So good." in page.content.decode()


def test_it_prefills_the_form_and_a_second_save_edits_the_same_bookmark(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    client = client_for(reader)
    assert "Create bookmark" in client.get(f"/works/{work.pk}/bookmark").content.decode()
    post_bookmark(client, reader, work, notes="First thoughts", tags="Alpha")
    form = client.get(f"/works/{work.pk}/bookmark").content.decode()
    assert "Update bookmark" in form and "First thoughts" in form and 'value="Alpha"' in form
    post_bookmark(client, reader, work, notes="Second thoughts", tags="Beta")
    assert Bookmark.objects.filter(user=reader, work=work).count() == 1
    bookmark = Bookmark.objects.get(user=reader, work=work)
    assert bookmark.notes == "Second thoughts"
    assert [tag.name for tag in bookmark.tags.all()] == ["Beta"]
    assert count_of(work) == 1


def test_it_deletes_a_bookmark_after_a_confirmation_page(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, title="Gone Tomorrow")
    client = client_for(reader)
    post_bookmark(client, reader, work)
    bookmark = Bookmark.objects.get(user=reader, work=work)
    confirm = client.get(f"/bookmarks/{bookmark.pk}/delete")
    assert confirm.status_code == 200 and "Gone Tomorrow" in confirm.content.decode()
    assert Bookmark.objects.filter(pk=bookmark.pk).exists()
    response = client.post(f"/bookmarks/{bookmark.pk}/delete")
    assert response.status_code == 302
    assert not Bookmark.objects.filter(pk=bookmark.pk).exists()
    assert count_of(work) == 0
    # Deleting twice (a double click) is a 404, not an error, and does not count twice.
    assert client.post(f"/bookmarks/{bookmark.pk}/delete").status_code == 404
    assert count_of(work) == 0


def test_it_does_not_let_anyone_else_delete_a_bookmark(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    bookmark = save_bookmark(by=reader, work=work)
    other = client_for(author)
    assert other.get(f"/bookmarks/{bookmark.pk}/delete").status_code == 404
    assert other.post(f"/bookmarks/{bookmark.pk}/delete").status_code == 404
    assert Bookmark.objects.filter(pk=bookmark.pk).exists()


def test_it_sends_guests_to_log_in_before_bookmarking(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    response = Client().post(f"/works/{work.pk}/bookmark", bookmark_form())
    assert response.status_code == 302 and "/login" in response.url
    assert not Bookmark.objects.exists()


def test_it_bookmarks_under_another_of_ones_own_pseuds_only(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    other_pseud = Pseud.objects.create(user=reader, name="Robert")
    client = client_for(reader)
    client.post(f"/works/{work.pk}/bookmark", bookmark_form(pseud=other_pseud.pk))
    assert Bookmark.objects.get(user=reader).pseud == other_pseud
    response = client.post(f"/works/{work.pk}/bookmark", bookmark_form(pseud=author.default_pseud.pk))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert Bookmark.objects.get(user=reader).pseud == other_pseud


# Rules: visibility, drafts, input ------------------------------------------------------


def test_it_refuses_to_bookmark_a_draft(author: User, make_work: MakeWork, client_for: ClientFor) -> None:
    draft = make_work(author, draft=True)
    response = post_bookmark(client_for(author), author, draft)
    assert response.status_code == 200
    assert "Drafts cannot be bookmarked" in response.content.decode()
    assert not Bookmark.objects.exists()


def test_it_answers_404_for_a_work_one_may_not_see(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    draft = make_work(author, draft=True)
    hidden = make_work(author, title="Hidden")
    Work.objects.filter(pk=hidden.pk).update(hidden=True)
    client = client_for(reader)
    for work in (draft, hidden):
        assert client.get(f"/works/{work.pk}/bookmark").status_code == 404
        assert post_bookmark(client, reader, work).status_code == 404
        assert client.get(f"/works/{work.pk}/bookmarks").status_code == 404
    assert client.get("/works/999999/bookmark").status_code == 404
    assert not Bookmark.objects.exists()
    with pytest.raises(Work.DoesNotExist):
        save_bookmark(by=reader, work=hidden)


def test_it_sanitizes_notes(author: User, reader: User, make_work: MakeWork, client_for: ClientFor) -> None:
    work = make_work(author)
    client = client_for(reader)
    post_bookmark(client, reader, work, notes='<p onclick="x()">Lovely<script>alert(1)</script></p>')
    notes = Bookmark.objects.get().notes
    assert "<script" not in notes and "onclick" not in notes and "alert(1)" not in notes
    assert "Lovely" in notes
    page = client.get(f"/works/{work.pk}/bookmarks").content.decode()
    assert "Lovely" in page and "alert(1)" not in page


def test_it_refuses_notes_over_the_limit(author: User, reader: User, make_work: MakeWork, client_for: ClientFor) -> None:
    work = make_work(author)
    response = post_bookmark(client_for(reader), reader, work, notes="x" * 5_001)
    assert response.status_code == 200 and "at most 5,000 characters" in response.content.decode()
    assert not Bookmark.objects.exists()


def test_it_refuses_too_many_tags(author: User, reader: User, make_work: MakeWork, client_for: ClientFor) -> None:
    work = make_work(author)
    tags = ", ".join(f"Tag {number}" for number in range(76))
    response = post_bookmark(client_for(reader), reader, work, tags=tags)
    assert response.status_code == 200 and "at most 75 tags" in response.content.decode()
    assert not Bookmark.objects.exists()
    assert not Tag.objects.filter(name="Tag 1").exists()


def test_it_refuses_a_tag_that_is_too_long(author: User, reader: User, make_work: MakeWork, client_for: ClientFor) -> None:
    work = make_work(author)
    response = post_bookmark(client_for(reader), reader, work, tags="Fine, " + "y" * 151)
    assert response.status_code == 200 and "at most 150 characters" in response.content.decode()
    assert not Bookmark.objects.exists()
    assert not Tag.objects.filter(name="Fine").exists()


def test_it_reuses_existing_tags_whatever_their_case(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author, tags=default_tags(freeforms=["Slow Burn"]))
    bookmark = save_bookmark(by=reader, work=work, tags=["slow burn", "Original Work"])
    assert sorted(tag.name for tag in bookmark.tags.all()) == ["Original Work", "Slow Burn"]
    assert Tag.objects.filter(name__iexact="slow burn").count() == 1


# Who sees which bookmark ----------------------------------------------------------------


def test_it_shows_a_private_bookmark_to_its_owner_only(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, title="Secret Shelf")
    save_bookmark(by=reader, work=work, private=True, notes="just for me")
    owner = client_for(reader)
    others = {"guest": Client(), "other reader": client_for(co_author), "author": client_for(author)}
    mine = owner.get("/users/bob/bookmarks")
    assert bookmarked_titles(mine) == ["Secret Shelf"] and "Private" in mine.content.decode()
    for who, client in others.items():
        for url in ("/users/bob/bookmarks", f"/works/{work.pk}/bookmarks", "/bookmarks"):
            content = client.get(url).content.decode()
            assert "just for me" not in content, (who, url)
            assert "Secret Shelf" not in content or url.endswith(f"{work.pk}/bookmarks"), (who, url)
    # The archive-wide list and the work's list are public bookmarks, even for their owner.
    for url in (f"/works/{work.pk}/bookmarks", "/bookmarks"):
        assert "just for me" not in owner.get(url).content.decode()
    assert count_of(work) == 0


def test_it_hides_bookmarks_of_a_restricted_work_from_guests_on_every_page(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, title="Members Only", restricted=True)
    save_bookmark(by=reader, work=work, notes="restricted notes", tags=["Shelf"])
    guest = Client()
    for url in ("/users/bob/bookmarks", "/bookmarks", "/bookmarks?tag=Shelf", "/users/bob/bookmarks?tag=Shelf"):
        response = guest.get(url)
        assert response.status_code == 200
        assert "Members Only" not in response.content.decode(), url
        assert "restricted notes" not in response.content.decode(), url
    assert guest.get(f"/works/{work.pk}/bookmarks").status_code == 404
    logged_in = client_for(co_author)
    for url in ("/users/bob/bookmarks", "/bookmarks", f"/works/{work.pk}/bookmarks"):
        assert "restricted notes" in logged_in.get(url).content.decode(), url


def test_it_hides_bookmarks_of_a_work_that_was_hidden_later(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, title="Taken Down")
    save_bookmark(by=reader, work=work)
    Work.objects.filter(pk=work.pk).update(hidden=True)
    for client in (Client(), client_for(reader)):
        assert "Taken Down" not in client.get("/users/bob/bookmarks").content.decode()
        assert "Taken Down" not in client.get("/bookmarks").content.decode()


def test_it_lists_a_works_public_bookmarks(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, title="Popular")
    other = make_work(author, title="Elsewhere")
    save_bookmark(by=reader, work=work, notes="bob's note")
    save_bookmark(by=co_author, work=work, notes="carol's note", private=True)
    save_bookmark(by=co_author, work=other, notes="carol elsewhere")
    content = Client().get(f"/works/{work.pk}/bookmarks").content.decode()
    assert "bob's note" in content
    assert "carol's note" not in content and "carol elsewhere" not in content
    assert "1 public bookmark" in content


# Filters ---------------------------------------------------------------------------------


def test_it_filters_by_the_bookmarkers_tags_and_the_works_tags(
    author: User, reader: User, make_work: MakeWork
) -> None:
    fluff = make_work(author, title="Fluffy", tags=default_tags(freeforms=["Fluff"]))
    angst = make_work(author, title="Angsty", tags=default_tags(freeforms=["Angst"]))
    plain = make_work(author, title="Plain")
    save_bookmark(by=reader, work=fluff)
    save_bookmark(by=reader, work=angst, tags=["To Reread"])
    save_bookmark(by=reader, work=plain, tags=["fluff"])  # the existing tag, whatever the case
    for url in ("/users/bob/bookmarks", "/bookmarks"):
        client = Client()
        assert sorted(bookmarked_titles(client.get(f"{url}?tag=FLUFF"))) == ["Fluffy", "Plain"]
        assert bookmarked_titles(client.get(f"{url}?tag=to reread")) == ["Angsty"]
        assert bookmarked_titles(client.get(f"{url}?tag=Nothing+Like+It")) == []
        assert len(bookmarked_titles(client.get(url))) == 3


def test_it_filters_by_a_canonical_tags_synonyms(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author, title="Coffee Shop", tags=default_tags(freeforms=["Coffee Shop AU"]))
    canonical = Tag.objects.create(name="Alternate Universe - Coffee Shops", type="freeform", canonical=True)
    Tag.objects.filter(name="Coffee Shop AU").update(synonym_of=canonical)
    save_bookmark(by=reader, work=work)
    assert bookmarked_titles(Client().get("/bookmarks?tag=Alternate Universe - Coffee Shops")) == ["Coffee Shop"]


def test_it_filters_recs(author: User, reader: User, make_work: MakeWork) -> None:
    save_bookmark(by=reader, work=make_work(author, title="Recommended"), rec=True)
    save_bookmark(by=reader, work=make_work(author, title="Just Kept"))
    assert bookmarked_titles(Client().get("/users/bob/bookmarks?rec=1")) == ["Recommended"]
    assert bookmarked_titles(Client().get("/bookmarks?rec=1")) == ["Recommended"]
    assert sorted(bookmarked_titles(Client().get("/users/bob/bookmarks"))) == ["Just Kept", "Recommended"]


def test_it_sorts_by_date_bookmarked_or_updated(author: User, reader: User, make_work: MakeWork) -> None:
    first = make_work(author, title="First")
    save_bookmark(by=reader, work=first)
    save_bookmark(by=reader, work=make_work(author, title="Second"))
    save_bookmark(by=reader, work=first, notes="edited")
    assert bookmarked_titles(Client().get("/users/bob/bookmarks")) == ["Second", "First"]
    assert bookmarked_titles(Client().get("/users/bob/bookmarks?sort=updated")) == ["First", "Second"]


def test_it_paginates_twenty_per_page_keeping_the_filters(author: User, reader: User) -> None:
    for number in range(22):
        save_bookmark(by=reader, work=build_work(author, title=f"Work {number:02}"), rec=True)
    first = Client().get("/users/bob/bookmarks?rec=1")
    assert len(bookmarked_titles(first)) == 20
    assert "?rec=1&amp;page=2" in first.content.decode()
    assert len(bookmarked_titles(Client().get("/users/bob/bookmarks?rec=1&page=2"))) == 2


# Series ------------------------------------------------------------------------------------


def test_it_bookmarks_a_series(author: User, reader: User, make_work: MakeWork, client_for: ClientFor) -> None:
    work = make_work(author, title="Part One", series_title="The Lantern Cycle")
    series = Series.objects.get(title="The Lantern Cycle")
    client = client_for(reader)
    assert "Bookmark this series" in client.get(f"/series/{series.pk}/").content.decode()
    assert "Bookmark this series" not in Client().get(f"/series/{series.pk}/").content.decode()
    response = client.post(f"/series/{series.pk}/bookmark", bookmark_form(pseud=reader.default_pseud.pk, tags="Epic"))
    assert response.status_code == 302 and response.url == series.get_absolute_url()
    bookmark = Bookmark.objects.get(user=reader, series=series)
    assert bookmark.work is None
    # A series bookmark moves no work's counter.
    assert count_of(work) == 0
    for url in ("/users/bob/bookmarks", "/bookmarks", "/bookmarks?tag=epic"):
        assert bookmarked_titles(Client().get(url)) == ["The Lantern Cycle"], url
    client.post(f"/series/{series.pk}/bookmark", bookmark_form(pseud=reader.default_pseud.pk, notes="again"))
    assert Bookmark.objects.filter(user=reader, series=series).count() == 1


def test_it_hides_a_series_one_may_not_see(author: User, reader: User, make_work: MakeWork, client_for: ClientFor) -> None:
    make_work(author, title="Members Part", series_title="Members Cycle", restricted=True)
    series = Series.objects.get(title="Members Cycle")
    save_bookmark(by=reader, series=series, notes="cycle notes")
    assert "cycle notes" not in Client().get("/users/bob/bookmarks").content.decode()
    assert "cycle notes" in client_for(reader).get("/users/bob/bookmarks").content.decode()
    make_work(author, title="Draft Part", series_title="Draft Cycle", draft=True)
    drafts = Series.objects.get(title="Draft Cycle")
    assert client_for(reader).get(f"/series/{drafts.pk}/bookmark").status_code == 404
    with pytest.raises(Series.DoesNotExist):
        save_bookmark(by=reader, series=drafts)


# The public count ------------------------------------------------------------------------


def test_it_counts_public_bookmarks_exactly_through_toggles_and_deletes(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    bob, carol = client_for(reader), client_for(co_author)
    post_bookmark(bob, reader, work)
    assert count_of(work) == 1
    post_bookmark(bob, reader, work, notes="edit, still public")
    assert count_of(work) == 1
    post_bookmark(bob, reader, work, private="on")
    assert count_of(work) == 0
    post_bookmark(bob, reader, work, private="on", notes="still private")
    assert count_of(work) == 0
    post_bookmark(carol, co_author, work, private="on")
    assert count_of(work) == 0
    post_bookmark(bob, reader, work)
    assert count_of(work) == 1
    carols = Bookmark.objects.get(user=co_author)
    carol.post(f"/bookmarks/{carols.pk}/delete")
    assert count_of(work) == 1
    post_bookmark(carol, co_author, work)
    assert count_of(work) == 2
    bobs = Bookmark.objects.get(user=reader)
    bob.post(f"/bookmarks/{bobs.pk}/delete")
    assert count_of(work) == 1
    assert count_of(work) == Bookmark.objects.filter(work=work, private=False).count()


def test_it_moves_feedback_at_so_the_guest_page_shows_the_new_count(
    author: User, reader: User, make_work: MakeWork
) -> None:
    work = make_work(author)
    guest = Client()
    assert "1 bookmark" not in guest.get(work.get_absolute_url()).content.decode()
    save_bookmark(by=reader, work=work)
    page = guest.get(work.get_absolute_url()).content.decode()
    assert f'href="/works/{work.pk}/bookmarks">1 bookmark</a>' in page


# The work page's button ------------------------------------------------------------------


def test_it_shows_the_bookmark_button_to_readers_and_only_the_count_to_guests(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    url = work.get_absolute_url()
    client = client_for(reader)
    assert f'href="/works/{work.pk}/bookmark">Bookmark</a>' in client.get(url).content.decode()
    guest_page = Client().get(url).content.decode()
    assert f"/works/{work.pk}/bookmark\"" not in guest_page
    save_bookmark(by=reader, work=work)
    assert "Edit bookmark" in client.get(url).content.decode()
    guest_page = Client().get(url).content.decode()
    assert "Edit bookmark" not in guest_page and "1 bookmark" in guest_page


def test_it_costs_the_work_page_at_most_one_query_for_a_reader(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.template import Context, Template
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    work = make_work(author)
    request = RequestFactory().get("/")
    request.user = reader
    template = Template("{% load bookmark_tags %}{% bookmark_button work %}")
    with CaptureQueriesContext(connection) as captured:
        html = template.render(Context({"request": request, "work": work}))
    assert len(captured.captured_queries) == 1 and "Bookmark" in html
    request.user = AnonymousUser()
    with CaptureQueriesContext(connection) as captured:
        html = template.render(Context({"request": request, "work": work}))
    assert len(captured.captured_queries) == 0 and "Bookmark" not in html


# Query counts ------------------------------------------------------------------------------


def _bookmark_many(author: User, readers: list[User], start: int, stop: int, with_series: bool = True) -> None:
    for number in range(start, stop):
        work = build_work(
            author,
            title=f"Work {number}",
            tags=default_tags(characters=[f"Character {number}"]),
            series_title=f"Series {number}" if with_series and number % 3 == 0 else "",
        )
        for user in readers:
            save_bookmark(by=user, work=work, tags=[f"Mine {number}", "Shared"], notes="<p>Notes</p>", rec=number % 2 == 0)
        if with_series and number % 3 == 0:
            save_bookmark(by=readers[0], series=Series.objects.get(title=f"Series {number}"), tags=["Shared"])


@pytest.mark.parametrize(
    "url",
    ["/users/bob/bookmarks", "/users/bob/bookmarks?tag=shared&rec=1&sort=updated", "/bookmarks", "/bookmarks?tag=Shared", "WORK"],
)
def test_it_keeps_listing_query_counts_fixed_however_many_bookmarks(
    author: User, reader: User, client_for: ClientFor, url: str
) -> None:
    others = [reader] + [make_user(f"reader{n}") for n in range(3)]
    target = build_work(author, title="Target")
    for user in others[:2]:
        save_bookmark(by=user, work=target, tags=["Shared"])
    _bookmark_many(author, others[:1], 0, 2)
    page_url = f"/works/{target.pk}/bookmarks" if url == "WORK" else url
    clients = {"guest": Client(), "owner": client_for(reader)}
    two = {who: queries_for(client, page_url) for who, client in clients.items()}
    warm = {who: queries_for(client, page_url, cold_cache=False) for who, client in clients.items()}
    for user in others[2:]:
        save_bookmark(by=user, work=target, tags=["Shared"])
    _bookmark_many(author, others[:1], 2, 10)
    assert {who: queries_for(client, page_url) for who, client in clients.items()} == two
    assert {who: queries_for(client, page_url, cold_cache=False) for who, client in clients.items()} == warm


# Concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_bookmark_and_an_exact_count_when_saves_race(author: User) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers (IMMEDIATE transactions); the race is PostgreSQL's")
    work = build_work(author)
    readers = [make_user(f"racer{n}") for n in range(6)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(12)

    def save(user: User, private: bool) -> None:
        try:
            barrier.wait()
            save_bookmark(by=user, work=work, tags=["Race"], private=private)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    # Each reader submits twice at once: the double submit must edit, never fail or duplicate.
    threads = [threading.Thread(target=save, args=(user, False)) for user in readers for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Bookmark.objects.filter(work=work).count() == 6
    assert count_of(work) == 6

