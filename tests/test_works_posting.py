"""Posting, previewing, editing, publishing and deleting works through their pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from django.test import Client
from django.utils import timezone

from chapbook.people.models import User
from chapbook.tags.models import Tag
from chapbook.works.models import Creatorship, Series, Work
from chapbook.works.services import answer_co_creator_invitation
from tests.conftest import default_tags

SCRIPTED = '<p onclick="steal()">Hello.</p><script>alert("pwned")</script><p><a href="https://example.org/">A link</a></p>'


def work_form_data(user: User, **overrides: Any) -> dict[str, Any]:
    """What the /works/new form sends when every required field is filled in."""
    data: dict[str, Any] = {
        "title": "The Lighthouse Keeper",
        "pseuds": [user.default_pseud.pk],
        "co_creators": "",
        "fandoms": "Original Work",
        "rating": "General Audiences",
        "warnings": ["No Archive Warnings Apply"],
        "relationships": "",
        "characters": "",
        "freeforms": "",
        "language": "en",
        "summary": "",
        "notes": "",
        "end_notes": "",
        "expected_chapters": "",
        "series": "",
        "series_title": "",
        "source_site": "",
        "source_url": "",
        "chapter_title": "",
        "chapter_notes": "",
        "text": "<p>The lamp turned all night, and nobody came.</p>",
        "format": "html",
        "chapter_end_notes": "",
        "action": "post",
    }
    data.update(overrides)
    return data


def preview_section(html: str) -> str:
    start = html.index('<section class="preview"')
    return html[start : html.index("</section>", start)]


# --------------------------------------------------------------------- posting


def test_it_posts_a_work_with_its_title_text_and_tags(author: User, client_for: Callable[..., Client]) -> None:
    data = work_form_data(
        author, characters="Mara Vell", freeforms="Lighthouses, Found Family", relationships="Mara Vell/Tomas Ansel"
    )

    response = client_for(author).post("/works/new", data, follow=True)

    work = Work.objects.get()
    assert response.redirect_chain[-1][0] == f"/works/{work.pk}/"
    assert not work.draft and work.published_at is not None
    page = response.content.decode()
    assert "The Lighthouse Keeper" in page
    assert "The lamp turned all night, and nobody came." in page
    for name in ("Original Work", "General Audiences", "No Archive Warnings Apply", "Mara Vell", "Lighthouses", "Found Family"):
        assert name in page
    assert 'href="/tags/Mara%20Vell*s*Tomas%20Ansel/"' in page


def test_it_shows_a_posted_work_to_guests(author: User, client_for: Callable[..., Client]) -> None:
    client_for(author).post("/works/new", work_form_data(author))
    work = Work.objects.get()

    response = Client().get(f"/works/{work.pk}/")

    assert response.status_code == 200
    assert "The lamp turned all night" in response.content.decode()


def test_it_previews_without_saving_anything(author: User, client_for: Callable[..., Client]) -> None:
    data = work_form_data(author, action="preview", text=SCRIPTED, title="Only A Preview")

    response = client_for(author).post("/works/new", data)

    assert response.status_code == 200
    assert Work.objects.count() == 0
    preview = preview_section(response.content.decode())
    assert "Only A Preview" in preview
    assert "<p>Hello.</p>" in preview
    assert 'rel="nofollow noopener"' in preview


def test_it_lists_removed_html_in_the_preview(author: User, client_for: Callable[..., Client]) -> None:
    response = client_for(author).post("/works/new", work_form_data(author, action="preview", text=SCRIPTED))

    preview = preview_section(response.content.decode())
    assert "Some HTML will be removed" in preview
    assert "&lt;script&gt; element" in preview
    assert "onclick attribute on &lt;p&gt;" in preview
    assert "<script" not in preview
    assert "alert(" not in preview


def test_it_says_nothing_was_removed_from_a_clean_preview(author: User, client_for: Callable[..., Client]) -> None:
    response = client_for(author).post("/works/new", work_form_data(author, action="preview"))

    preview = preview_section(response.content.decode())
    assert "Nothing in your text was removed." in preview
    assert "The lamp turned all night" in preview


def test_it_saves_a_draft_that_only_its_author_can_see(
    author: User, reader: User, staff: User, client_for: Callable[..., Client]
) -> None:
    client_for(author).post("/works/new", work_form_data(author, action="draft", title="Unfinished Harbour"))

    work = Work.objects.get()
    assert work.draft and work.published_at is None
    own = client_for(author).get(f"/works/{work.pk}/")
    assert own.status_code == 200
    assert "Unfinished Harbour" in own.content.decode()
    assert "This is a draft." in own.content.decode()
    for client in (Client(), client_for(reader), client_for(staff)):
        response = client.get(f"/works/{work.pk}/")
        assert response.status_code == 404
        assert "Unfinished Harbour" not in response.content.decode()


def test_it_renders_markdown_text(author: User, client_for: Callable[..., Client]) -> None:
    text = "The sea was *very* calm.\n\nThen it was **not**."

    client_for(author).post("/works/new", work_form_data(author, text=text, format="markdown"))

    page = Client().get(f"/works/{Work.objects.get().pk}/").content.decode()
    assert "<p>The sea was <em>very</em> calm.</p>" in page
    assert "<p>Then it was <strong>not</strong>.</p>" in page


def test_it_renders_plain_text_paragraphs_and_escapes_markup(author: User, client_for: Callable[..., Client]) -> None:
    text = "First paragraph.\n\nSecond paragraph with <b>angle brackets</b>."

    client_for(author).post("/works/new", work_form_data(author, text=text, format="text"))

    page = Client().get(f"/works/{Work.objects.get().pk}/").content.decode()
    assert "<p>First paragraph.</p>" in page
    assert "<p>Second paragraph with &lt;b&gt;angle brackets&lt;/b&gt;.</p>" in page


def test_it_refuses_a_work_without_a_fandom(author: User, client_for: Callable[..., Client]) -> None:
    response = client_for(author).post("/works/new", work_form_data(author, fandoms=""))

    assert response.status_code == 200
    assert Work.objects.count() == 0
    assert "has-error" in response.content.decode()
    assert "This field is required." in response.content.decode()


def test_it_refuses_a_work_without_an_archive_warning(author: User, client_for: Callable[..., Client]) -> None:
    data = work_form_data(author)
    del data["warnings"]

    response = client_for(author).post("/works/new", data)

    assert response.status_code == 200
    assert Work.objects.count() == 0
    assert "This field is required." in response.content.decode()


def test_it_refuses_a_relationship_without_a_slash_or_ampersand(author: User, client_for: Callable[..., Client]) -> None:
    response = client_for(author).post("/works/new", work_form_data(author, relationships="Alice and Bob"))

    assert response.status_code == 200
    assert Work.objects.count() == 0
    assert "“Alice and Bob” is not a relationship" in response.content.decode()


def test_it_creates_no_tags_when_posting_fails(author: User, client_for: Callable[..., Client]) -> None:
    """A rejected post is one rolled-back transaction: the new fandom must not linger."""
    data = work_form_data(author, fandoms="Brand New Fandom", relationships="Alice and Bob")

    client_for(author).post("/works/new", data)

    assert not Tag.objects.filter(name="Brand New Fandom").exists()


def test_it_sends_guests_to_the_login_page_instead_of_the_form() -> None:
    response = Client().get("/works/new")

    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=/works/new")


def test_it_sends_a_guests_post_to_the_login_page_and_saves_nothing(author: User) -> None:
    response = Client().post("/works/new", work_form_data(author))

    assert response.status_code == 302
    assert "/login" in response["Location"]
    assert Work.objects.count() == 0


# --------------------------------------------------------------------- sanitizing on the page


def test_it_never_serves_posted_scripts_or_event_handlers(author: User, client_for: Callable[..., Client]) -> None:
    client_for(author).post("/works/new", work_form_data(author, text=SCRIPTED, summary='<p onmouseover="x()">S</p>'))

    page = Client().get(f"/works/{Work.objects.get().pk}/").content.decode()
    assert "Hello." in page
    assert 'alert("pwned")' not in page
    assert "onclick=" not in page
    assert "onmouseover=" not in page
    assert "steal()" not in page


def test_it_adds_nofollow_noopener_to_links_in_the_text(author: User, client_for: Callable[..., Client]) -> None:
    client_for(author).post("/works/new", work_form_data(author, text=SCRIPTED))

    page = Client().get(f"/works/{Work.objects.get().pk}/").content.decode()
    assert '<a href="https://example.org/" rel="nofollow noopener">A link</a>' in page


def test_it_escapes_markup_in_titles_on_every_page(author: User, client_for: Callable[..., Client]) -> None:
    client_for(author).post("/works/new", work_form_data(author, title="<script>alert(1)</script> Harbour"))
    work = Work.objects.get()

    for url in (f"/works/{work.pk}/", "/works/", "/"):
        page = Client().get(url).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Harbour" in page
        assert "<script>alert(1)" not in page


def test_it_tells_the_author_what_html_was_removed_when_posting(author: User, client_for: Callable[..., Client]) -> None:
    response = client_for(author).post("/works/new", work_form_data(author, text=SCRIPTED), follow=True)

    assert "Some HTML was removed because it is not allowed" in response.content.decode()
    assert "&lt;script&gt; element" in response.content.decode()


def test_it_posts_a_restricted_work_for_logged_in_readers_only(
    author: User, reader: User, client_for: Callable[..., Client]
) -> None:
    client_for(author).post("/works/new", work_form_data(author, title="Members Only", restricted="on"))
    work = Work.objects.get()

    guest = Client().get(f"/works/{work.pk}/")
    logged_in = client_for(reader).get(f"/works/{work.pk}/")

    assert work.restricted
    assert guest.status_code == 404 and "Members Only" not in guest.content.decode()
    assert logged_in.status_code == 200 and "Members Only" in logged_in.content.decode()


def test_it_starts_a_series_from_the_form_and_adds_the_next_work_to_it(
    author: User, client_for: Callable[..., Client]
) -> None:
    client = client_for(author)
    client.post("/works/new", work_form_data(author, title="Book One", series_title="The Harbour Books"))
    series = Series.objects.get()

    client.post("/works/new", work_form_data(author, title="Book Two", series=str(series.pk)))

    assert [part.work.title for part in series.parts.select_related("work")] == ["Book One", "Book Two"]


def test_it_marks_a_one_shot_complete_when_one_chapter_is_expected(
    author: User, client_for: Callable[..., Client]
) -> None:
    client_for(author).post("/works/new", work_form_data(author, expected_chapters="1"))

    work = Work.objects.get()
    assert work.complete
    assert work.chapters_display == "1/1"


def test_it_refuses_to_post_a_delete_without_a_csrf_token(author: User, make_work: Callable[..., Work]) -> None:
    work = make_work(author)
    client = Client(enforce_csrf_checks=True)
    client.force_login(author)

    response = client.post(f"/works/{work.pk}/delete")

    assert response.status_code == 403
    assert Work.objects.filter(pk=work.pk).exists()


# --------------------------------------------------------------------- editing


def test_it_keeps_the_updated_date_when_only_the_metadata_changes(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    """AO3's Updated date is when the story last grew, not when a typo was fixed."""
    posted = timezone.now() - timedelta(days=5)
    work = make_work(author, title="Tpyo", backdate=posted)

    client_for(author).post(f"/works/{work.pk}/edit", work_form_data(author, title="Typo", action="save"))

    work.refresh_from_db()
    assert work.title == "Typo"
    assert work.updated_at == posted
    assert work.revised_at > posted



