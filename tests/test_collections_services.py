"""Collection services: the rules of making collections, moderating them, the works in them,
the flags they put on works, and the reveal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from chapbook.collections import services
from chapbook.collections.models import (
    Collection,
    CollectionItem,
    ItemStatus,
    Moderator,
)
from chapbook.collections.selectors import collection_work_ids, is_moderator
from chapbook.collections.tasks import reveal_due_collections
from chapbook.people.models import User
from chapbook.works.models import Work
from chapbook.works.services import update_work
from tests.conftest import make_user

MakeWork = Callable[..., Work]


@pytest.fixture
def moderator(db: None) -> User:
    """Mona owns the collections in these tests."""
    return make_user("mona")


def collection(by: User, name: str = "winter-fest", **fields: object) -> Collection:
    fields.setdefault("title", name.replace("-", " ").title())
    return services.create_collection(by=by, name=name, **fields)  # type: ignore[arg-type]


def fresh(work: Work) -> Work:
    return Work.objects.get(pk=work.pk)


def item_of(work: Work, where: Collection) -> CollectionItem:
    return CollectionItem.objects.get(work=work, collection=where)


# --------------------------------------------------------------------- making collections


def test_it_makes_a_collection_owned_by_its_maker(moderator: User) -> None:
    made = collection(moderator, "Winter_Fest-2024", description="<p>Cosy <script>x()</script>stories</p>")

    assert made.owner == moderator
    assert made.name == "Winter_Fest-2024"
    assert made.description == "<p>Cosy stories</p>"
    assert is_moderator(moderator, made)


@pytest.mark.parametrize("name", ["a", "x" * 61, "no spaces", "émoji", "slash/es", "", "new", "Invitations"])
def test_it_refuses_a_name_that_is_not_a_free_slug(moderator: User, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        collection(moderator, name, title="Anything")

    assert "name" in caught.value.message_dict
    assert not Collection.objects.exists()


def test_it_refuses_a_name_taken_in_another_case(moderator: User, reader: User) -> None:
    collection(moderator, "winter-fest")

    with pytest.raises(ValidationError) as caught:
        collection(reader, "Winter-Fest")

    assert caught.value.message_dict == {"name": ["There is already a collection called “Winter-Fest”."]}


def test_it_checks_and_orders_the_required_tag_types(moderator: User) -> None:
    made = collection(moderator, required_tag_types=["relationship", "fandom", "fandom"])
    assert made.required_tag_types == "fandom,relationship"

    with pytest.raises(ValidationError) as caught:
        collection(moderator, "other", required_tag_types=["pairing"])
    assert "required_tag_types" in caught.value.message_dict


def test_it_refuses_prompts_that_close_before_they_open(moderator: User) -> None:
    now = timezone.now()
    with pytest.raises(ValidationError) as caught:
        collection(moderator, prompts_open_at=now, prompts_close_at=now - timedelta(days=1))
    assert "prompts_close_at" in caught.value.message_dict


def test_a_subcollection_needs_a_parent_its_maker_moderates(moderator: User, reader: User) -> None:
    parent = collection(moderator, "meme")

    with pytest.raises(ValidationError) as caught:
        collection(reader, "round-1", parent=parent)
    assert "parent" in caught.value.message_dict

    child = collection(moderator, "round-1", parent=parent)
    assert list(parent.children.all()) == [child]


def test_subcollections_are_one_level_deep(moderator: User) -> None:
    parent = collection(moderator, "meme")
    child = collection(moderator, "round-1", parent=parent)

    with pytest.raises(ValidationError) as caught:
        collection(moderator, "round-1-part-a", parent=child)
    assert "parent" in caught.value.message_dict


def test_moderators_change_the_settings_and_others_may_not(moderator: User, reader: User, co_author: User) -> None:
    made = collection(moderator)
    Moderator.objects.create(collection=made, user=co_author, accepted=True)

    services.update_collection(made, by=co_author, title="  Winter   Fest  ", moderated=True, rules="<b>Be kind</b>")
    with pytest.raises(PermissionDenied):
        services.update_collection(made, by=reader, closed=True)

    made.refresh_from_db()
    assert (made.title, made.moderated, made.rules, made.closed) == ("Winter Fest", True, "<b>Be kind</b>", False)


def test_update_collection_refuses_fields_it_does_not_know(moderator: User) -> None:
    with pytest.raises(TypeError):
        services.update_collection(collection(moderator), by=moderator, name="renamed")


# ------------------------------------------------------------------------------ moderators


def test_the_owner_invites_and_the_invitee_moderates_once_they_accept(moderator: User, reader: User) -> None:
    made = collection(moderator)

    invitation = services.invite_moderator(made, by=moderator, user=reader)
    assert not is_moderator(reader, made)

    services.answer_moderator_invitation(invitation, by=reader, accept=True)
    assert is_moderator(reader, made)


def test_a_declined_invitation_goes(moderator: User, reader: User) -> None:
    made = collection(moderator)
    invitation = services.invite_moderator(made, by=moderator, user=reader)

    services.answer_moderator_invitation(invitation, by=reader, accept=False)

    assert not Moderator.objects.exists()
    assert not is_moderator(reader, made)


def test_only_the_owner_invites_and_only_the_invitee_answers(moderator: User, reader: User, co_author: User) -> None:
    made = collection(moderator)
    Moderator.objects.create(collection=made, user=co_author, accepted=True)

    with pytest.raises(PermissionDenied):
        services.invite_moderator(made, by=co_author, user=reader)
    invitation = services.invite_moderator(made, by=moderator, user=reader)
    with pytest.raises(PermissionDenied):
        services.answer_moderator_invitation(invitation, by=co_author, accept=True)
    with pytest.raises(ValidationError):
        services.invite_moderator(made, by=moderator, user=reader)
    with pytest.raises(ValidationError):
        services.invite_moderator(made, by=moderator, user=moderator)


def test_the_owner_removes_a_moderator_and_a_moderator_may_step_down(
    moderator: User, reader: User, co_author: User
) -> None:
    made = collection(moderator)
    bob = Moderator.objects.create(collection=made, user=reader, accepted=True)
    carol = Moderator.objects.create(collection=made, user=co_author, accepted=True)

    with pytest.raises(PermissionDenied):
        services.remove_moderator(bob, by=co_author)
    services.remove_moderator(bob, by=moderator)
    services.remove_moderator(carol, by=co_author)

    assert not Moderator.objects.exists()


# -------------------------------------------------------------------------- works in them


def test_a_creator_adds_their_work_to_an_open_collection(moderator: User, author: User, make_work: MakeWork) -> None:
    made = collection(moderator)
    work = make_work(author)
    before = work.revised_at

    items = services.set_work_collections(work, by=author, names=["Winter-Fest"])

    assert [(i.collection, i.status) for i in items] == [(made, ItemStatus.APPROVED)]
    assert fresh(work).revised_at > before


def test_an_unknown_name_is_an_error_and_nothing_is_added(moderator: User, author: User, make_work: MakeWork) -> None:
    collection(moderator)
    work = make_work(author)

    with pytest.raises(ValidationError) as caught:
        services.set_work_collections(work, by=author, names=["winter-fest", "x"])

    assert caught.value.message_dict == {"collections": ["There is no collection called “x”."]}
    assert not CollectionItem.objects.exists()


def test_only_a_creator_of_the_work_sets_its_collections(moderator: User, author: User, make_work: MakeWork) -> None:
    collection(moderator)
    work = make_work(author)

    with pytest.raises(PermissionDenied):
        services.set_work_collections(work, by=moderator, names=["winter-fest"])
    with pytest.raises(PermissionDenied):
        services.add_work(Collection.objects.get(), by=moderator, work=work)


def test_a_closed_collection_takes_works_from_its_moderators_only(
    moderator: User, author: User, make_work: MakeWork
) -> None:
    closed = collection(moderator, closed=True)

    with pytest.raises(ValidationError) as caught:
        services.set_work_collections(make_work(author), by=author, names=["winter-fest"])
    assert caught.value.message_dict == {"collections": ["“Winter Fest” is closed: it takes no new works."]}

    own = make_work(moderator, title="The Moderator's Own")
    assert services.add_work(closed, by=moderator, work=own).status == ItemStatus.APPROVED


def test_a_moderated_collection_holds_a_work_until_a_moderator_approves_it(
    moderator: User, author: User, reader: User, make_work: MakeWork
) -> None:
    made = collection(moderator, moderated=True)
    work = make_work(author)

    item = services.add_work(made, by=author, work=work)
    assert item.status == ItemStatus.PENDING
    assert list(collection_work_ids(made, viewer=reader)) == []

    with pytest.raises(PermissionDenied):
        services.approve_item(item, by=author)
    approved = services.approve_item(item, by=moderator)

    assert approved.status == ItemStatus.APPROVED and approved.decided_at is not None
    assert list(collection_work_ids(made, viewer=reader)) == [work.pk]


def test_a_moderator_adding_their_own_work_skips_the_queue(moderator: User, make_work: MakeWork) -> None:
    made = collection(moderator, moderated=True)

    assert services.add_work(made, by=moderator, work=make_work(moderator)).status == ItemStatus.APPROVED


def test_a_rejected_work_is_not_listed(moderator: User, author: User, reader: User, make_work: MakeWork) -> None:
    made = collection(moderator, moderated=True)
    work = make_work(author)
    item = services.add_work(made, by=author, work=work)

    with pytest.raises(PermissionDenied):
        services.reject_item(item, by=reader)
    services.reject_item(item, by=moderator)

    assert item_of(work, made).status == ItemStatus.REJECTED
    assert list(collection_work_ids(made, viewer=reader)) == []


def test_adding_a_work_twice_says_so(moderator: User, author: User, make_work: MakeWork) -> None:
    made = collection(moderator)
    work = make_work(author)
    services.add_work(made, by=author, work=work)

    with pytest.raises(ValidationError) as caught:
        services.add_work(made, by=author, work=work)
    assert "work" in caught.value.message_dict


def test_leaving_a_name_out_takes_the_work_out(moderator: User, author: User, make_work: MakeWork) -> None:
    collection(moderator, "winter-fest")
    collection(moderator, "summer-fest", moderated=True)
    work = make_work(author)
    services.set_work_collections(work, by=author, names="winter-fest, summer-fest")

    items = services.set_work_collections(work, by=author, names=["summer-fest"])

    assert [(i.collection.name, i.status) for i in items] == [("summer-fest", ItemStatus.PENDING)]


def test_a_name_kept_keeps_the_moderators_decision(moderator: User, author: User, make_work: MakeWork) -> None:
    made = collection(moderator, moderated=True)
    work = make_work(author)
    services.set_work_collections(work, by=author, names=["winter-fest"])
    services.reject_item(item_of(work, made), by=moderator)

    services.set_work_collections(work, by=author, names=["winter-fest"])

    assert item_of(work, made).status == ItemStatus.REJECTED


def test_the_creator_removes_their_work(moderator: User, author: User, reader: User, make_work: MakeWork) -> None:
    made = collection(moderator, anonymous=True)
    work = make_work(author)
    item = services.add_work(made, by=author, work=work)

    with pytest.raises(PermissionDenied):
        services.remove_item(item, by=reader)
    services.remove_item(item, by=author)

    assert not CollectionItem.objects.exists()
    assert not fresh(work).anonymous


def test_a_moderator_removes_a_work_from_a_plain_collection(moderator: User, author: User, make_work: MakeWork) -> None:
    made = collection(moderator)
    item = services.add_work(made, by=author, work=make_work(author))

    services.remove_item(item, by=moderator)

    assert not CollectionItem.objects.exists()


def test_a_moderator_removing_a_work_from_an_anonymous_collection_rejects_it_and_keeps_it_anonymous(
    moderator: User, author: User, make_work: MakeWork
) -> None:
    made = collection(moderator, anonymous=True)
    work = make_work(author)
    item = services.add_work(made, by=author, work=work)

    services.remove_item(item, by=moderator)

    assert item_of(work, made).status == ItemStatus.REJECTED
    assert fresh(work).anonymous


def test_post_and_update_work_take_collection_names(moderator: User, author: User, make_work: MakeWork) -> None:
    collection(moderator, "winter-fest")
    collection(moderator, "summer-fest", anonymous=True)

    work = make_work(author, collections=["winter-fest", "summer-fest"])
    assert sorted(work.collection_items.values_list("collection__name", flat=True)) == ["summer-fest", "winter-fest"]
    assert fresh(work).anonymous

    update_work(work, by=author, title="Renamed", collections=["winter-fest"])
    assert list(work.collection_items.values_list("collection__name", flat=True)) == ["winter-fest"]
    assert (fresh(work).title, fresh(work).anonymous) == ("Renamed", False)


def test_a_bad_collection_name_posts_no_work(moderator: User, author: User, make_work: MakeWork) -> None:
    with pytest.raises(ValidationError) as caught:
        make_work(author, collections=["nowhere"])

    assert caught.value.message_dict == {"collections": ["There is no collection called “nowhere”."]}
    assert not Work.objects.exists()


# --------------------------------------------------------------------------- work flags


def test_an_anonymous_collection_makes_its_works_anonymous(moderator: User, author: User, make_work: MakeWork) -> None:
    made = collection(moderator, anonymous=True)
    work = make_work(author)
    before = fresh(work).revised_at

    services.add_work(made, by=author, work=work)

    after = fresh(work)
    assert (after.anonymous, after.unrevealed) == (True, False)
    assert after.revised_at > before


def test_a_work_waiting_for_approval_is_already_hidden(moderator: User, author: User, make_work: MakeWork) -> None:
    made = collection(moderator, moderated=True, anonymous=True, unrevealed=True)
    work = make_work(author)

    services.add_work(made, by=author, work=work)

    assert (fresh(work).anonymous, fresh(work).unrevealed) == (True, True)


def test_refresh_work_flags_moves_only_the_works_whose_flags_changed(
    moderator: User, author: User, make_work: MakeWork
) -> None:
    made = collection(moderator, unrevealed=True)
    inside, outside = make_work(author, title="Inside"), make_work(author, title="Outside")
    CollectionItem.objects.create(collection=made, work=inside)
    stamps = {w.pk: fresh(w).revised_at for w in (inside, outside)}

    changed = services.refresh_work_flags([inside.pk, outside.pk])

    assert changed == [inside.pk]
    assert fresh(inside).unrevealed and fresh(inside).revised_at > stamps[inside.pk]
    assert fresh(outside).revised_at == stamps[outside.pk]
    assert services.refresh_work_flags([inside.pk, outside.pk]) == []


def test_turning_a_setting_on_reaches_the_works_already_in(moderator: User, author: User, make_work: MakeWork) -> None:
    made = collection(moderator)
    work = make_work(author)
    services.add_work(made, by=author, work=work)

    services.update_collection(made, by=moderator, anonymous=True)
    assert fresh(work).anonymous

    services.update_collection(made, by=moderator, anonymous=False)
    assert not fresh(work).anonymous


def test_a_work_stays_hidden_while_any_of_its_collections_hides_it(
    moderator: User, author: User, make_work: MakeWork
) -> None:
    first = collection(moderator, "first", unrevealed=True)
    second = collection(moderator, "second", unrevealed=True)
    work = make_work(author)
    services.set_work_collections(work, by=author, names=["first", "second"])

    services.reveal(first, by=moderator)
    assert fresh(work).unrevealed

    services.reveal(second, by=moderator)
    assert not fresh(work).unrevealed


# ------------------------------------------------------------------------------- reveal


def test_moderators_reveal_works_and_creators_now(
    moderator: User, author: User, reader: User, make_work: MakeWork
) -> None:
    made = collection(moderator, anonymous=True, unrevealed=True)
    work = make_work(author)
    services.add_work(made, by=author, work=work)

    with pytest.raises(PermissionDenied):
        services.reveal(made, by=reader)
    services.reveal(made, by=moderator, works=True, creators=False)
    assert (fresh(work).anonymous, fresh(work).unrevealed) == (True, False)

    revealed = services.reveal(made, by=moderator, creators=True)
    assert not fresh(work).anonymous
    assert revealed.creators_revealed_at is not None and revealed.works_revealed_at is not None


def test_revealing_what_is_already_revealed_is_an_error(moderator: User) -> None:
    made = collection(moderator, anonymous=True)
    services.reveal(made, by=moderator)

    with pytest.raises(ValidationError):
        services.reveal(made, by=moderator)


def test_a_reveal_is_per_collection(moderator: User, author: User, make_work: MakeWork) -> None:
    parent = collection(moderator, "meme", unrevealed=True)
    child = collection(moderator, "round-1", parent=parent, unrevealed=True)
    in_parent, in_child = make_work(author, title="Parent's"), make_work(author, title="Child's")
    services.add_work(parent, by=author, work=in_parent)
    services.add_work(child, by=author, work=in_child)

    services.reveal(parent, by=moderator)

    assert not fresh(in_parent).unrevealed
    assert fresh(in_child).unrevealed


def test_a_scheduled_reveal_happens_when_its_time_comes(moderator: User, author: User, make_work: MakeWork) -> None:
    made = collection(moderator, anonymous=True, unrevealed=True)
    work = make_work(author)
    services.add_work(made, by=author, work=work)
    soon = timezone.now() + timedelta(hours=1)

    services.schedule_reveal(made, by=moderator, works_on=soon, creators_on=soon + timedelta(days=1))
    assert reveal_due_collections.call() == 0
    assert fresh(work).unrevealed

    # The clock moves past the works' date (but not the creators').
    Collection.objects.filter(pk=made.pk).update(reveal_works_on=timezone.now() - timedelta(seconds=1))
    assert reveal_due_collections.call() == 1
    assert (fresh(work).unrevealed, fresh(work).anonymous) == (False, True)

    Collection.objects.filter(pk=made.pk).update(reveal_creators_on=timezone.now() - timedelta(seconds=1))
    out = StringIO()
    call_command("reveal_due", stdout=out)
    assert "Revealed winter-fest" in out.getvalue()
    assert not fresh(work).anonymous
    # Nothing left: running it again changes nothing.
    assert reveal_due_collections.call() == 0


def test_a_reveal_date_must_be_in_the_future_and_about_something_hidden(moderator: User, reader: User) -> None:
    hiding = collection(moderator, "hiding", unrevealed=True)
    plain = collection(moderator, "plain")

    with pytest.raises(ValidationError) as past:
        services.schedule_reveal(hiding, by=moderator, works_on=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationError) as nothing:
        services.schedule_reveal(plain, by=moderator, creators_on=timezone.now() + timedelta(days=1))
    with pytest.raises(PermissionDenied):
        services.schedule_reveal(hiding, by=reader, works_on=timezone.now() + timedelta(days=1))

    assert "works_on" in past.value.message_dict
    assert "creators_on" in nothing.value.message_dict


# ---------------------------------------------------------------------- what a reader finds


def test_a_collection_lists_its_subcollections_works_too(
    moderator: User, author: User, reader: User, make_work: MakeWork
) -> None:
    parent = collection(moderator, "meme")
    child = collection(moderator, "round-1", parent=parent)
    in_parent, in_child = make_work(author, title="Parent's"), make_work(author, title="Child's")
    services.add_work(parent, by=author, work=in_parent)
    services.add_work(child, by=author, work=in_child)

    assert set(collection_work_ids(parent, viewer=reader)) == {in_parent.pk, in_child.pk}
    assert set(collection_work_ids(parent, viewer=reader, include_children=False)) == {in_parent.pk}
    assert set(collection_work_ids(child, viewer=reader)) == {in_child.pk}


def test_unrevealed_works_are_found_by_moderators_only(
    moderator: User, author: User, reader: User, make_work: MakeWork
) -> None:
    made = collection(moderator, unrevealed=True)
    work = make_work(author)
    services.add_work(made, by=author, work=work)

    assert list(collection_work_ids(made, viewer=reader)) == []
    assert list(collection_work_ids(made, viewer=moderator)) == [work.pk]
    assert list(collection_work_ids(made, viewer=author)) == [work.pk]


def test_a_collection_that_still_hides_must_be_revealed_before_it_is_deleted(
    moderator: User, author: User, reader: User, make_work: MakeWork
) -> None:
    made = collection(moderator, anonymous=True)
    work = make_work(author)
    services.add_work(made, by=author, work=work)

    with pytest.raises(PermissionDenied):
        services.delete_collection(made, by=reader)
    with pytest.raises(ValidationError):
        services.delete_collection(made, by=moderator)
    services.reveal(made, by=moderator)
    services.delete_collection(made, by=moderator)

    assert not Collection.objects.exists()
    assert Work.objects.filter(pk=work.pk).exists()
