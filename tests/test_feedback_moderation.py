"""Moderated comments, the creator's queue, and the spam guards that hold or swallow comments.

Alice (author) moderates her works; Bob (reader) and guests comment; Carol (co_author) is
another reader unless she is made a co-creator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from chapbook.feedback.comments import approve_comment, post_comment
from chapbook.feedback.models import Comment, CommentStatus, Notification
from chapbook.people.models import User
from chapbook.works.models import Creatorship, Work

MakeWork = Callable[..., Work]
ClientFor = Callable[[User], Client]

GUEST = {"guest_name": "Gwen", "guest_email": "gwen@example.net"}
SPAM = (
    "Great story! Visit https://cheap-pills.example and <a href='https://casino.example'>this</a>, "
    "also www.replica-watches.example"
)


@pytest.fixture(autouse=True)
def generous_rate_limits(settings: Any) -> None:
    settings.CHAPBOOK_COMMENT_RATE_GUEST = 10_000
    settings.CHAPBOOK_COMMENT_RATE_NEW_USER = 10_000
    settings.CHAPBOOK_COMMENT_RATE_USER = 10_000


def comment_on(client: Client, work: Work, text: str = "Loved it!", **fields: Any) -> Any:
    return client.post(f"/works/{work.pk}/comments", {"text": text, **fields})


def count_of(work: Work) -> int:
    work.refresh_from_db(fields=["comments_count"])
    return work.comments_count


def page(client: Client, work: Work) -> str:
    response = client.get(work.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


# Moderated works -------------------------------------------------------------------------


def test_it_holds_comments_on_a_moderated_work_until_a_creator_approves(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, moderate_comments=True)
    bob = client_for(reader)
    assert "Comments on this work are moderated" in page(bob, work)
    response = comment_on(bob, work, "Please approve me")
    comment = Comment.objects.get()
    assert comment.status == CommentStatus.HELD
    assert response.status_code == 302
    assert count_of(work) == 0

    # Only its author and the work's creators see it before approval.
    assert "Please approve me" not in page(Client(), work)
    assert "Please approve me" not in page(client_for(co_author), work)
    assert Client().get(f"/comments/{comment.pk}").status_code == 404
    own = page(bob, work)
    assert "Please approve me" in own and "Awaiting approval" in own
    alice = client_for(author)
    creator_view = page(alice, work)
    assert "Please approve me" in creator_view and f"/comments/{comment.pk}/approve" in creator_view
    assert "1 comment awaiting your approval" in creator_view and "Comments (0)" in creator_view
    assert "1 of your comments is awaiting the creator" in own

    assert alice.post(f"/comments/{comment.pk}/approve").status_code == 302
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED
    assert count_of(work) == 1
    assert "Please approve me" in page(Client(), work)
    # Approving twice counts once.
    alice.post(f"/comments/{comment.pk}/approve")
    assert count_of(work) == 1


def test_it_never_holds_the_creators_own_comments(author: User, make_work: MakeWork, client_for: ClientFor) -> None:
    work = make_work(author, moderate_comments=True)
    comment_on(client_for(author), work, "A note from the author")
    assert Comment.objects.get().status == CommentStatus.APPROVED
    assert count_of(work) == 1


def test_it_tells_creators_that_a_comment_awaits_their_approval(
    author: User, reader: User, make_work: MakeWork
) -> None:
    work = make_work(author, title="Harbour Lights", moderate_comments=True)
    top = post_comment(work=work, by=author, text="Ask me anything")
    reply = post_comment(work=work, by=reader, text="Why the gulls?", parent=top)
    note = Notification.objects.get()
    assert (note.user, note.kind, note.actor) == (author, "comment", "bob")
    assert note.text == "left a comment awaiting your approval on Harbour Lights"
    assert note.url == "/comments/held"

    Notification.objects.all().delete()
    # Alice approves a reply to her own comment: she is not told about what she just read.
    approve_comment(reply, by=author)
    assert not Notification.objects.exists()


def test_it_tells_the_parent_about_a_reply_when_it_is_approved(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author, title="Harbour Lights")
    top = post_comment(work=work, by=reader, text="Top")
    Work.objects.filter(pk=work.pk).update(moderate_comments=True)
    reply = post_comment(work=work, by=co_author, text="Held reply", parent=top)
    assert not Notification.objects.filter(user=reader).exists()
    approve_comment(reply, by=author)
    note = Notification.objects.get(user=reader)
    assert (note.kind, note.actor, note.text) == ("reply", "carol", "replied to your comment on Harbour Lights")


def test_it_lets_only_the_works_creators_approve(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor, staff: User
) -> None:
    work = make_work(author, moderate_comments=True)
    comment = post_comment(work=work, by=reader, text="Held")
    assert client_for(co_author).post(f"/comments/{comment.pk}/approve").status_code == 404  # cannot even see it
    assert client_for(reader).post(f"/comments/{comment.pk}/approve").status_code == 403
    comment.refresh_from_db()
    assert comment.status == CommentStatus.HELD
    # A co-creator who accepted is a creator too.
    Creatorship.objects.create(work=work, pseud=co_author.default_pseud, accepted=True, position=1)
    assert client_for(co_author).post(f"/comments/{comment.pk}/approve").status_code == 302
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED


def test_it_refuses_replies_to_a_held_comment_except_the_creators_which_approves_it(
    author: User, reader: User, co_author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author, moderate_comments=True)
    held = post_comment(work=work, by=reader, text="Held")
    response = client_for(reader).post(f"/comments/{held.pk}/reply", {"text": "Replying to myself"})
    assert response.status_code == 200 and "waiting for the creator" in response.content.decode()
    response = client_for(author).post(f"/comments/{held.pk}/reply", {"text": "Welcome!"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == CommentStatus.APPROVED
    assert count_of(work) == 2


def test_it_lists_held_comments_across_the_creators_works_with_approve_and_delete(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    harbour = make_work(author, title="Harbour", moderate_comments=True)
    lighthouse = make_work(author, title="Lighthouse", moderate_comments=True)
    other = make_work(reader, title="Bob's own", moderate_comments=True)
    one = post_comment(work=harbour, by=reader, text="On the harbour")
    post_comment(work=lighthouse, by=None, text="On the lighthouse", **GUEST)
    post_comment(work=other, by=author, text="Alice on Bob's work")
    alice = client_for(author)
    queue = alice.get("/comments/held").content.decode()
    assert "On the harbour" in queue and "On the lighthouse" in queue and "Alice on Bob" not in queue
    assert "gwen@example.net" not in queue
    response = alice.post(f"/comments/{one.pk}/approve", {"next": "/comments/held"})
    assert response.status_code == 302 and response.url == "/comments/held"
    assert "On the harbour" not in alice.get("/comments/held").content.decode()
    guest_comment = Comment.objects.get(guest_name="Gwen")
    response = alice.post(f"/comments/{guest_comment.pk}/delete", {"next": "/comments/held"})
    assert response.url == "/comments/held"
    assert "Nothing is waiting for your approval." in alice.get("/comments/held").content.decode()
    assert Client().get("/comments/held").status_code == 302  # to log in


# Spam guards -----------------------------------------------------------------------------


def test_it_holds_guest_comments_with_three_or_more_links_even_on_unmoderated_works(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    work = make_work(author)
    response = comment_on(Client(), work, SPAM, **GUEST)
    spam = Comment.objects.get()
    assert spam.status == CommentStatus.HELD
    assert response.status_code == 302 and response.url == f"{work.get_absolute_url()}#comments"
    assert "cheap-pills" not in page(Client(), work)
    assert count_of(work) == 0
    # Two links are a reader's, not a spammer's; and a logged-in reader's links are not held.
    comment_on(Client(), work, "See https://a.example and https://b.example", **GUEST)
    comment_on(client_for(reader), work, SPAM)
    assert list(Comment.objects.order_by("pk").values_list("status", flat=True)) == ["held", "approved", "approved"]
    assert count_of(work) == 2


def test_it_counts_a_link_written_twice_once(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    text = '<a href="https://example.org/a">https://example.org/a</a> and <a href="https://example.org/b">b</a>'
    comment = post_comment(work=work, by=None, text=text, **GUEST)
    assert comment.status == CommentStatus.APPROVED


def test_it_pretends_to_accept_a_comment_that_filled_the_honeypot(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    html = page(Client(), work)
    honeypot = html[html.index('<div class="comment-hp"') :]
    honeypot = honeypot[: honeypot.index("</div>")]
    assert 'aria-hidden="true"' in honeypot and 'tabindex="-1"' in honeypot and 'autocomplete="off"' in honeypot
    assert "position:absolute" in honeypot and 'name="website"' in honeypot
    response = comment_on(Client(), work, "Buy now", website="https://spam.example", **GUEST)
    assert response.status_code == 302
    follow = Client().post(
        f"/works/{work.pk}/comments", {"text": "Buy now", "website": "x", **GUEST}, follow=True
    ).content.decode()
    assert "Your comment was posted." in follow
    assert not Comment.objects.exists()
    assert count_of(work) == 0