def test_it_lets_the_creator_change_title_and_tags(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Old Title", tags=default_tags(freeforms=["Old Tag"]))

    response = client_for(author).post(
        f"/works/{work.pk}/edit", work_form_data(author, title="New Title", freeforms="Fresh Tag", action="save")
    )

    assert response.status_code == 302
    work.refresh_from_db()
    assert work.title == "New Title"
    assert [t.name for t in work.freeforms] == ["Fresh Tag"]
    page = Client().get(f"/works/{work.pk}/").content.decode()
    assert "New Title" in page and "Fresh Tag" in page
    assert "Old Title" not in page and "Old Tag" not in page


def test_it_shows_the_edit_form_filled_in_to_the_creator(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Prefilled Title", tags=default_tags(freeforms=["Prefilled Tag"]))

    response = client_for(author).get(f"/works/{work.pk}/edit")

    assert response.status_code == 200
    assert 'value="Prefilled Title"' in response.content.decode()
    assert 'value="Prefilled Tag"' in response.content.decode()


def test_it_forbids_a_reader_from_editing_someone_elses_work(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Not Yours")

    get = client_for(reader).get(f"/works/{work.pk}/edit")
    post = client_for(reader).post(f"/works/{work.pk}/edit", work_form_data(reader, title="Hijacked", action="save"))

    assert get.status_code == 403
    assert post.status_code == 403
    work.refresh_from_db()
    assert work.title == "Not Yours"


def test_it_hides_the_edit_page_of_a_draft_the_reader_cannot_see(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Secret Draft", draft=True)

    response = client_for(reader).get(f"/works/{work.pk}/edit")

    assert response.status_code == 404
    assert "Secret Draft" not in response.content.decode()


def test_it_shows_edit_buttons_to_the_creator_only(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author)

    assert f"/works/{work.pk}/edit" in client_for(author).get(f"/works/{work.pk}/").content.decode()
    assert f"/works/{work.pk}/edit" not in client_for(reader).get(f"/works/{work.pk}/").content.decode()


# --------------------------------------------------------------------- publishing a draft


def test_it_posts_a_draft_and_sets_its_published_date(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Ready Now", draft=True)
    assert work.published_at is None

    response = client_for(author).post(f"/works/{work.pk}/post")

    assert response.status_code == 302
    work.refresh_from_db()
    assert not work.draft
    assert work.published_at is not None
    assert work.updated_at == work.published_at
    assert "Ready Now" in Client().get("/works/").content.decode()


def test_it_posts_a_draft_from_the_edit_form(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Edited Then Posted", draft=True)

    client_for(author).post(f"/works/{work.pk}/edit", work_form_data(author, title="Edited Then Posted", action="post"))

    work.refresh_from_db()
    assert not work.draft and work.published_at is not None


def test_it_keeps_a_draft_a_draft_when_only_saved(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Still Drafting", draft=True)

    client_for(author).post(f"/works/{work.pk}/edit", work_form_data(author, title="Still Drafting 2", action="save"))

    work.refresh_from_db()
    assert work.title == "Still Drafting 2"
    assert work.draft and work.published_at is None


def test_it_refuses_to_post_a_draft_by_get(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, draft=True)

    response = client_for(author).get(f"/works/{work.pk}/post")

    assert response.status_code == 405
    work.refresh_from_db()
    assert work.draft


# --------------------------------------------------------------------- deleting


def test_it_deletes_the_work_on_post(
    author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Doomed")
    client = client_for(author)

    confirm = client.get(f"/works/{work.pk}/delete")
    response = client.post(f"/works/{work.pk}/delete")

    assert confirm.status_code == 200
    assert "Delete “Doomed”?" in confirm.content.decode()
    assert response.status_code == 302
    assert not Work.objects.filter(pk=work.pk).exists()
    assert response["Location"] == "/users/alice"
    assert Client().get(f"/works/{work.pk}/").status_code == 404


def test_it_forbids_a_reader_from_deleting_someone_elses_work(
    author: User, reader: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author)

    response = client_for(reader).post(f"/works/{work.pk}/delete")

    assert response.status_code == 403
    assert Work.objects.filter(pk=work.pk).exists()


# --------------------------------------------------------------------- co-creators through the pages


def test_it_does_not_credit_an_invited_co_creator_before_she_accepts(
    author: User, co_author: User, client_for: Callable[..., Client]
) -> None:
    client_for(author).post("/works/new", work_form_data(author, co_creators="carol", title="Written Together"))
    work = Work.objects.get()

    page = Client().get(f"/works/{work.pk}/").content.decode()

    assert Creatorship.objects.filter(work=work, pseud__user=co_author, accepted=False).exists()
    assert 'href="/users/alice/pseuds/alice"' in page
    assert 'href="/users/carol/pseuds/carol"' not in page


def test_it_credits_the_co_creator_once_she_accepts(
    author: User, co_author: User, client_for: Callable[..., Client]
) -> None:
    client_for(author).post("/works/new", work_form_data(author, co_creators="carol", title="Written Together"))
    work = Work.objects.get()
    invitation = Creatorship.objects.get(work=work, pseud__user=co_author)

    answer_co_creator_invitation(invitation, by=co_author, accept=True)

    page = Client().get(f"/works/{work.pk}/").content.decode()
    assert 'href="/users/alice/pseuds/alice"' in page
    assert 'href="/users/carol/pseuds/carol"' in page


def test_it_credits_the_co_creator_on_pages_read_before_she_accepted(
    author: User, co_author: User, make_work: Callable[..., Work]
) -> None:
    """Work pages and blurbs are cached per version of the work; accepting must show up anyway."""
    work = make_work(author, title="Written Together", co_creators=[co_author.default_pseud])
    guest = Client()
    assert 'href="/users/carol/pseuds/carol"' not in guest.get(f"/works/{work.pk}/").content.decode()
    assert 'href="/users/carol/pseuds/carol"' not in guest.get("/works/").content.decode()

    answer_co_creator_invitation(Creatorship.objects.get(work=work, pseud__user=co_author), by=co_author, accept=True)

    assert 'href="/users/carol/pseuds/carol"' in guest.get(f"/works/{work.pk}/").content.decode()
    assert 'href="/users/carol/pseuds/carol"' in guest.get("/works/").content.decode()


def test_it_forbids_an_invited_co_creator_from_editing_before_accepting(
    author: User, co_author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, co_creators=[co_author.default_pseud])

    response = client_for(co_author).get(f"/works/{work.pk}/edit")

    assert response.status_code == 403


def test_it_hides_a_draft_from_an_invited_co_creator_until_she_accepts(
    author: User, co_author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Shared Draft", co_creators=[co_author.default_pseud], draft=True)
    before = client_for(co_author).get(f"/works/{work.pk}/")

    invitation = Creatorship.objects.get(work=work, pseud__user=co_author)
    answer_co_creator_invitation(invitation, by=co_author, accept=True)
    after = client_for(co_author).get(f"/works/{work.pk}/")

    assert before.status_code == 404
    assert "Shared Draft" not in before.content.decode()
    assert after.status_code == 200
    assert "Shared Draft" in after.content.decode()


def test_it_lets_an_accepted_co_creator_edit_the_work(
    author: User, co_author: User, make_work: Callable[..., Work], client_for: Callable[..., Client]
) -> None:
    work = make_work(author, title="Joint Effort", co_creators=[co_author.default_pseud])
    answer_co_creator_invitation(Creatorship.objects.get(work=work, pseud__user=co_author), by=co_author, accept=True)
    client = client_for(co_author)

    form = client.get(f"/works/{work.pk}/edit")
    response = client.post(f"/works/{work.pk}/edit", work_form_data(co_author, title="Joint Effort, Revised", action="save"))

    assert form.status_code == 200
    assert response.status_code == 302
    work.refresh_from_db()
    assert work.title == "Joint Effort, Revised"
    # Editing as Carol must not drop Alice's credit.
    assert {p.user.username for p in work.creators} == {"alice", "carol"}


def test_it_reports_an_unknown_co_creator_on_the_form(author: User, client_for: Callable[..., Client]) -> None:
    response = client_for(author).post("/works/new", work_form_data(author, co_creators="nobody-here"))

    assert response.status_code == 200
    assert Work.objects.count() == 0
    assert "There is no user or pseud called “nobody-here”." in response.content.decode()
