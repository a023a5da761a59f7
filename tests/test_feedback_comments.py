"""Comments on works and chapters: posting as a user or a guest, threads, edits, deletes, counts.

Alice (author) writes; Bob (reader) and Carol (co_author, here just another reader) comment;
guests comment through a plain Client with a name and an email address.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from chapbook.feedback.comments import delete_comment, edit_comment, post_comment
from chapbook.feedback.models import Comment, CommentStatus, Notification
from chapbook.people.models import Pseud, User
from chapbook.works.models import Work
from tests.conftest import build_work, make_user, queries_for

MakeWork = Callable[..., Work]
ClientFor = Callable[[User], Client]

GUEST_EMAIL = "gwen.secret@example.net"


@pytest.fixture(autouse=True)
def generous_rate_limits(settings: Any) -> None:
    """These tests post many comments quickly; the limits have tests of their own."""
    settings.CHAPBOOK_COMMENT_RATE_GUEST = 10_000
    settings.CHAPBOOK_COMMENT_RATE_NEW_USER = 10_000
    settings.CHAPBOOK_COMMENT_RATE_USER = 10_000


def comment_on(client: Client, work: Work, text: str = "Loved it!", **fields: Any) -> Any:
    return client.post(f"/works/{work.pk}/comments", {"text": text, **fields})


def as_guest(client: Client, work: Work, text: str = "Loved it!", **fields: Any) -> Any:
    data = {"guest_name": "Gwen", "guest_email": GUEST_EMAIL, **fields}
    return comment_on(client, work, text, **data)


def reply_to(client: Client, comment: Comment, text: str = "Thank you!", **fields: Any) -> Any:
    return client.post(f"/comments/{comment.pk}/reply", {"text": text, **fields})


def count_of(work: Work) -> int:
    work.refresh_from_db(fields=["comments_count"])
    return work.comments_count


def page_of(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def comments_html(html: str) -> str:
    start = html.index('<section class="comments"')
    return html[start : html.index("</section>", start)]


def shown_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article class="comment[^"]*" id="comment-(\d+)"', html)]


def reply_chain(work: Work, users: list[User], depth: int) -> list[Comment]:
    """A top comment and `depth` replies, each answering the one before."""
    chain = [post_comment(work=work, by=users[0], text="Level 0")]
    for level in range(1, depth + 1):
        chain.append(post_comment(work=work, by=users[level % len(users)], text=f"Level {level}", parent=chain[-1]))
    return chain


# Posting -------------------------------------------------------------------------------


def test_it_posts_a_users_comment_and_shows_it_on_the_work_page(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    client = client_for(reader)
    response = comment_on(client, work, "What a lovely harbour.")
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response.url == f"{work.get_absolute_url()}#comment-{comment.pk}"
    assert comment.user == reader and comment.pseud == reader.default_pseud
    assert comment.thread_id == comment.pk and comment.depth == 0 and comment.chapter is None
    html = comments_html(page_of(client, work.get_absolute_url()))
    assert "What a lovely harbour." in html and ">bob</a>" in html
    assert "Comments (1)" in html
    assert count_of(work) == 1


def test_it_posts_a_guest_comment_signed_with_the_guests_name(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    guest = Client()
    response = as_guest(guest, work, "Guest here!", guest_notify="on")
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert comment.user is None and comment.guest_name == "Gwen" and comment.guest_email == GUEST_EMAIL
    assert comment.guest_notify and comment.status == CommentStatus.APPROVED
    html = comments_html(page_of(Client(), work.get_absolute_url()))
    assert "Guest here!" in html and "Gwen" in html and "(guest)" in html


def test_it_never_shows_a_guests_email_on_any_page(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, chapters=["<p>One.</p>", "<p>Two.</p>"], moderate_comments=True)
    as_guest(Client(), work, "Approved one", chapter=1)
    held = Comment.objects.get()
    as_guest(Client(), work, "Held one", chapter=2)
    alice = client_for(author)
    alice.post(f"/comments/{held.pk}/approve")
    reply_to(alice, held, "Thanks, Gwen")
    pages = [
        work.get_absolute_url(),
        f"{work.get_absolute_url()}?view_full_work=1",
        f"/works/{work.pk}/chapters/1/",
        f"/works/{work.pk}/chapters/2/",
        f"/comments/{held.pk}/reply",
        f"/comments/{held.pk}/delete",
        "/comments/held",
        f"/works/{work.pk}/bookmarks",
    ]
    for client in (Client(), client_for(reader), alice):
        for url in pages:
            response = client.get(url, follow=True)
            assert GUEST_EMAIL not in response.content.decode(), url
            assert "gwen.secret" not in response.content.decode(), url


def test_it_requires_a_guests_name_and_a_valid_email(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    response = comment_on(Client(), work, "Hi", guest_name="  ", guest_email="not-an-address")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please give a name to comment as a guest." in html
    assert "Please give a valid email address." in html
    # The reader's text is kept in the form they see again.
    assert ">\nHi</textarea>" in html
    assert not Comment.objects.exists()


def test_it_does_not_echo_a_guests_email_back_in_a_form_with_mistakes(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    response = as_guest(Client(), work, "")
    html = response.content.decode()
    assert response.status_code == 200 and "the comment is empty" in html
    assert 'value="Gwen"' in html
    assert GUEST_EMAIL not in html


def test_it_refuses_an_empty_comment(author: User, reader: User, make_work: MakeWork, client_for: ClientFor) -> None:
    work = make_work(author)
    client = client_for(reader)
    for text in ["", "   \n\n  ", "<p> </p>", "<img src='https://example.org/x.png'>", "<script>alert(1)</script>"]:
        response = comment_on(client, work, text)
        assert response.status_code == 200
        assert "the comment is empty" in response.content.decode(), text
    assert not Comment.objects.exists()
    assert count_of(work) == 0


def test_it_refuses_a_comment_over_10000_characters_counting_line_breaks_once(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    client = client_for(reader)
    response = comment_on(client, work, "x" * 10_001)
    assert response.status_code == 200
    assert "at most 10,000 characters long; yours has 10,001" in response.content.decode()
    assert not Comment.objects.exists()
    # Browsers send a line break as CR LF; the reader typed one character.
    exactly = ("y" * 99 + "\r\n") * 100
    assert comment_on(client, work, exactly).status_code == 302
    assert Comment.objects.count() == 1


def test_it_turns_plain_text_into_paragraphs_and_cleans_html(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    client = client_for(reader)
    comment_on(client, work, "First line\nsecond line\r\n\r\nNew paragraph")
    comment_on(
        client,
        work,
        '<p style="color:red" class="notice">Look <a href="https://example.org" onclick="x()">here</a></p>'
        "<h1>Huge</h1><img src='https://example.org/i.png'><script>alert(1)</script>",
    )
    plain, marked = Comment.objects.order_by("pk")
    assert plain.html == "<p>First line<br>second line</p><p>New paragraph</p>"
    assert marked.html == (
        '<p>Look <a href="https://example.org" rel="nofollow ugc noopener">here</a></p>Huge<br>'
    )


def test_it_refuses_comments_on_a_draft_even_from_its_creator(
    author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, draft=True)
    alice = client_for(author)
    html = page_of(alice, work.get_absolute_url())
    assert "Post the work first." in comments_html(html) and "data-comment-form" not in html
    response = comment_on(alice, work, "Note to self")
    assert response.status_code == 200
    assert "You can&#x27;t comment on a draft." in response.content.decode()
    assert not Comment.objects.exists()
    # Readers cannot even see a draft.
    assert comment_on(Client(), work, guest_name="G", guest_email="g@example.net").status_code == 404


def test_it_answers_404_to_a_guest_commenting_on_a_restricted_work(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, restricted=True)
    assert as_guest(Client(), work).status_code == 404
    assert comment_on(client_for(reader), work, "Logged in, so I can").status_code == 302
    comment = Comment.objects.get()
    assert Client().get(f"/comments/{comment.pk}").status_code == 404
    assert Client().get(f"/comments/{comment.pk}/reply").status_code == 404
    assert reply_to(Client(), comment, guest_name="G", guest_email="g@example.net").status_code == 404
    assert Comment.objects.count() == 1


def test_it_refuses_every_comment_when_comments_are_off(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    bob = client_for(reader)
    comment_on(bob, work, "Before they were turned off")
    Work.objects.filter(pk=work.pk).update(comment_permission="off")
    earlier = Comment.objects.get()
    for client in (bob, client_for(author)):
        response = comment_on(client, work, "Again")
        assert response.status_code == 200
        assert "Comments are turned off on this work." in response.content.decode()
    assert as_guest(Client(), work).status_code == 200
    assert reply_to(bob, earlier).status_code == 200
    assert Comment.objects.count() == 1
    html = comments_html(page_of(bob, work.get_absolute_url()))
    # What was said stays readable; only new comments are closed.
    assert "Before they were turned off" in html and "Comments are turned off on this work." in html
    assert "data-comment-form" not in html and "/reply" not in html


def test_it_lets_only_logged_in_users_comment_when_the_creator_says_so(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, comment_permission="users")
    response = as_guest(Client(), work)
    assert response.status_code == 200
    assert "Only logged-in users can comment on this work." in response.content.decode()
    assert not Comment.objects.exists()
    guest_html = comments_html(page_of(Client(), work.get_absolute_url()))
    assert "Only logged-in users can comment on this work." in guest_html and "Log in</a>" in guest_html
    assert "guest_email" not in guest_html
    assert comment_on(client_for(reader), work, "Members only").status_code == 302
    assert Comment.objects.count() == 1


def test_it_offers_a_choice_of_pseuds_and_posts_under_the_chosen_one(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    other = Pseud.objects.create(user=reader, name="Harbourmaster")
    client = client_for(reader)
    html = comments_html(page_of(client, work.get_absolute_url()))
    assert 'name="pseud"' in html and "Harbourmaster" in html
    comment_on(client, work, "As my other self", pseud=other.pk)
    assert Comment.objects.get().pseud == other
    assert ">Harbourmaster</a>" in comments_html(page_of(Client(), work.get_absolute_url()))
    response = comment_on(client, work, "Borrowing Alice's name", pseud=author.default_pseud.pk)
    assert response.status_code == 200 and "Choose one of your own pseuds." in response.content.decode()
    assert Comment.objects.count() == 1


# Threads -------------------------------------------------------------------------------


def test_it_threads_replies_to_depth_8_and_caps_the_indentation(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    bob, carol = client_for(reader), client_for(co_author)
    comment_on(bob, work, "Level 0")
    chain = [Comment.objects.get()]
    for level in range(1, 9):
        response = reply_to(carol if level % 2 else bob, chain[-1], f"Level {level}")
        assert response.status_code == 302
        chain.append(Comment.objects.latest("pk"))
    assert [c.depth for c in chain] == list(range(9))
    assert {c.thread_id for c in chain} == {chain[0].pk}
    assert all(c.parent_id == p.pk for p, c in itertools.pairwise(chain))

    html = comments_html(page_of(Client(), work.get_absolute_url()))
    assert shown_ids(html) == [c.pk for c in chain]
    # Five nested lists at most, however deep the thread; deeper replies say whom they answer.
    assert html.count('<ul class="comment-replies">') == 5
    assert f'in reply to <a href="#comment-{chain[5].pk}">carol</a>' in html
    assert f'in reply to <a href="#comment-{chain[7].pk}">carol</a>' in html
    assert "Comments (9)" in html
    assert count_of(work) == 9


def test_it_replies_through_a_page_of_its_own_without_javascript(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    top = post_comment(work=work, by=reader, text="Will there be more?")
    guest = Client()
    form = page_of(guest, f"/comments/{top.pk}/reply")
    assert "Reply to bob" in form and "Will there be more?" in form and 'name="guest_email"' in form
    response = reply_to(guest, top, "Me too!", guest_name="Gwen", guest_email=GUEST_EMAIL)
    reply = Comment.objects.get(parent=top)
    assert response.status_code == 302 and response.url.endswith(f"#comment-{reply.pk}")
    assert reply.depth == 1 and reply.thread_id == top.pk and reply.guest_name == "Gwen"


def test_it_refuses_a_reply_to_a_deleted_comment(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    top = post_comment(work=work, by=reader, text="Top")
    post_comment(work=work, by=co_author, text="Keeps the placeholder", parent=top)
    delete_comment(top, by=reader)
    carol = client_for(co_author)
    response = reply_to(carol, top, "Hello?")
    assert response.status_code == 200 and "That comment was deleted." in response.content.decode()
    # Through the work's own form, with a parent id that no longer exists at all.
    gone = post_comment(work=work, by=reader, text="Gone soon")
    delete_comment(gone, by=reader)
    response = comment_on(carol, work, "Hello?", parent=gone.pk)
    assert response.status_code == 200 and "That comment was deleted." in response.content.decode()
    assert "That comment was deleted." in page_of(carol, f"/comments/{top.pk}/reply")
    assert Comment.objects.count() == 2


def test_it_refuses_a_reply_to_a_comment_on_another_work(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    harbour = make_work(author, title="Harbour")
    lighthouse = make_work(author, title="Lighthouse")
    elsewhere = post_comment(work=lighthouse, by=reader, text="On the lighthouse")
    response = comment_on(client_for(reader), harbour, "Crossed wires", parent=elsewhere.pk)
    assert response.status_code == 200
    assert "That comment is not on this work." in response.content.decode()
    assert Comment.objects.count() == 1


# Chapters --------------------------------------------------------------------------------


def test_it_shows_a_chapters_comments_on_it_and_all_of_them_on_the_entire_work(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, chapters=["<p>One.</p>", "<p>Two.</p>"])
    bob = client_for(reader)
    comment_on(bob, work, "About chapter one", chapter=1)
    comment_on(bob, work, "About chapter two", chapter=2)
    one, two = Comment.objects.order_by("pk")
    assert one.chapter is not None and one.chapter.position == 1
    assert two.chapter is not None and two.chapter.position == 2
    reply_to(client_for(author), two, "Glad you liked it")
    assert Comment.objects.latest("pk").chapter == two.chapter

    first = comments_html(page_of(Client(), f"/works/{work.pk}/chapters/1/"))
    second = comments_html(page_of(Client(), f"/works/{work.pk}/chapters/2/"))
    whole = comments_html(page_of(Client(), f"{work.get_absolute_url()}?view_full_work=1"))
    assert shown_ids(first) == [one.pk] and "Comments on this chapter (1)" in first
    assert len(shown_ids(second)) == 2 and "Comments on this chapter (2)" in second
    assert len(shown_ids(whole)) == 3 and "Comments (3)" in whole
    assert f'on <a href="/works/{work.pk}/chapters/2/">Chapter 2</a>' in whole
    assert "on <a" not in first
    # Each chapter's form posts to that chapter.
    assert 'name="chapter" value="2"' in second


def test_it_treats_a_one_chapter_works_comments_as_the_works(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    comment_on(client_for(reader), work, "On the work", chapter=1)
    assert Comment.objects.get().chapter is None
    html = comments_html(page_of(Client(), f"/works/{work.pk}/chapters/1/"))
    assert "On the work" in html and "Comments (1)" in html and "Chapter 1</a>" not in html


# Editing and deleting --------------------------------------------------------------------


def test_it_lets_a_user_edit_their_own_comment_and_marks_it_edited(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    comment = post_comment(work=work, by=reader, text="Teh best")
    bob = client_for(reader)
    form = page_of(bob, f"/comments/{comment.pk}/edit")
    assert "Teh best" in form
    response = bob.post(f"/comments/{comment.pk}/edit", {"text": "The best"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.html == "<p>The best</p>" and comment.edited_at is not None
    html = comments_html(page_of(Client(), work.get_absolute_url()))
    assert "The best" in html and ">Edited</span>" in html
    response = bob.post(f"/comments/{comment.pk}/edit", {"text": ""})
    assert response.status_code == 200 and "the comment is empty" in response.content.decode()
    assert count_of(work) == 1


def test_it_forbids_editing_someone_elses_comment(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    comment = post_comment(work=work, by=reader, text="Mine")
    alice = client_for(author)
    assert alice.get(f"/comments/{comment.pk}/edit").status_code == 403
    assert alice.post(f"/comments/{comment.pk}/edit", {"text": "Hijacked"}).status_code == 403
    assert Client().post(f"/comments/{comment.pk}/edit", {"text": "Hijacked"}).status_code == 302  # to log in
    comment.refresh_from_db()
    assert comment.html == "<p>Mine</p>"
    assert "/edit" not in comments_html(page_of(alice, work.get_absolute_url()))


def test_it_removes_a_deleted_comment_without_replies(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    comment = post_comment(work=work, by=reader, text="Oops, wrong work")
    bob = client_for(reader)
    assert "Delete this comment?" in page_of(bob, f"/comments/{comment.pk}/delete")
    response = bob.post(f"/comments/{comment.pk}/delete")
    assert response.status_code == 302
    assert not Comment.objects.exists()
    assert count_of(work) == 0
    assert "Oops" not in page_of(Client(), work.get_absolute_url())


def test_it_leaves_a_placeholder_when_a_deleted_comment_has_replies(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    top = post_comment(work=work, by=reader, text="Something I regret")
    reply = post_comment(work=work, by=co_author, text="A reply that stays", parent=top)
    assert count_of(work) == 2
    client_for(reader).post(f"/comments/{top.pk}/delete")
    top.refresh_from_db()
    assert top.deleted and top.html == ""
    assert count_of(work) == 1
    html = comments_html(page_of(Client(), work.get_absolute_url()))
    assert "(This comment was deleted.)" in html and "Something I regret" not in html
    assert "A reply that stays" in html and "Comments (1)" in html
    # The last reply going takes the placeholder with it.
    client_for(co_author).post(f"/comments/{reply.pk}/delete")
    assert not Comment.objects.exists()
    assert count_of(work) == 0


def test_it_lets_a_creator_delete_any_comment_on_their_work_and_nobody_else(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    rude = post_comment(work=work, by=reader, text="Rude")
    guest = post_comment(work=work, by=None, text="Also rude", guest_name="Troll", guest_email="t@example.net")
    carol = client_for(co_author)
    assert carol.get(f"/comments/{rude.pk}/delete").status_code == 403
    assert carol.post(f"/comments/{rude.pk}/delete").status_code == 403
    alice = client_for(author)
    html = comments_html(page_of(alice, work.get_absolute_url()))
    assert f"/comments/{rude.pk}/delete" in html and f"/comments/{guest.pk}/delete" in html
    assert alice.post(f"/comments/{rude.pk}/delete").status_code == 302
    assert alice.post(f"/comments/{guest.pk}/delete").status_code == 302
    assert not Comment.objects.exists()
    assert count_of(work) == 0


# Notifications and email -------------------------------------------------------------------


def test_it_tells_the_creators_and_the_person_replied_to(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, title="Harbour Lights")
    top = post_comment(work=work, by=reader, text="Top")
    rows = list(Notification.objects.all())
    assert [(n.user, n.kind, n.actor, n.text) for n in rows] == [
        (author, "comment", "bob", "commented on Harbour Lights")
    ]
    assert rows[0].url == f"/comments/{top.pk}" and rows[0].comment == top
    Notification.objects.all().delete()
    post_comment(work=work, by=co_author, text="Reply", parent=top)
    assert sorted((n.user.username, n.kind, n.actor, n.text) for n in Notification.objects.all()) == [
        ("alice", "comment", "carol", "replied to a comment on Harbour Lights"),
        ("bob", "reply", "carol", "replied to your comment on Harbour Lights"),
    ]
    Notification.objects.all().delete()
    # The creator replying to Bob: Bob hears of it, Alice is not told about herself.
    post_comment(work=work, by=author, text="Thanks!", parent=top)
    assert [(n.user, n.kind, n.actor) for n in Notification.objects.all()] == [(reader, "reply", "alice")]


def test_it_emails_a_guest_about_a_reply_only_when_they_asked(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    work = make_work(author, title="Harbour Lights")
    as_guest(Client(), work, "Tell me when you answer", guest_notify="on")
    as_guest(Client(), work, "No emails please", guest_name="Quiet", guest_email="quiet@example.net")
    asked, quiet = Comment.objects.order_by("pk")
    alice = client_for(author)
    with django_capture_on_commit_callbacks(execute=True):
        reply_to(alice, quiet, "Noted")
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        reply_to(alice, asked, "Here is my answer")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [GUEST_EMAIL]
    assert message.subject == "[Chapbook] alice replied to your comment on Harbour Lights"
    assert "Here is my answer" in message.body
    reply = Comment.objects.latest("pk")
    assert f"/comments/{reply.pk}" in message.body
    # The link in it stops further emails, after a confirmation.
    stop = re.search(r"(/comments/\d+/stop-emails/\S+)", message.body)
    assert stop is not None
    assert "Stop these emails" in page_of(Client(), stop.group(1))
    Client().post(stop.group(1))
    asked.refresh_from_db()
    assert not asked.guest_notify
    with django_capture_on_commit_callbacks(execute=True):
        reply_to(alice, asked, "Another answer")
    assert len(mail.outbox) == 1
    # Nobody else is emailed directly: logged-in users get their digests elsewhere.
    assert Notification.objects.filter(user=author).count() == 2


# Counts, pages and queries -------------------------------------------------------------------


def test_it_keeps_the_comment_count_exact(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    a = post_comment(work=work, by=reader, text="a")
    b = post_comment(work=work, by=co_author, text="b", parent=a)
    post_comment(work=work, by=reader, text="c", parent=b)
    d = post_comment(work=work, by=None, text="d", guest_name="G", guest_email="g@example.net")
    assert count_of(work) == 4
    edit_comment(a, by=reader, text="a, edited")
    assert count_of(work) == 4
    delete_comment(b, by=co_author)  # has a reply: placeholder
    assert count_of(work) == 3
    delete_comment(b, by=co_author)  # twice is once
    assert count_of(work) == 3
    delete_comment(d, by=author)
    assert count_of(work) == 2
    approved = Comment.objects.filter(work=work, status=CommentStatus.APPROVED, deleted=False).count()
    assert count_of(work) == approved == 2
    assert "Comments:</dt><dd>2</dd>" in page_of(Client(), work.get_absolute_url())


def test_it_refreshes_the_cached_guest_page_after_every_change(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    comment = post_comment(work=work, by=reader, text="First draft of a thought")
    guest = Client()
    assert "First draft of a thought" in page_of(guest, work.get_absolute_url())
    client_for(reader).post(f"/comments/{comment.pk}/edit", {"text": "Second thought"})
    html = page_of(guest, work.get_absolute_url())
    assert "Second thought" in html and "First draft" not in html
    delete_comment(comment, by=reader)
    assert "Second thought" not in page_of(guest, work.get_absolute_url())


def test_it_renders_the_same_section_for_every_guest(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    post_comment(work=work, by=reader, text="Hello")
    as_guest(Client(), work, "From a guest")

    def section(client: Client) -> str:
        html = comments_html(client.get(work.get_absolute_url()).content.decode())
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)

    cache_cleared: list[str] = []
    from django.core.cache import cache

    for _ in range(2):
        cache.clear()
        cache_cleared.append(section(Client()))
    assert cache_cleared[0] == cache_cleared[1]
    assert "/edit" not in cache_cleared[0] and "/delete" not in cache_cleared[0]


def test_it_paginates_top_level_threads(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    tops = [post_comment(work=work, by=reader, text=f"Thread {n}") for n in range(23)]
    post_comment(work=work, by=author, text="Reply on the last", parent=tops[-1])
    bob = client_for(reader)
    first = comments_html(page_of(bob, work.get_absolute_url()))
    second = comments_html(page_of(bob, f"{work.get_absolute_url()}?comments_page=2"))
    assert shown_ids(first) == [c.pk for c in tops[:20]]
    assert shown_ids(second)[:3] == [c.pk for c in tops[20:]] and len(shown_ids(second)) == 4
    assert "Comments page 1 of 2" in first and "?comments_page=2#comments" in first
    assert "Comments (24)" in first
    # The permalink finds the page its thread is on.
    response = Client().get(f"/comments/{tops[21].pk}")
    assert response.status_code == 302
    assert response.url == f"{work.get_absolute_url()}?comments_page=2#comment-{tops[21].pk}"


def test_it_paginates_threads_for_guests_too(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    tops = [post_comment(work=work, by=reader, text=f"Thread {n}") for n in range(21)]
    guest = Client()
    page_of(guest, work.get_absolute_url())
    second = comments_html(page_of(guest, f"{work.get_absolute_url()}?comments_page=2"))
    assert shown_ids(second) == [tops[20].pk]


def test_it_links_each_comment_to_its_chapter_and_the_entire_work(
    author: User, reader: User, make_work: MakeWork
) -> None:
    work = make_work(author, chapters=["<p>One.</p>", "<p>Two.</p>"])
    chapter_two = work.chapters.get(position=2)
    on_two = post_comment(work=work, by=reader, text="Two", chapter=chapter_two)
    on_work = post_comment(work=work, by=reader, text="Whole")
    assert Client().get(f"/comments/{on_two.pk}").url == f"/works/{work.pk}/chapters/2/#comment-{on_two.pk}"
    assert Client().get(f"/comments/{on_work.pk}").url == f"/works/{work.pk}/?view_full_work=1#comment-{on_work.pk}"
    assert Client().get("/comments/999999").status_code == 404


def section_queries(work: Work, user: Any, position: int | None) -> int:
    request = RequestFactory().get(work.get_absolute_url())
    request.user = user
    template = Template("{% load comment_tags %}{% comments_section work position %}")
    with CaptureQueriesContext(connection) as captured:
        template.render(Context({"work": work, "position": position, "request": request}))
    return len(captured.captured_queries)


def test_it_renders_the_section_in_a_fixed_number_of_queries(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    from django.contrib.auth.models import AnonymousUser

    work = make_work(author, chapters=["<p>One.</p>", "<p>Two.</p>"])
    Pseud.objects.create(user=reader, name="Other Bob")

    def add(rounds: int) -> None:
        for _ in range(rounds):
            chain = reply_chain(work, [reader, co_author, author], 6)
            post_comment(work=work, by=None, text="guest", parent=chain[2], guest_name="G", guest_email="g@example.net")
            delete_comment(chain[1], by=co_author if chain[1].user == co_author else chain[1].user)  # type: ignore[arg-type]

    add(2)
    work.refresh_from_db()
    small = {who: section_queries(work, user, None) for who, user in [("guest", AnonymousUser()), ("bob", reader), ("alice", author)]}
    add(10)
    work.refresh_from_db()
    large = {who: section_queries(work, user, None) for who, user in [("guest", AnonymousUser()), ("bob", reader), ("alice", author)]}
    assert small == large
    assert max(large.values()) <= 4
    assert section_queries(work, reader, 2) <= 4
    # The whole page too: the same number of queries for few comments as for many.
    clients = {"guest": Client(), "bob": client_for(reader)}
    before = {who: queries_for(client, work.get_absolute_url()) for who, client in clients.items()}
    add(5)
    assert {who: queries_for(client, work.get_absolute_url()) for who, client in clients.items()} == before


# Under load ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_keeps_every_comment_and_an_exact_count_when_comments_race(author: User) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers (IMMEDIATE transactions); the race is PostgreSQL's")
    work = build_work(author)
    readers = [make_user(f"racer{n}") for n in range(12)]
    top = post_comment(work=work, by=author, text="Race below")
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(readers))

    def comment(user: User) -> None:
        try:
            barrier.wait()
            post_comment(work=work, by=user, text=f"From {user.username}", parent=top)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=comment, args=(user,)) for user in readers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Comment.objects.filter(work=work).count() == 13
    assert count_of(work) == 13


# In the browser ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_guest_replies_to_a_comment_in_place_in_the_browser(page: Any, author: User, reader: User) -> None:
    from playwright.sync_api import expect

    work = build_work(author, title="Harbour Lights")
    top = post_comment(work=work, by=reader, text="Will the lamp be lit again?")
    page.goto(work.get_absolute_url())
    comment = page.locator(f"#comment-{top.pk}")
    comment.get_by_role("link", name="Reply").click()
    # The script opened a form under the comment instead of leaving the page.
    form = comment.get_by_role("form", name="Reply")
    expect(form).to_be_visible()
    form.get_by_role("textbox", name="Name").fill("Gwen")
    form.get_by_role("textbox", name="Email").fill(GUEST_EMAIL)
    form.get_by_role("textbox", name="Comment").fill("I hope so!")
    form.get_by_role("button", name="Post comment").click()
    expect(page.get_by_text("Your comment was posted.")).to_be_visible()
    reply = Comment.objects.get(parent=top)
    expect(page.locator(f"#comment-{top.pk} ~ .comment-replies #comment-{reply.pk}")).to_contain_text("I hope so!")
    assert reply.guest_name == "Gwen" and reply.depth == 1
    assert GUEST_EMAIL not in page.content()
