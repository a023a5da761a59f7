"""The feedback API: kudos, comments, bookmarks, subscriptions and the inbox, as a client sees them.

Every call goes through the test client with a real bearer token (or none, as a guest),
so authentication, the error handlers and the JSON shapes are the ones clients get.
The rules themselves are the services' and are pinned in tests/test_feedback_*.py;
these tests pin what the API adds: statuses, shapes, and that nothing leaks or breaks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chapbook.feedback import comments as comment_services
from chapbook.feedback.hits import flush_hits
from chapbook.feedback.models import (
    Bookmark,
    Comment,
    Notification,
    NotificationKind,
    Subscription,
)
from chapbook.people.models import Pseud, User
from chapbook.works.models import Chapter, Series, SeriesPart, Work
from chapbook.works.services import ChapterInput, add_chapter
from tests.conftest import make_user
from tests.test_api_works import accept_invitation, api_as, new_work_body

MakeWork = Callable[..., Work]

# Past the largest id a BIGINT column holds.
HUGE = 2**70
LONGEST = comment_services.MAX_LENGTH


def kudos_url(work: Work | int) -> str:
    return f"/api/v1/works/{work if isinstance(work, int) else work.pk}/kudos"


def comments_url(work: Work | int) -> str:
    return f"/api/v1/works/{work if isinstance(work, int) else work.pk}/comments"


def messages(response: Any) -> list[str]:
    """The messages of a 422's field errors."""
    assert response.status_code == 422, response.content
    return [error["msg"] for error in response.json()["detail"]]


def fields(response: Any) -> list[list[str | int]]:
    """Where a 422's field errors point."""
    assert response.status_code == 422, response.content
    return [error["loc"] for error in response.json()["detail"]]


def assert_not_found(response: Any) -> None:
    assert response.status_code == 404, response.content
    assert response.json() == {"detail": "Not found"}


def assert_needs_token(response: Any) -> None:
    assert response.status_code == 401, response.content
    assert response.json() == {"detail": "A valid API token is required."}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def two_chapters(make_work: MakeWork, author: User, **extra: Any) -> Work:
    return make_work(author, chapters=["<p>The first tide.</p>", "<p>The second tide.</p>"], **extra)


def post_comment(caller: Any, work: Work, text: str = "<p>Lovely.</p>", **body: Any) -> dict[str, Any]:
    response = caller.post(comments_url(work), {"text": text, **body})
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


def guest_body(text: str = "<p>Lovely.</p>", **extra: Any) -> dict[str, Any]:
    return {"text": text, "name": "Wren", "email": "wren@example.net", **extra}


def stats(work: Work) -> dict[str, int]:
    data: dict[str, int] = api_as().get(f"/api/v1/works/{work.pk}").json()["stats"]
    return data


def series_of(owner: User, *works: Work, title: str = "Harbour Lights") -> Series:
    series = Series.objects.create(title=title, owner=owner)
    for position, work in enumerate(works, start=1):
        SeriesPart.objects.create(series=series, work=work, position=position)
    return series


# Kudos ---------------------------------------------------------------------------------


def test_it_leaves_kudos_and_answers_the_works_count(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author)

    first = api_as(reader).post(kudos_url(work), {})
    second = api_as(co_author).post(kudos_url(work), {})

    assert first.status_code == 201
    assert first.json() == {"kudos": 1, "chapter": None, "chapter_kudos": None}
    assert second.json() == {"kudos": 2, "chapter": None, "chapter_kudos": None}
    assert stats(work)["kudos"] == 2


