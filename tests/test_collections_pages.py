"""Collection pages: the index, a collection and its works, settings, moderators, the
moderation queue, the reveal, adding a work, and collections on the work page and form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chapbook.collections import services
from chapbook.collections.models import (
    Collection,
    CollectionItem,
    ItemStatus,
    Moderator,
)
from chapbook.people.models import User
from chapbook.works.models import Work
from tests.conftest import default_tags, listed_titles, make_user, queries_for

MakeWork = Callable[..., Work]
ClientFor = Callable[[User], Client]


@pytest.fixture
def moderator(db: None) -> User:
    """Mona runs the collections."""
    return make_user("mona")


def collection(by: User, name: str = "winter-fest", **fields: object) -> Collection:
    fields.setdefault("title", name.replace("-", " ").title())
    return services.create_collection(by=by, name=name, **fields)  # type: ignore[arg-type]


def add(where: Collection, work: Work, by: User) -> CollectionItem:
    return services.add_work(where, by=by, work=work)


def page(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------- index


def test_the_index_lists_every_collection_and_mine(moderator: User, reader: User, client_for: ClientFor) -> None:
    collection(moderator, "winter-fest")
    collection(reader, "summer-fest")

    guest = Client().get("/collections")
    mine = page(client_for(reader).get("/collections"))

    assert guest.status_code == 200
    assert "Winter Fest" in page(guest) and "Summer Fest" in page(guest)
    assert "My collections" not in page(guest)
    assert "My collections" in mine
    assert mine.index("Summer Fest") < mine.index("All collections")


def test_making_a_collection_needs_a_login(client: Client) -> None:
    response = client.get("/collections/new")

    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_a_reader_makes_a_collection_through_the_form(reader: User, client_for: ClientFor) -> None:
    response = client_for(reader).post(
        "/collections/new",
        {"name": "drabbles", "title": "Drabbles", "description": "<p>100 words</p>", "moderated": "on",
         "required_tag_types": ["fandom"]},
    )

    made = Collection.objects.get()
    assert response.status_code == 302 and response["Location"] == "/collections/drabbles"
    assert (made.owner, made.moderated, made.required_tag_types) == (reader, True, "fandom")


def test_the_form_says_what_is_wrong_with_a_name(moderator: User, reader: User, client_for: ClientFor) -> None:
    collection(moderator, "drabbles")

    response = client_for(reader).post("/collections/new", {"name": "Drabbles", "title": "Mine"})

    assert response.status_code == 200
    assert "There is already a collection called “Drabbles”." in page(response)
    assert Collection.objects.count() == 1


# ---------------------------------------------------------------------------- a collection


def test_an_unknown_collection_is_a_404(db: None, client: Client) -> None:
    assert client.get("/collections/nowhere").status_code == 404


def test_the_collection_page_shows_its_settings_moderators_and_subcollections(
    moderator: User, reader: User, client: Client
) -> None:
    made = collection(moderator, description="<p>Stories of <em>snow</em></p>", moderated=True, anonymous=True)
    Moderator.objects.create(collection=made, user=reader, accepted=True)
    Moderator.objects.create(collection=made, user=make_user("pending"), accepted=False)
    collection(moderator, "round-1", title="Round One", parent=made)

    content = page(client.get("/collections/winter-fest"))

    assert "<p>Stories of <em>snow</em></p>" in content
    assert "Moderated" in content and "Anonymous" in content and "Open" in content
    assert 'href="/users/bob' in content and "pending" not in content
    assert 'href="/collections/round-1">Round One</a>' in content


def test_the_collection_lists_only_its_approved_works(
    moderator: User, author: User, make_work: MakeWork, client: Client
) -> None:
    made = collection(moderator, moderated=True)
    approved, waiting, declined = (make_work(author, title=t) for t in ("Approved", "Waiting", "Declined"))
    make_work(author, title="Elsewhere")
    services.approve_item(add(made, approved, author), by=moderator)
    add(made, waiting, author)
    services.reject_item(add(made, declined, author), by=moderator)

    response = client.get("/collections/winter-fest")

    assert listed_titles(response) == ["Approved"]
    assert "1 Work in Winter Fest" in page(response)


def test_the_collection_listing_takes_the_filters(
    moderator: User, author: User, make_work: MakeWork, client: Client
) -> None:
    made = collection(moderator)
    add(made, make_work(author, title="Gentle"), author)
    add(made, make_work(author, title="Spicy", tags=default_tags(ratings=["Explicit"])), author)
    make_work(author, title="Spicy Elsewhere", tags=default_tags(ratings=["Explicit"]))

    response = client.get("/collections/winter-fest", {"rating": "Explicit"})

    assert listed_titles(response) == ["Spicy"]
    assert 'action="/collections/winter-fest"' in page(response)


def test_the_collection_lists_its_subcollections_works(
    moderator: User, author: User, make_work: MakeWork, client: Client
) -> None:
    parent = collection(moderator, "meme")
    child = collection(moderator, "round-1", parent=parent)
    add(parent, make_work(author, title="In the meme"), author)
    add(child, make_work(author, title="In round one"), author)

    assert sorted(listed_titles(client.get("/collections/meme"))) == ["In round one", "In the meme"]
    assert listed_titles(client.get("/collections/round-1")) == ["In round one"]


def test_unrevealed_works_are_shown_to_moderators_and_creators_only(
    moderator: User, author: User, reader: User, make_work: MakeWork, client: Client, client_for: ClientFor
) -> None:
    made = collection(moderator, unrevealed=True)
    add(made, make_work(author, title="A Secret Gift"), author)

    assert "A Secret Gift" not in page(client.get("/collections/winter-fest"))
    assert "A Secret Gift" not in page(client_for(reader).get("/collections/winter-fest"))
    for insider in (moderator, author):
        content = page(client_for(insider).get("/collections/winter-fest"))
        assert "Not revealed yet (1)" in content and "A Secret Gift" in content

    services.reveal(made, by=moderator)
    assert listed_titles(client.get("/collections/winter-fest")) == ["A Secret Gift"]


def test_the_collection_page_costs_as_many_queries_for_ten_works_as_for_two(
    moderator: User, author: User, make_work: MakeWork, client: Client
) -> None:
    made = collection(moderator)
    for number in range(2):
        add(made, make_work(author, title=f"Work {number}", tags=default_tags(freeforms=[f"Tag {number}"])), author)
    client.get("/collections/winter-fest")
    two = queries_for(client, "/collections/winter-fest")
    for number in range(2, 10):
        writer = make_user(f"writer{number}")
        add(made, make_work(writer, title=f"Work {number}", tags=default_tags(freeforms=[f"Tag {number}"])), writer)
    client.get("/collections/winter-fest")

    assert queries_for(client, "/collections/winter-fest") == two
    assert len(listed_titles(client.get("/collections/winter-fest"))) == 10


# ---------------------------------------------------------------------------- settings


def test_moderators_edit_the_settings_and_others_may_not(
    moderator: User, reader: User, client_for: ClientFor
) -> None:
    made = collection(moderator)

    assert client_for(reader).get("/collections/winter-fest/edit").status_code == 403
    form = client_for(moderator).get("/collections/winter-fest/edit")
    assert 'value="Winter Fest"' in page(form)
    response = client_for(moderator).post(
        "/collections/winter-fest/edit", {"title": "Winter Festival", "closed": "on", "description": "Cold."}
    )

    made.refresh_from_db()
    assert response.status_code == 302
    assert (made.title, made.closed, made.description) == ("Winter Festival", True, "Cold.")


def test_the_owner_deletes_a_collection_after_confirming(moderator: User, client_for: ClientFor) -> None:
    collection(moderator)
    owner = client_for(moderator)

    assert "Delete “Winter Fest”?" in page(owner.get("/collections/winter-fest/delete"))
    assert owner.post("/collections/winter-fest/delete").status_code == 302
    assert not Collection.objects.exists()


# -------------------------------------------------------------------------- moderators


def test_the_owner_invites_a_moderator_who_accepts(moderator: User, reader: User, client_for: ClientFor) -> None:
    made = collection(moderator)

    response = client_for(moderator).post("/collections/winter-fest/moderators", {"username": "BOB"})
    assert response.status_code == 302
    invitation = Moderator.objects.get()
    assert "Winter Fest" in page(client_for(reader).get("/collections/invitations"))

    client_for(reader).post(f"/collections/invitations/{invitation.pk}", {"answer": "accept"})

    assert Moderator.objects.get().accepted
    assert client_for(reader).get("/collections/winter-fest/items").status_code == 200
    assert made.pk


def test_inviting_nobody_is_a_form_error(moderator: User, client_for: ClientFor) -> None:
    collection(moderator)

    response = client_for(moderator).post("/collections/winter-fest/moderators", {"username": "nobody"})

    assert "There is no user called “nobody”." in page(response)


def test_someone_elses_invitation_is_a_404(moderator: User, reader: User, co_author: User, client_for: ClientFor) -> None:
    made = collection(moderator)
    invitation = services.invite_moderator(made, by=moderator, user=reader)

    response = client_for(co_author).post(f"/collections/invitations/{invitation.pk}", {"answer": "accept"})

    assert response.status_code == 404
    assert not Moderator.objects.get().accepted


# ---------------------------------------------------------------------- moderation queue


def test_moderators_approve_and_reject_from_the_queue(
    moderator: User, author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    made = collection(moderator, moderated=True)
    first, second = make_work(author, title="First"), make_work(author, title="Second")
    first_item, second_item = add(made, first, author), add(made, second, author)

    assert client_for(reader).get("/collections/winter-fest/items").status_code == 403
    queue = page(client_for(moderator).get("/collections/winter-fest/items"))
    assert "First" in queue and "Second" in queue

    mod = client_for(moderator)
    mod.post(f"/collections/winter-fest/items/{first_item.pk}/approve")
    mod.post(f"/collections/winter-fest/items/{second_item.pk}/reject")

    statuses = dict(CollectionItem.objects.values_list("work__title", "status"))
    assert statuses == {"First": ItemStatus.APPROVED, "Second": ItemStatus.REJECTED}
    assert "Nothing is waiting for approval." in page(mod.get("/collections/winter-fest/items"))
    assert "Second" in page(mod.get("/collections/winter-fest/items?status=rejected"))


def test_the_queue_names_no_creator_of_an_anonymous_work(
    moderator: User, author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    made = collection(moderator, moderated=True, anonymous=True)
    add(made, make_work(author, title="Masked"), author)

    queue = page(client_for(moderator).get("/collections/winter-fest/items"))

    assert "Masked" in queue and "Anonymous" in queue
    assert "alice" not in queue


def test_a_stranger_cannot_act_on_an_item(
    moderator: User, author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    made = collection(moderator, moderated=True)
    item = add(made, make_work(author), author)

    response = client_for(reader).post(f"/collections/winter-fest/items/{item.pk}/approve")

    assert response.status_code == 403
    assert CollectionItem.objects.get().status == ItemStatus.PENDING


# ---------------------------------------------------------------------------------- reveal


def test_moderators_reveal_now_and_schedule_from_the_reveal_page(
    moderator: User, author: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    made = collection(moderator, anonymous=True, unrevealed=True)
    work = make_work(author)
    add(made, work, author)
    mod = client_for(moderator)

    later = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    mod.post("/collections/winter-fest/reveal", {"action": "schedule", "creators_on": later})
    made.refresh_from_db()
    assert made.reveal_creators_on is not None and made.reveal_works_on is None

    mod.post("/collections/winter-fest/reveal", {"action": "now", "works": "on"})
    work.refresh_from_db()
    assert (work.unrevealed, work.anonymous) == (False, True)

    past = (timezone.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = mod.post("/collections/winter-fest/reveal", {"action": "schedule", "creators_on": past})
    assert "Choose a time in the future, or reveal now." in page(response)


def test_only_moderators_see_the_reveal_page(moderator: User, reader: User, client_for: ClientFor) -> None:
    collection(moderator, anonymous=True)

    assert client_for(reader).get("/collections/winter-fest/reveal").status_code == 403
    assert client_for(moderator).get("/collections/winter-fest/reveal").status_code == 200


# ------------------------------------------------------------------------------ adding works


def test_a_writer_adds_one_of_their_works(moderator: User, author: User, make_work: MakeWork, client_for: ClientFor) -> None:
    collection(moderator, moderated=True)
    work = make_work(author, title="Mine")
    make_work(moderator, title="Not Mine")
    writer = client_for(author)

    form = page(writer.get("/collections/winter-fest/add"))
    assert "Mine" in form and "Not Mine" not in form
    response = writer.post("/collections/winter-fest/add", {"work": work.pk}, follow=True)

    assert "“Mine” waits for the moderators" in page(response)
    assert CollectionItem.objects.get().status == ItemStatus.PENDING


def test_someone_elses_work_cannot_be_added(
    moderator: User, author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    collection(moderator)
    work = make_work(author)

    response = client_for(reader).post("/collections/winter-fest/add", {"work": work.pk})

    assert response.status_code == 200
    assert not CollectionItem.objects.exists()


def test_a_closed_collection_offers_no_form(moderator: User, author: User, make_work: MakeWork, client_for: ClientFor) -> None:
    collection(moderator, closed=True)
    work = make_work(author)

    response = client_for(author).post("/collections/winter-fest/add", {"work": work.pk})

    assert "This collection is closed" in page(response)
    assert not CollectionItem.objects.exists()


# ------------------------------------------------------------------- the work page and form


def test_the_work_page_names_its_collections_for_every_reader(
    moderator: User, author: User, make_work: MakeWork, client: Client, client_for: ClientFor
) -> None:
    collection(moderator, "winter-fest")
    queued = collection(moderator, "summer-fest", moderated=True)
    work = make_work(author)
    url = work.get_absolute_url()
    assert "In collections:" not in page(client.get(url))  # cached for guests at this version

    services.set_work_collections(work, by=author, names=["winter-fest", "summer-fest"])

    guest = page(client.get(url))
    assert 'In collections:</dt><dd><a href="/collections/winter-fest">Winter Fest</a>' in guest
    assert "Summer Fest" not in guest
    assert "waiting for the moderators" in page(client_for(author).get(url))

    services.approve_item(CollectionItem.objects.get(collection=queued), by=moderator)
    assert "Summer Fest" in page(client.get(url))


def test_the_work_form_adds_the_work_to_collections(
    moderator: User, author: User, client_for: ClientFor
) -> None:
    collection(moderator)
    response = client_for(author).post(
        "/works/new",
        {
            "title": "Snowfall", "pseuds": [author.default_pseud.pk], "fandoms": "Original Work",
            "rating": "General Audiences", "warnings": ["No Archive Warnings Apply"], "language": "en",
            "text": "<p>It snowed all night.</p>", "format": "html", "collections": "winter-fest",
            "action": "post",
        },
    )

    work = Work.objects.get()
    assert response.status_code == 302
    assert list(work.collection_items.values_list("collection__name", flat=True)) == ["winter-fest"]
    edit = page(client_for(author).get(f"/works/{work.pk}/edit"))
    assert 'name="collections" value="winter-fest"' in edit


def test_the_work_form_names_an_unknown_collection(moderator: User, author: User, client_for: ClientFor) -> None:
    response = client_for(author).post(
        "/works/new",
        {
            "title": "Snowfall", "pseuds": [author.default_pseud.pk], "fandoms": "Original Work",
            "rating": "General Audiences", "warnings": ["No Archive Warnings Apply"], "language": "en",
            "text": "<p>It snowed all night.</p>", "format": "html", "collections": "nowhere",
            "action": "post",
        },
    )

    assert response.status_code == 200
    assert "There is no collection called “nowhere”." in page(response)
    assert not Work.objects.exists()


def test_a_subcollections_settings_page_offers_its_parent(moderator: User, client_for: ClientFor) -> None:
    parent = collection(moderator, "meme", title="The Meme")
    collection(moderator, "round-1", title="Round One", parent=parent)

    content = page(client_for(moderator).get("/collections/round-1/edit"))
    detail = page(client_for(moderator).get("/collections/round-1"))

    assert '<option value="meme" selected>The Meme</option>' in content
    assert 'A subcollection of <a href="/collections/meme">The Meme</a>' in detail