def test_it_leaves_kudos_without_a_body(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    caller = api_as(reader)

    # What `curl -X POST` sends: no body at all, with or without a JSON content type.
    bare = caller.client.post(kudos_url(work), b"", content_type="application/octet-stream", headers=caller.headers)
    again = caller.client.post(kudos_url(work), b"", content_type="application/json", headers=caller.headers)

    assert bare.status_code == 201, bare.content
    assert bare.json()["kudos"] == 1
    assert messages(again) == ["You have already left kudos here."]


def test_it_leaves_kudos_on_a_chapter_apart_from_the_work(author: User, reader: User, make_work: MakeWork) -> None:
    work = two_chapters(make_work, author)
    caller = api_as(reader)

    on_chapter = caller.post(kudos_url(work), {"chapter": 2})
    on_work = caller.post(kudos_url(work), {})

    assert on_chapter.status_code == 201
    # Chapter kudos are the chapter's own: the work's count (blurbs, sorts) does not move.
    assert on_chapter.json() == {"kudos": 0, "chapter": 2, "chapter_kudos": 1}
    assert on_work.json() == {"kudos": 1, "chapter": None, "chapter_kudos": None}
    assert stats(work)["kudos"] == 1


def test_it_refuses_kudos_on_a_chapter_the_work_does_not_have(
    author: User, reader: User, make_work: MakeWork
) -> None:
    work = two_chapters(make_work, author)

    response = api_as(reader).post(kudos_url(work), {"chapter": 3})

    assert messages(response) == ["This work has no chapter 3."]
    assert fields(response) == [["body", "chapter"]]
    assert api_as(reader).post(kudos_url(work), {"chapter": 0}).status_code == 422
    assert api_as(reader).post(kudos_url(work), {"chapter": HUGE}).status_code == 422


def test_it_refuses_kudos_twice_with_a_message(author: User, reader: User, make_work: MakeWork) -> None:
    work = two_chapters(make_work, author)
    caller = api_as(reader)
    caller.post(kudos_url(work), {})
    caller.post(kudos_url(work), {"chapter": 1})

    again = caller.post(kudos_url(work), {})
    again_on_chapter = caller.post(kudos_url(work), {"chapter": 1})

    assert messages(again) == ["You have already left kudos here."]
    assert messages(again_on_chapter) == ["You have already left kudos here."]
    assert stats(work)["kudos"] == 1


def test_it_refuses_kudos_on_ones_own_work(author: User, co_author: User, make_work: MakeWork) -> None:
    work = make_work(author, co_creators=[co_author.default_pseud])
    accept_invitation(work, co_author)

    assert messages(api_as(author).post(kudos_url(work), {})) == ["You can't leave kudos on your own work."]
    assert messages(api_as(co_author).post(kudos_url(work), {})) == ["You can't leave kudos on your own work."]
    assert stats(work)["kudos"] == 0


def test_it_refuses_kudos_on_a_draft(author: User, reader: User, make_work: MakeWork) -> None:
    draft = make_work(author, draft=True)

    # Its creator sees it and is told why; anyone else cannot see it at all.
    assert messages(api_as(author).post(kudos_url(draft), {})) == ["You can't leave kudos on a draft."]
    assert_not_found(api_as(reader).post(kudos_url(draft), {}))


def test_kudos_on_a_work_that_does_not_exist_is_a_404(reader: User) -> None:
    for work_id in ["999999", "0", "-1", str(2**63), str(HUGE), "abc"]:
        assert_not_found(api_as(reader).post(f"/api/v1/works/{work_id}/kudos", {}))


def test_kudos_on_a_restricted_work_needs_a_token(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author, restricted=True)

    # Guests cannot leave kudos through the API at all (the site's cookie is not an API
    # credential), so a guest learns nothing about the restricted work either.
    assert_needs_token(api_as().post(kudos_url(work), {}))
    assert api_as(reader).post(kudos_url(work), {}).status_code == 201


def test_kudos_without_a_valid_token_is_a_401(author: User, make_work: MakeWork) -> None:
    work = make_work(author)

    assert_needs_token(api_as().post(kudos_url(work), {}))
    assert api_as(authorization="Bearer cb_not-a-token").post(kudos_url(work), {}).status_code == 401
    assert stats(work)["kudos"] == 0


# Comments: reading -----------------------------------------------------------------------


def test_it_lists_comments_in_thread_order(author: User, reader: User, co_author: User, make_work: MakeWork) -> None:
    work = two_chapters(make_work, author)
    bob, carol = api_as(reader), api_as(co_author)
    first = post_comment(bob, work, "<p>First!</p>")
    second = post_comment(carol, work, "<p>On chapter two.</p>", chapter=2)
    reply = post_comment(carol, work, "<p>Agreed.</p>", parent=first["id"])
    deeper = post_comment(bob, work, "<p>Thanks.</p>", parent=reply["id"])
    later_reply = post_comment(api_as(author), work, "<p>Glad you liked it.</p>", parent=first["id"])
    reply_on_chapter = post_comment(bob, work, "<p>Me too.</p>", parent=second["id"])

    data = api_as().get(comments_url(work)).json()

    assert data["count"] == 6
    shape = [(c["id"], c["parent"], c["thread"], c["depth"], c["chapter"]) for c in data["items"]]
    assert shape == [
        (first["id"], None, first["id"], 0, None),
        (reply["id"], first["id"], first["id"], 1, None),
        (deeper["id"], reply["id"], first["id"], 2, None),
        (later_reply["id"], first["id"], first["id"], 1, None),
        (second["id"], None, second["id"], 0, 2),
        # A reply is on its parent's chapter.
        (reply_on_chapter["id"], second["id"], second["id"], 1, 2),
    ]


def test_a_comment_has_exactly_the_documented_fields(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    posted = post_comment(api_as(reader), work, "<p>The <em>gulls</em>!</p><script>alert(1)</script>")

    [listed] = api_as().get(comments_url(work)).json()["items"]

    assert listed == posted
    assert set(listed) == {
        "id", "url", "parent", "thread", "depth", "chapter", "author", "html", "status", "deleted", "created", "edited",
    }
    assert listed["author"] == {"pseud": "bob", "user": "bob", "guest": None}
    assert listed["html"] == "<p>The <em>gulls</em>!</p>"
    assert (listed["status"], listed["deleted"], listed["edited"]) == ("approved", False, None)
    assert listed["url"].endswith(comment_services.comment_url(listed["id"]))


def test_it_lists_one_chapters_comments(author: User, reader: User, make_work: MakeWork) -> None:
    work = two_chapters(make_work, author)
    post_comment(api_as(reader), work, "<p>On the whole work.</p>")
    on_two = post_comment(api_as(reader), work, "<p>On chapter two.</p>", chapter=2)

    data = api_as().get(comments_url(work), {"chapter": 2}).json()

    assert [c["id"] for c in data["items"]] == [on_two["id"]]
    no_such = api_as().get(comments_url(work), {"chapter": 3})
    assert no_such.status_code == 400
    assert no_such.json()["detail"] == [
        {"type": "value_error", "loc": ["query", "chapter"], "msg": "This work has no chapter 3."}
    ]
    assert api_as().get(comments_url(work), {"chapter": HUGE}).status_code == 400
    assert api_as().get(comments_url(work), {"chapter": 0}).status_code == 400


def test_it_pages_comments(author: User, reader: User, make_work: MakeWork, settings: Any) -> None:
    settings.CHAPBOOK_COMMENT_RATE_NEW_USER = 1000
    work = make_work(author)
    for n in range(52):
        post_comment(api_as(reader), work, f"<p>Comment {n}</p>")

    first = api_as().get(comments_url(work)).json()
    second = api_as().get(comments_url(work), {"page": 2}).json()
    beyond = api_as().get(comments_url(work), {"page": HUGE})

    assert (first["count"], len(first["items"])) == (52, 50)
    assert [c["html"] for c in second["items"]] == ["<p>Comment 50</p>", "<p>Comment 51</p>"]
    assert beyond.status_code < 500
    assert api_as().get(comments_url(work), {"page": 0}).status_code == 400


def test_held_comments_show_only_to_their_writer_and_the_creator(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author, moderate_comments=True)

    held = post_comment(api_as(reader), work, "<p>Please approve me.</p>")
    by_creator = post_comment(api_as(author), work, "<p>A note from me.</p>")

    assert held["status"] == "held"
    # Creators' own comments never wait.
    assert by_creator["status"] == "approved"
    seen_by = {
        "guest": api_as().get(comments_url(work)).json(),
        "other reader": api_as(co_author).get(comments_url(work)).json(),
        "writer": api_as(reader).get(comments_url(work)).json(),
        "creator": api_as(author).get(comments_url(work)).json(),
    }
    ids = {who: [c["id"] for c in page["items"]] for who, page in seen_by.items()}
    assert ids == {
        "guest": [by_creator["id"]],
        "other reader": [by_creator["id"]],
        "writer": [held["id"], by_creator["id"]],
        "creator": [held["id"], by_creator["id"]],
    }
    assert seen_by["writer"]["items"][0]["status"] == "held"
    assert stats(work)["comments"] == 1


def test_comments_of_a_work_one_may_not_see_are_a_404(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    restricted = make_work(author, title="Members", restricted=True)
    draft = make_work(author, title="Unfinished", draft=True)

    assert_not_found(api_as().get(comments_url(restricted)))
    assert_not_found(api_as().post(comments_url(restricted), guest_body()))
    assert api_as(reader).get(comments_url(restricted)).status_code == 200
    assert_not_found(api_as(reader).get(comments_url(draft)))
    assert_not_found(api_as(reader).post(comments_url(draft), {"text": "Hello"}))
    for work_id in ["999999", "0", str(2**63), str(HUGE)]:
        assert_not_found(api_as().get(f"/api/v1/works/{work_id}/comments"))
        assert_not_found(api_as(co_author).post(f"/api/v1/works/{work_id}/comments", {"text": "Hello"}))


# Comments: posting ---------------------------------------------------------------------


def test_a_guest_comments_with_a_name_and_email_that_is_never_shown(
    author: User, reader: User, make_work: MakeWork
) -> None:
    work = make_work(author)
    email = "wren.secret@example.net"

    posted = api_as().post(comments_url(work), guest_body("<p>From a guest.</p>", email=email, notify_replies=True))
    reply = api_as(reader).post(comments_url(work), {"text": "Hello, Wren.", "parent": posted.json()["id"]})
    responses = [
        posted,
        reply,
        api_as().get(comments_url(work)),
        api_as(reader).get(comments_url(work)),
        api_as(author).get(comments_url(work)),
        api_as(author).get("/api/v1/inbox"),
        api_as(author).get(f"/api/v1/works/{work.pk}"),
    ]

    assert posted.status_code == 201
    assert posted.json()["author"] == {"pseud": None, "user": None, "guest": "Wren"}
    assert Comment.objects.get(pk=posted.json()["id"]).guest_email == email
    for response in responses:
        assert response.status_code in {200, 201}
        assert b"wren.secret" not in response.content
        assert b"example.net" not in response.content


def test_a_guest_must_give_a_name_and_a_valid_email(author: User, make_work: MakeWork) -> None:
    work = make_work(author)

    response = api_as().post(comments_url(work), {"text": "Hi", "name": " ", "email": "not an address"})
    missing = api_as().post(comments_url(work), {"text": "Hi"})

    # The errors name the body's own fields, not the service's.
    assert sorted(map(tuple, fields(response))) == [("body", "email"), ("body", "name")]
    assert sorted(map(tuple, fields(missing))) == [("body", "email"), ("body", "name")]
    assert Comment.objects.count() == 0


def test_a_user_comments_as_one_of_their_pseuds(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    Pseud.objects.create(user=reader, name="Sandpiper")

    posted = post_comment(api_as(reader), work, pseud="sandpiper")
    not_mine = api_as(reader).post(comments_url(work), {"text": "Hi", "pseud": "alice"})

    assert posted["author"] == {"pseud": "Sandpiper", "user": "bob", "guest": None}
    assert fields(not_mine) == [["body", "pseud"]]


def test_a_reply_joins_its_parents_thread(author: User, reader: User, make_work: MakeWork) -> None:
    work = two_chapters(make_work, author)
    top = post_comment(api_as(reader), work, chapter=2)

    reply = post_comment(api_as(author), work, "<p>Thank you!</p>", parent=top["id"])

    assert (reply["parent"], reply["thread"], reply["depth"], reply["chapter"]) == (top["id"], top["id"], 1, 2)


def test_it_refuses_a_reply_to_a_deleted_comment(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author)
    kept = post_comment(api_as(reader), work, "<p>Kept as a placeholder.</p>")
    post_comment(api_as(co_author), work, parent=kept["id"])
    gone = post_comment(api_as(reader), work, "<p>Gone entirely.</p>")
    for pk in (kept["id"], gone["id"]):
        comment_services.delete_comment(Comment.objects.get(pk=pk), by=reader)

    to_placeholder = api_as(co_author).post(comments_url(work), {"text": "Hi", "parent": kept["id"]})
    to_nothing = api_as(co_author).post(comments_url(work), {"text": "Hi", "parent": gone["id"]})
    to_huge = api_as(co_author).post(comments_url(work), {"text": "Hi", "parent": HUGE})

    assert messages(to_placeholder) == ["That comment was deleted."]
    assert messages(to_nothing) == ["There is no such comment."]
    assert fields(to_nothing) == [["body", "parent"]]
    assert to_huge.status_code == 422


def test_it_refuses_a_reply_to_a_comment_on_another_work(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author)
    other = make_work(author, title="Another Harbour")
    elsewhere = post_comment(api_as(reader), other)

    response = api_as(co_author).post(comments_url(work), {"text": "Hi", "parent": elsewhere["id"]})

    assert messages(response) == ["That comment is not on this work."]
    assert not Comment.objects.filter(work=work).exists()


def test_it_refuses_a_reply_to_a_held_comment_from_a_reader(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author, moderate_comments=True)
    held = post_comment(api_as(reader), work)

    from_reader = api_as(co_author).post(comments_url(work), {"text": "Hi", "parent": held["id"]})
    from_creator = api_as(author).post(comments_url(work), {"text": "Thanks!", "parent": held["id"]})

    assert messages(from_reader) == [comment_services.PARENT_HELD]
    # A creator's reply approves the comment it answers.
    assert from_creator.status_code == 201
    assert [c["status"] for c in api_as().get(comments_url(work)).json()["items"]] == ["approved", "approved"]


@pytest.mark.parametrize("text", ["", "   ", "<p> </p>", "<script>alert(1)</script>"])
def test_it_refuses_an_empty_comment(text: str, author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)

    response = api_as(reader).post(comments_url(work), {"text": text})

    assert messages(response) == [comment_services.EMPTY]
    assert fields(response) == [["body", "text"]]


def test_it_refuses_a_comment_without_text(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)

    assert fields(api_as(reader).post(comments_url(work), {})) == [["body", "text"]]
    assert fields(api_as(reader).post(comments_url(work), {"text": None})) == [["body", "text"]]


def test_it_takes_ten_thousand_characters_and_not_one_more(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)

    longest = api_as(reader).post(comments_url(work), {"text": "a" * LONGEST})
    too_long = api_as(reader).post(comments_url(work), {"text": "a" * (LONGEST + 1)})

    assert longest.status_code == 201
    assert messages(too_long) == ["Comments can be at most 10,000 characters long; yours has 10,001."]
    assert fields(too_long) == [["body", "text"]]


def test_it_refuses_comments_when_the_creator_turned_them_off(
    author: User, reader: User, make_work: MakeWork
) -> None:
    work = make_work(author, comment_permission="off")

    assert messages(api_as(reader).post(comments_url(work), {"text": "Hi"})) == [comment_services.COMMENTS_OFF]
    assert messages(api_as().post(comments_url(work), guest_body())) == [comment_services.COMMENTS_OFF]
    assert api_as().get(comments_url(work)).status_code == 200


def test_it_refuses_guests_when_only_users_may_comment(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author, comment_permission="users")

    as_guest = api_as().post(comments_url(work), guest_body())

    # A guest may see the work, so it is no 404: the service's reason, as a JSON 4xx.
    assert messages(as_guest) == [comment_services.USERS_ONLY]
    assert as_guest["Content-Type"] == "application/json; charset=utf-8"
    assert api_as(reader).post(comments_url(work), {"text": "Hi"}).status_code == 201


def test_a_user_commenting_too_fast_gets_a_429_with_retry_after(
    author: User, reader: User, make_work: MakeWork, settings: Any
) -> None:
    settings.CHAPBOOK_COMMENT_RATE_NEW_USER = 2
    settings.CHAPBOOK_COMMENT_RATE_USER = 2
    work = make_work(author)
    caller = api_as(reader)
    post_comment(caller, work)
    post_comment(caller, work)

    response = caller.post(comments_url(work), {"text": "<p>One more.</p>"})

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert int(response["Retry-After"]) > 0
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "Try again in" in detail
    assert Comment.objects.filter(work=work).count() == 2
    # Someone else is not held back by Bob's speed.
    assert api_as(author).post(comments_url(work), {"text": "Hi"}).status_code == 201


def test_a_guest_commenting_too_fast_gets_a_429(author: User, make_work: MakeWork, settings: Any) -> None:
    settings.CHAPBOOK_COMMENT_RATE_GUEST = 1
    work = make_work(author)
    api_as().post(comments_url(work), guest_body())

    response = api_as().post(comments_url(work), guest_body("<p>Again.</p>"))

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Try again in" in response.json()["detail"]


def test_a_refused_comment_does_not_use_up_the_allowance(
    author: User, reader: User, make_work: MakeWork, settings: Any
) -> None:
    settings.CHAPBOOK_COMMENT_RATE_NEW_USER = 1
    work = make_work(author)
    caller = api_as(reader)

    assert caller.post(comments_url(work), {"text": ""}).status_code == 422
    assert caller.post(comments_url(work), {"text": "Hi"}).status_code == 201


# Bookmarks -----------------------------------------------------------------------------


def test_it_bookmarks_a_work(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)

    response = api_as(reader).post(
        "/api/v1/bookmarks", {"work": work.pk, "notes": "<p>Read <b>this</b>.</p>", "tags": ["Gulls", "Cosy"], "rec": True}
    )

    assert response.status_code == 201
    data = response.json()
    assert set(data) == {"id", "work", "series", "pseud", "notes", "tags", "private", "rec", "created", "updated"}
    assert (data["work"], data["series"], data["pseud"]) == (work.pk, None, "bob")
    assert data["notes"] == "<p>Read <b>this</b>.</p>"
    assert data["tags"] == ["Cosy", "Gulls"]
    assert (data["private"], data["rec"]) == (False, True)
    assert stats(work)["bookmarks"] == 1


def test_bookmarking_again_edits_the_same_bookmark(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    caller = api_as(reader)
    first = caller.post("/api/v1/bookmarks", {"work": work.pk, "notes": "Good.", "tags": ["Gulls"]}).json()

    second = caller.post("/api/v1/bookmarks", {"work": work.pk, "notes": "Even better.", "tags": ["Tides"]})

    assert second.status_code in {200, 201}
    assert second.json()["id"] == first["id"]
    assert second.json()["tags"] == ["Tides"]
    assert "Even better." in second.json()["notes"]
    assert Bookmark.objects.filter(work=work).count() == 1
    assert stats(work)["bookmarks"] == 1
    assert caller.get("/api/v1/bookmarks").json()["count"] == 1


def test_a_private_bookmark_is_listed_only_for_its_owner(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author)
    mine = api_as(reader).post("/api/v1/bookmarks", {"work": work.pk, "private": True}).json()

    own = api_as(reader).get("/api/v1/bookmarks").json()
    others = api_as(co_author).get("/api/v1/bookmarks", {"work": work.pk}).json()
    creators = api_as(author).get("/api/v1/bookmarks", {"work": work.pk}).json()

    assert [b["id"] for b in own["items"]] == [mine["id"]]
    assert own["items"][0]["private"] is True
    assert others == {"count": 0, "items": []}
    assert creators == {"count": 0, "items": []}
    # Public bookmarks only, as AO3's blurbs count them.
    assert stats(work)["bookmarks"] == 0


def test_it_lists_ones_own_bookmarks_newest_first_and_by_work(
    author: User, reader: User, make_work: MakeWork
) -> None:
    older, newer = make_work(author, title="Older"), make_work(author, title="Newer")
    caller = api_as(reader)
    caller.post("/api/v1/bookmarks", {"work": older.pk})
    caller.post("/api/v1/bookmarks", {"work": newer.pk})

    everything = caller.get("/api/v1/bookmarks").json()
    one = caller.get("/api/v1/bookmarks", {"work": older.pk}).json()

    assert [b["work"] for b in everything["items"]] == [newer.pk, older.pk]
    assert [b["work"] for b in one["items"]] == [older.pk]
    assert caller.get("/api/v1/bookmarks", {"work": HUGE}).status_code < 500


def test_it_bookmarks_a_series(author: User, reader: User, make_work: MakeWork) -> None:
    series = series_of(author, make_work(author))

    response = api_as(reader).post("/api/v1/bookmarks", {"series": series.pk, "notes": "All of it."})

    assert response.status_code == 201
    assert (response.json()["work"], response.json()["series"]) == (None, series.pk)


def test_bookmarking_what_one_may_not_see_is_a_404(
    author: User, reader: User, make_work: MakeWork
) -> None:
    draft = make_work(author, title="Unfinished", draft=True)
    hidden_series = series_of(author, draft, title="Secret")
    caller = api_as(reader)

    for body in [{"work": draft.pk}, {"work": 999_999}, {"series": hidden_series.pk}, {"series": 999_999}]:
        assert_not_found(caller.post("/api/v1/bookmarks", body))
    assert fields(caller.post("/api/v1/bookmarks", {"work": HUGE})) == [["body", "work"]]
    assert not Bookmark.objects.exists()


def test_a_creator_cannot_bookmark_their_own_draft(author: User, make_work: MakeWork) -> None:
    draft = make_work(author, draft=True)

    assert messages(api_as(author).post("/api/v1/bookmarks", {"work": draft.pk})) == [
        "Drafts cannot be bookmarked; post the work first."
    ]


def test_a_bookmark_needs_a_work_or_a_series_but_not_both(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    series = series_of(author, work)

    both = api_as(reader).post("/api/v1/bookmarks", {"work": work.pk, "series": series.pk})
    neither = api_as(reader).post("/api/v1/bookmarks", {"notes": "What?"})

    assert messages(both) == ["Value error, Give either `work` or `series`."]
    assert fields(neither) == [["body"]]
    assert not Bookmark.objects.exists()


def test_it_refuses_bad_bookmark_fields(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    caller = api_as(reader)

    assert fields(caller.post("/api/v1/bookmarks", {"work": work.pk, "notes": "x" * 5001})) == [["body", "notes"]]
    assert fields(caller.post("/api/v1/bookmarks", {"work": work.pk, "tags": ["x" * 200]})) == [["body", "tags"]]
    assert fields(caller.post("/api/v1/bookmarks", {"work": work.pk, "pseud": "alice"})) == [["body", "pseud"]]
    assert fields(caller.post("/api/v1/bookmarks", {"work": work.pk, "private": "perhaps"})) == [["body", "private"]]
    assert not Bookmark.objects.exists()


def test_it_deletes_ones_own_bookmark(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    caller = api_as(reader)
    mark = caller.post("/api/v1/bookmarks", {"work": work.pk}).json()

    response = caller.delete(f"/api/v1/bookmarks/{mark['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert caller.get("/api/v1/bookmarks").json() == {"count": 0, "items": []}
    assert stats(work)["bookmarks"] == 0
    assert_not_found(caller.delete(f"/api/v1/bookmarks/{mark['id']}"))


def test_someone_elses_bookmark_cannot_be_deleted(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author)
    mark = api_as(reader).post("/api/v1/bookmarks", {"work": work.pk}).json()

    assert_not_found(api_as(co_author).delete(f"/api/v1/bookmarks/{mark['id']}"))
    assert_not_found(api_as(author).delete(f"/api/v1/bookmarks/{mark['id']}"))
    for bookmark_id in ["999999", "0", str(HUGE)]:
        assert_not_found(api_as(co_author).delete(f"/api/v1/bookmarks/{bookmark_id}"))
    assert Bookmark.objects.filter(pk=mark["id"]).exists()


def test_bookmarks_need_a_token(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    mark = api_as(reader).post("/api/v1/bookmarks", {"work": work.pk}).json()

    assert_needs_token(api_as().get("/api/v1/bookmarks"))
    assert_needs_token(api_as().post("/api/v1/bookmarks", {"work": work.pk}))
    assert_needs_token(api_as().delete(f"/api/v1/bookmarks/{mark['id']}"))


# Subscriptions -------------------------------------------------------------------------


def test_it_subscribes_to_a_work_once(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    caller = api_as(reader)

    first = caller.post("/api/v1/subscriptions", {"work": work.pk})
    again = caller.post("/api/v1/subscriptions", {"work": work.pk})

    assert first.status_code == 201
    data = first.json()
    assert set(data) == {"id", "work", "series", "creator", "created"}
    assert (data["work"], data["series"], data["creator"]) == (work.pk, None, None)
    assert again.status_code in {200, 201}
    assert again.json() == data
    assert Subscription.objects.filter(user=reader).count() == 1
    assert stats(work)["subscriptions"] == 1


def test_it_subscribes_to_a_series_and_a_creator(author: User, reader: User, make_work: MakeWork) -> None:
    series = series_of(author, make_work(author))
    caller = api_as(reader)

    to_series = caller.post("/api/v1/subscriptions", {"series": series.pk}).json()
    to_creator = caller.post("/api/v1/subscriptions", {"creator": "ALICE"}).json()
    listed = caller.get("/api/v1/subscriptions").json()

    assert (to_series["series"], to_series["work"], to_series["creator"]) == (series.pk, None, None)
    assert (to_creator["creator"], to_creator["work"], to_creator["series"]) == ("alice", None, None)
    assert listed["count"] == 2
    assert {s["id"] for s in listed["items"]} == {to_series["id"], to_creator["id"]}
    assert api_as(author).get("/api/v1/subscriptions").json() == {"count": 0, "items": []}


def test_it_refuses_subscribing_to_ones_own(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    series = series_of(author, work)
    caller = api_as(author)

    assert messages(caller.post("/api/v1/subscriptions", {"work": work.pk})) == ["You cannot subscribe to your own work."]
    assert messages(caller.post("/api/v1/subscriptions", {"series": series.pk})) == [
        "You cannot subscribe to your own series."
    ]
    assert messages(caller.post("/api/v1/subscriptions", {"creator": "alice"})) == ["You cannot subscribe to yourself."]
    assert not Subscription.objects.exists()


def test_subscribing_to_what_one_may_not_see_is_a_404(author: User, reader: User, make_work: MakeWork) -> None:
    draft = make_work(author, draft=True)
    hidden_series = series_of(author, draft)
    inactive = make_user("gone", is_active=False)
    caller = api_as(reader)

    for body in [
        {"work": draft.pk},
        {"work": 999_999},
        {"series": hidden_series.pk},
        {"creator": "nobody-at-all"},
        {"creator": inactive.username},
        {"creator": ""},
    ]:
        assert_not_found(caller.post("/api/v1/subscriptions", body))
    assert not Subscription.objects.exists()


def test_a_subscription_has_exactly_one_target(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    caller = api_as(reader)

    assert fields(caller.post("/api/v1/subscriptions", {})) == [["body"]]
    assert fields(caller.post("/api/v1/subscriptions", {"work": work.pk, "creator": "alice"})) == [["body"]]
    assert fields(caller.post("/api/v1/subscriptions", {"work": HUGE})) == [["body", "work"]]


def test_it_unsubscribes(author: User, reader: User, co_author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    caller = api_as(reader)
    subscription = caller.post("/api/v1/subscriptions", {"work": work.pk}).json()

    assert_not_found(api_as(co_author).delete(f"/api/v1/subscriptions/{subscription['id']}"))
    assert stats(work)["subscriptions"] == 1
    response = caller.delete(f"/api/v1/subscriptions/{subscription['id']}")

    assert response.status_code == 204
    assert caller.get("/api/v1/subscriptions").json() == {"count": 0, "items": []}
    assert stats(work)["subscriptions"] == 0
    assert_not_found(caller.delete(f"/api/v1/subscriptions/{subscription['id']}"))
    assert_not_found(caller.delete(f"/api/v1/subscriptions/{HUGE}"))


def test_subscriptions_need_a_token(author: User, make_work: MakeWork) -> None:
    work = make_work(author)

    assert_needs_token(api_as().get("/api/v1/subscriptions"))
    assert_needs_token(api_as().post("/api/v1/subscriptions", {"work": work.pk}))
    assert_needs_token(api_as().delete("/api/v1/subscriptions/1"))


# Inbox ---------------------------------------------------------------------------------


def test_the_inbox_tells_a_creator_of_comments_and_kudos(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    comment = post_comment(api_as(reader), work, "<p>Lovely.</p>")
    api_as(reader).post(kudos_url(work), {})

    data = api_as(author).get("/api/v1/inbox").json()

    assert (data["count"], data["unread"]) == (2, 2)
    by_kind = {item["kind"]: item for item in data["items"]}
    assert set(by_kind) == {"comment", "kudos"}
    said = by_kind["comment"]
    assert set(said) == {"id", "kind", "actor", "text", "url", "count", "work", "comment", "created", "read"}
    assert (said["actor"], said["work"], said["comment"], said["read"]) == ("bob", work.pk, comment["id"], False)
    assert said["text"] == f"commented on {work.title}"
    assert said["url"] == comment["url"]
    assert (by_kind["kudos"]["actor"], by_kind["kudos"]["count"]) == ("bob", 1)
    # Newest first.
    assert [item["kind"] for item in data["items"]] == ["kudos", "comment"]
    assert api_as(reader).get("/api/v1/inbox").json() == {"count": 0, "unread": 0, "items": []}


def test_the_inbox_tells_a_subscriber_of_a_new_chapter(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author, title="Low Water")
    api_as(reader).post("/api/v1/subscriptions", {"work": work.pk})

    added = api_as(author).post(f"/api/v1/works/{work.pk}/chapters", {"text": "<p>More tide.</p>"})
    data = api_as(reader).get("/api/v1/inbox").json()

    assert added.status_code == 201
    [item] = data["items"]
    assert (item["kind"], item["work"], item["text"]) == ("subscription", work.pk, "Low Water: Chapter 2 posted")
    assert item["url"].endswith(Chapter.objects.get(work=work, position=2).get_absolute_url())


def test_the_inbox_filters_unread_and_marks_read(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author)
    for who in (reader, co_author):
        post_comment(api_as(who), work)
    caller = api_as(author)
    newest, oldest = [item["id"] for item in caller.get("/api/v1/inbox").json()["items"]]

    marked = caller.post("/api/v1/inbox/read", {"ids": [oldest]})
    unread = caller.get("/api/v1/inbox", {"unread": "true"}).json()

    assert marked.status_code == 200
    assert (marked.json()["count"], marked.json()["unread"]) == (2, 1)
    assert {item["id"]: item["read"] for item in marked.json()["items"]} == {newest: False, oldest: True}
    assert [item["id"] for item in unread["items"]] == [newest]
    assert unread["unread"] == 1

    everything = caller.post("/api/v1/inbox/read", {})
    assert everything.status_code == 200
    assert everything.json()["unread"] == 0
    assert caller.get("/api/v1/inbox", {"unread": "true"}).json()["items"] == []


def test_marking_read_leaves_other_peoples_notifications_alone(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    alices = make_work(author)
    bobs = make_work(reader, title="Bob's Own")
    post_comment(api_as(co_author), alices)
    post_comment(api_as(co_author), bobs)
    bobs_row = Notification.objects.get(user=reader)

    response = api_as(author).post("/api/v1/inbox/read", {"ids": [bobs_row.pk]})
    all_of_alices = api_as(author).post("/api/v1/inbox/read", {})

    assert response.status_code == 200
    assert response.json()["unread"] == 1
    assert all_of_alices.json()["unread"] == 0
    bobs_row.refresh_from_db()
    assert bobs_row.read_at is None
    assert api_as(reader).get("/api/v1/inbox").json()["unread"] == 1


def test_marking_read_refuses_ids_that_cannot_exist(author: User) -> None:
    caller = api_as(author)

    for body in [{"ids": [HUGE]}, {"ids": [-1]}, {"ids": ["x"]}, {"ids": 5}]:
        response = caller.post("/api/v1/inbox/read", body)
        assert response.status_code == 422, body
        assert fields(response)[0][:2] == ["body", "ids"]


def test_the_inbox_needs_a_token(db: None) -> None:
    assert_needs_token(api_as().get("/api/v1/inbox"))
    assert_needs_token(api_as().post("/api/v1/inbox/read", {}))


def test_the_inbox_pages(author: User, reader: User, make_work: MakeWork) -> None:
    Notification.objects.bulk_create(
        [Notification(user=author, kind=NotificationKind.COMMENT, text=f"note {n}") for n in range(55)]
    )

    second = api_as(author).get("/api/v1/inbox", {"page": 2}).json()

    assert (second["count"], len(second["items"]), second["unread"]) == (55, 5, 55)
    assert api_as(author).get("/api/v1/inbox", {"page": HUGE}).status_code < 500


def test_the_inbox_never_links_off_the_site(author: User) -> None:
    for url in ["https://elsewhere.example/", "//elsewhere.example/", "/\\elsewhere.example/"]:
        Notification.objects.create(user=author, kind=NotificationKind.COMMENT, text="x", url=url)

    items = api_as(author).get("/api/v1/inbox").json()["items"]

    assert [item["url"] for item in items] == [None, None, None]


# The work's stats and comment settings ---------------------------------------------------


def test_work_stats_match_the_feedback_left(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author)
    sam = make_user("sam")
    for who in (reader, co_author, sam):
        assert api_as(who).post(kudos_url(work), {}).status_code == 201
    thread = post_comment(api_as(reader), work)
    post_comment(api_as(co_author), work, parent=thread["id"])
    api_as().post(comments_url(work), guest_body())
    api_as(reader).post("/api/v1/bookmarks", {"work": work.pk})
    api_as(co_author).post("/api/v1/bookmarks", {"work": work.pk, "private": True})
    api_as(reader).post("/api/v1/subscriptions", {"work": work.pk})
    api_as(sam).post("/api/v1/subscriptions", {"work": work.pk})
    for n in range(4):
        assert Client(REMOTE_ADDR=f"10.1.0.{n}", HTTP_USER_AGENT="Mozilla/5.0 Firefox/128.0").get(
            work.get_absolute_url()
        ).status_code == 200
    flush_hits.call()

    expected = {"kudos": 3, "comments": 3, "bookmarks": 1, "hits": 4, "subscriptions": 2}
    assert stats(work) == expected
    listed = api_as(reader).get("/api/v1/works").json()["items"]
    assert [item["stats"] for item in listed] == [expected]


def test_deleting_feedback_takes_it_off_the_stats(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    caller = api_as(reader)
    comment = post_comment(caller, work)
    mark = caller.post("/api/v1/bookmarks", {"work": work.pk}).json()
    subscription = caller.post("/api/v1/subscriptions", {"work": work.pk}).json()
    assert stats(work) == {"kudos": 0, "comments": 1, "bookmarks": 1, "hits": 0, "subscriptions": 1}

    comment_services.delete_comment(Comment.objects.get(pk=comment["id"]), by=reader)
    caller.delete(f"/api/v1/bookmarks/{mark['id']}")
    caller.delete(f"/api/v1/subscriptions/{subscription['id']}")

    assert stats(work) == {"kudos": 0, "comments": 0, "bookmarks": 0, "hits": 0, "subscriptions": 0}


def test_comment_settings_are_written_on_post_and_patch(author: User, reader: User) -> None:
    caller = api_as(author)

    posted = caller.post("/api/v1/works", new_work_body(comment_permission="users", moderate_comments=True))
    work_id = posted.json()["id"]
    patched = caller.patch(f"/api/v1/works/{work_id}", {"comment_permission": "off", "moderate_comments": False})

    assert posted.status_code == 201
    assert (posted.json()["comment_permission"], posted.json()["moderate_comments"]) == ("users", True)
    assert patched.status_code == 200
    assert (patched.json()["comment_permission"], patched.json()["moderate_comments"]) == ("off", False)
    work = Work.objects.get(pk=work_id)
    assert (work.comment_permission, work.moderate_comments) == ("off", False)
    assert messages(api_as(reader).post(comments_url(work_id), {"text": "Hi"})) == [comment_services.COMMENTS_OFF]
    # Left out, a setting stays as it was.
    kept = caller.patch(f"/api/v1/works/{work_id}", {"title": "Renamed"}).json()
    assert (kept["comment_permission"], kept["moderate_comments"]) == ("off", False)


def test_a_new_work_takes_comments_from_everyone_unmoderated(author: User) -> None:
    data = api_as(author).post("/api/v1/works", new_work_body()).json()

    assert (data["comment_permission"], data["moderate_comments"]) == ("everyone", False)


@pytest.mark.parametrize(
    "change",
    [
        {"comment_permission": "nobody"},
        {"comment_permission": "OFF"},
        {"comment_permission": 3},
        {"comment_permission": None},
        {"moderate_comments": "perhaps"},
        {"moderate_comments": None},
    ],
)
def test_bad_comment_settings_are_a_422(change: dict[str, Any], author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    caller = api_as(author)

    on_post = caller.post("/api/v1/works", new_work_body(**change))
    on_patch = caller.patch(f"/api/v1/works/{work.pk}", change)

    [name] = change
    assert fields(on_post)[0][:2] == ["body", name]
    assert fields(on_patch)[0][:2] == ["body", name]
    work.refresh_from_db()
    assert (work.comment_permission, work.moderate_comments) == ("everyone", False)


# The schema ------------------------------------------------------------------------------


def test_openapi_documents_the_feedback_routes(db: None) -> None:
    schema = json.loads(api_as().get("/api/v1/openapi.json").content)
    paths = schema["paths"]

    expected = {
        "/api/v1/works/{work_id}/kudos": {"post"},
        "/api/v1/works/{work_id}/comments": {"get", "post"},
        "/api/v1/bookmarks": {"get", "post"},
        "/api/v1/bookmarks/{bookmark_id}": {"delete"},
        "/api/v1/subscriptions": {"get", "post"},
        "/api/v1/subscriptions/{subscription_id}": {"delete"},
        "/api/v1/inbox": {"get"},
        "/api/v1/inbox/read": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
        for method in methods:
            operation = paths[path][method]
            assert operation["summary"], (path, method)
            assert "401" in operation["responses"] or operation.get("security") == [{"TokenAuth": []}, {}]
    # Guests may read and post comments; everything else needs the token.
    comments = paths["/api/v1/works/{work_id}/comments"]
    assert comments["get"]["security"] == [{"TokenAuth": []}, {}]
    assert comments["post"]["security"] == [{"TokenAuth": []}, {}]
    assert paths["/api/v1/works/{work_id}/kudos"]["post"]["security"] == [{"TokenAuth": []}]
    assert paths["/api/v1/bookmarks"]["post"]["security"] == [{"TokenAuth": []}]
    assert "429" in comments["post"]["responses"]
    assert "204" in paths["/api/v1/bookmarks/{bookmark_id}"]["delete"]["responses"]
    body = schema["components"]["schemas"]
    assert {"text", "chapter", "parent", "pseud", "name", "email", "notify_replies"} <= set(body["CommentIn"]["properties"])
    assert {"work", "series", "notes", "tags", "private", "rec", "pseud"} <= set(body["BookmarkIn"]["properties"])
    assert {"work", "series", "creator"} <= set(body["SubscriptionIn"]["properties"])
    # No guest's email in what a comment shows.
    assert "email" not in json.dumps(body["CommentOut"])


# Whatever a client sends, never a 500 ----------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**80)
    | st.integers(min_value=-(2**80), max_value=0)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["", "\x00", "a\x00b", " ", "<p>hi</p>", "alice", "bob", "x" * 300, "😀", "\ud7ff"])
)
VALUES = st.recursive(
    SCALARS, lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
BODY_KEYS = [
    "text", "chapter", "parent", "pseud", "name", "email", "notify_replies",
    "work", "series", "notes", "tags", "private", "rec", "creator", "ids",
]


def random_body(data: st.DataObject, real_ids: list[int]) -> Any:
    """A dict of the endpoints' own keys and random ones, with values of any JSON type,
    now and then an id that exists; sometimes not a dict at all."""
    value = VALUES | st.sampled_from(real_ids) | st.lists(st.sampled_from(real_ids), max_size=3)
    keys = st.sampled_from(BODY_KEYS) | st.text(max_size=10)
    return data.draw(st.dictionaries(keys, value, max_size=6) | VALUES, label="body")


@settings(
    max_examples=60,
    deadline=None,
    # The world (users, works, tokens) is built once per test and shared by its examples;
    # the examples add comments, bookmarks and subscriptions to it, which is the point.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_body_gets_a_500(author: User, reader: User, make_work: MakeWork, data: st.DataObject) -> None:
    work = Work.objects.filter(title="Fuzzed").first() or two_chapters(make_work, author, title="Fuzzed")
    series = Series.objects.filter(title="Fuzzed").first() or series_of(author, work, title="Fuzzed")
    comment = Comment.objects.filter(work=work).first() or comment_services.post_comment(
        work=work, by=author, text="Hello."
    )
    real_ids = [work.pk, series.pk, comment.pk, 1, 2]
    client = Client(raise_request_exception=False)
    callers = {"reader": api_as(reader).headers, "guest": {}}
    endpoint = data.draw(
        st.sampled_from([comments_url(work), "/api/v1/bookmarks", "/api/v1/subscriptions", kudos_url(work), "/api/v1/inbox/read"]),
        label="endpoint",
    )
    who = data.draw(st.sampled_from(sorted(callers)), label="caller")
    body = random_body(data, real_ids)

    response = client.post(endpoint, json.dumps(body), content_type="application/json", headers=callers[who])

    assert response.status_code < 500, (endpoint, body, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response.content[:200]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.dictionaries(st.sampled_from(["chapter", "page", "work", "unread"]), st.text(max_size=30) | st.integers().map(str)))
def test_no_query_string_gets_a_500(author: User, reader: User, make_work: MakeWork, query: dict[str, str]) -> None:
    work = make_work(author) if not Work.objects.exists() else Work.objects.get()
    client = Client(raise_request_exception=False)
    headers = api_as(reader).headers

    for url in [comments_url(work), "/api/v1/bookmarks", "/api/v1/subscriptions", "/api/v1/inbox"]:
        response = client.get(url, query, headers=headers)
        assert response.status_code < 500, (url, query, response.content[:500])


def test_a_body_that_is_not_json_is_a_400(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)
    headers = api_as(reader).headers
    client = Client(raise_request_exception=False)

    for url in [comments_url(work), "/api/v1/bookmarks", "/api/v1/subscriptions", "/api/v1/inbox/read"]:
        response = client.post(url, "{not json", content_type="application/json", headers=headers)
        assert response.status_code == 400, url
        assert "detail" in response.json()


def test_adding_a_chapter_through_the_service_notifies_subscribers(
    author: User, reader: User, make_work: MakeWork
) -> None:
    """The browser test's shortcut (the service, not the API) tells subscribers too."""
    work = make_work(author, expected_chapters=None)
    api_as(reader).post("/api/v1/subscriptions", {"work": work.pk})

    add_chapter(work, by=author, chapter=ChapterInput(text="<p>And then the tide turned.</p>"))

    assert api_as(reader).get("/api/v1/inbox").json()["unread"] == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("comments", {"text": "a\x00b"}),
        ("comments", {"text": "Hi", "pseud": "bo\x00b"}),
        ("guest-comments", {"text": "Hi", "name": "Wr\x00en", "email": "wren@example.net"}),
        ("guest-comments", {"text": "Hi", "name": "Wren", "email": "wr\x00en@example.net"}),
        ("bookmarks", {"notes": "a\x00b"}),
        ("bookmarks", {"tags": ["Gu\x00lls"]}),
        ("bookmarks", {"pseud": "bo\x00b"}),
        ("subscriptions", {"creator": "ali\x00ce"}),
    ],
)
def test_a_nul_character_in_any_text_is_no_500(
    path: str, body: dict[str, Any], author: User, reader: User, make_work: MakeWork
) -> None:
    """PostgreSQL refuses NUL in text, in a query as in a row: it must never get that far."""
    work = make_work(author)
    client = Client(raise_request_exception=False)
    url = {
        "comments": comments_url(work), "guest-comments": comments_url(work),
        "bookmarks": "/api/v1/bookmarks", "subscriptions": "/api/v1/subscriptions",
    }[path]
    if path == "bookmarks":
        body = {"work": work.pk, **body}
    headers = {} if path == "guest-comments" else api_as(reader).headers

    response = client.post(url, json.dumps(body), content_type="application/json", headers=headers)

    assert response.status_code == 422, response.content[:300]
