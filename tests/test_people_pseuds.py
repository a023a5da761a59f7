"""Pseuds: creating, renaming and deleting them, their pages, and co-creator invitations."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from tests.conftest import listed_titles
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chapbook.people.models import Pseud, User
from chapbook.people.services import create_pseud
from chapbook.works.models import Creatorship, Work

ClientFor = Callable[[User], Client]
MakeWork = Callable[..., Work]


def titles(response: Any) -> list[str]:
    return listed_titles(response)


def pseud_url(pseud: Pseud) -> str:
    return reverse("people:pseud", args=[pseud.user.username, pseud.name])


def test_owner_creates_a_pseud(author: User, client_for: ClientFor) -> None:
    response = client_for(author).post(
        reverse("people:pseud_new", args=["alice"]), {"name": "  Harbour   Light ", "description": "Sea stories."}
    )

    pseud = author.pseuds.get(name="Harbour Light")
    assert response["Location"] == pseud_url(pseud)
    assert (pseud.description, pseud.is_default) == ("Sea stories.", False)


def test_a_pseud_name_already_used_in_another_case_is_an_error(author: User, client_for: ClientFor) -> None:
    create_pseud(user=author, name="Harbour Light")

    response = client_for(author).post(reverse("people:pseud_new", args=["alice"]), {"name": "harbour light"})

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["You already have a pseud called “harbour light”."]
    assert author.pseuds.count() == 2


def test_two_users_may_have_pseuds_of_the_same_name(author: User, reader: User) -> None:
    create_pseud(user=author, name="Gull")
    create_pseud(user=reader, name="Gull")


@pytest.mark.parametrize("name", ["Dr. O'Neil-Smith", "x", "a" * 40, "Mañana_2"])
def test_pseud_names_may_hold_letters_digits_spaces_and_punctuation(author: User, name: str) -> None:
    assert create_pseud(user=author, name=name).name == name


@pytest.mark.parametrize("name", ["", "   ", "a" * 41, "-dash", "a/b", "<b>", "semi;colon", "new", "NEW"])
def test_pseud_names_outside_the_rules_are_refused(author: User, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        create_pseud(user=author, name=name)
    assert "name" in caught.value.message_dict


def test_someone_else_cannot_create_a_pseud_for_a_user(author: User, reader: User, client_for: ClientFor) -> None:
    response = client_for(reader).post(reverse("people:pseud_new", args=["alice"]), {"name": "Impostor"})

    assert response.status_code == 403
    assert not Pseud.objects.filter(name="Impostor").exists()


def test_pseud_list_counts_visible_works(author: User, make_work: MakeWork, client: Client) -> None:
    make_work(author, title="Posted")
    make_work(author, title="Drafting", draft=True)

    response = client.get(reverse("people:pseuds", args=["alice"]))

    assert [(p.name, p.work_count) for p in response.context["pseuds"]] == [("alice", 1)]


def test_pseud_page_lists_only_that_pseuds_works(author: User, make_work: MakeWork, client: Client) -> None:
    second = create_pseud(user=author, name="Dr. O'Neil-Smith", description="The *other* me.")
    make_work(author, title="Under the Username")
    make_work(author, title="Under the Pseud", pseuds=[second])

    response = client.get(pseud_url(second))

    assert titles(response) == ["Under the Pseud"]
    assert "The *other* me." in response.content.decode()
    assert titles(client.get(pseud_url(author.default_pseud))) == ["Under the Username"]


def test_pseud_page_matches_the_name_without_regard_to_case(author: User, client: Client) -> None:
    pseud = create_pseud(user=author, name="Harbour Light")

    response = client.get("/users/ALICE/pseuds/harbour%20light")

    assert response.status_code == 200
    assert response.context["pseud"] == pseud


def test_unknown_pseud_is_404(author: User, client: Client) -> None:
    assert client.get("/users/alice/pseuds/nobody").status_code == 404


@pytest.fixture
def pen_name(author: User, make_work: MakeWork) -> Pseud:
    pseud = create_pseud(user=author, name="Pen Name")
    make_work(author, title="Posted For All", pseuds=[pseud])
    make_work(author, title="Members Only", pseuds=[pseud], restricted=True)
    make_work(author, title="Still Drafting", pseuds=[pseud], draft=True)
    return pseud


def test_guest_sees_neither_restricted_nor_draft_works_on_a_pseud_page(pen_name: Pseud, client: Client) -> None:
    assert titles(client.get(pseud_url(pen_name))) == ["Posted For All"]


def test_reader_sees_restricted_works_but_not_drafts_on_a_pseud_page(
    pen_name: Pseud, reader: User, client_for: ClientFor
) -> None:
    assert sorted(titles(client_for(reader).get(pseud_url(pen_name)))) == ["Members Only", "Posted For All"]


def test_author_sees_own_drafts_on_a_pseud_page(pen_name: Pseud, author: User, client_for: ClientFor) -> None:
    response = client_for(author).get(pseud_url(pen_name))

    assert sorted(titles(response)) == ["Members Only", "Posted For All", "Still Drafting"]


def test_owner_renames_a_pseud_and_edits_its_description(author: User, client_for: ClientFor) -> None:
    pseud = create_pseud(user=author, name="Pen Name")

    response = client_for(author).post(
        reverse("people:pseud_edit", args=["alice", "Pen Name"]), {"name": "Quill", "description": "Now with feathers."}
    )

    pseud.refresh_from_db()
    assert (pseud.name, pseud.description) == ("Quill", "Now with feathers.")
    assert response["Location"] == pseud_url(pseud)


def test_the_default_pseud_cannot_be_renamed(author: User, client_for: ClientFor) -> None:
    response = client_for(author).post(reverse("people:pseud_edit", args=["alice", "alice"]), {"name": "Someone"})

    assert response.context["form"].errors["name"] == ["Your default pseud is your username and cannot be renamed."]
    assert author.default_pseud.name == "alice"


def test_the_default_pseud_cannot_be_deleted(author: User, client_for: ClientFor) -> None:
    client = client_for(author)
    response = client.post(reverse("people:pseud_edit", args=["alice", "alice"]), {"action": "delete"}, follow=True)

    assert "Your default pseud cannot be deleted." in response.content.decode()
    assert author.pseuds.filter(is_default=True).exists()


def test_a_pseud_with_works_cannot_be_deleted_and_the_page_says_why(
    pen_name: Pseud, author: User, client_for: ClientFor
) -> None:
    client = client_for(author)
    edit_url = reverse("people:pseud_edit", args=["alice", "Pen Name"])

    assert "credited on 3 works, so it cannot be deleted" in client.get(edit_url).content.decode()
    response = client.post(edit_url, {"action": "delete"}, follow=True)
    assert "“Pen Name” is credited on 3 works, so it cannot be deleted." in response.content.decode()
    assert Pseud.objects.filter(pk=pen_name.pk).exists()


def test_an_unused_pseud_can_be_deleted(author: User, client_for: ClientFor) -> None:
    pseud = create_pseud(user=author, name="Pen Name")

    response = client_for(author).post(reverse("people:pseud_edit", args=["alice", "Pen Name"]), {"action": "delete"})

    assert response["Location"] == reverse("people:pseuds", args=["alice"])
    assert not Pseud.objects.filter(pk=pseud.pk).exists()


def test_someone_else_cannot_edit_or_delete_a_pseud(author: User, reader: User, client_for: ClientFor) -> None:
    create_pseud(user=author, name="Pen Name")
    client = client_for(reader)
    edit_url = reverse("people:pseud_edit", args=["alice", "Pen Name"])

    assert client.post(edit_url, {"name": "Mine Now"}).status_code == 403
    assert client.post(edit_url, {"action": "delete"}).status_code == 403
    assert author.pseuds.filter(name="Pen Name").exists()


def test_pseud_page_query_count_does_not_grow_with_works(
    author: User, reader: User, make_work: MakeWork, client_for: ClientFor
) -> None:
    client = client_for(reader)
    pseud = create_pseud(user=author, name="Pen Name")
    for number in range(2):
        make_work(author, title=f"Early {number}", pseuds=[pseud])
    with CaptureQueriesContext(connection) as with_two:
        client.get(pseud_url(pseud))
    for number in range(6):
        make_work(author, title=f"Later {number}", pseuds=[pseud], restricted=number % 2 == 0)
    with CaptureQueriesContext(connection) as with_eight:
        response = client.get(pseud_url(pseud))

    assert len(titles(response)) == 8
    assert len(with_eight) == len(with_two)


# Co-creator invitations


@pytest.fixture
def invitation(author: User, co_author: User, make_work: MakeWork) -> Creatorship:
    work = make_work(author, title="Shared Tide", draft=True, co_creators=[co_author.default_pseud])
    return Creatorship.objects.get(work=work, pseud__user=co_author)


def test_invitee_sees_the_title_of_a_draft_and_who_invited_them(
    invitation: Creatorship, co_author: User, client_for: ClientFor
) -> None:
    html = client_for(co_author).get(reverse("people:invitations")).content.decode()

    assert "<strong>Shared Tide</strong>" in html
    assert 'href="/users/alice"' in html


def test_nobody_else_sees_an_invitation(invitation: Creatorship, reader: User, client_for: ClientFor) -> None:
    response = client_for(reader).get(reverse("people:invitations"))

    assert response.context["pending"] == []


def test_invitations_need_login(db: None, client: Client) -> None:
    assert client.get(reverse("people:invitations"))["Location"].startswith(reverse("people:login"))


def test_accepting_an_invitation_credits_the_pseud(
    invitation: Creatorship, co_author: User, client_for: ClientFor
) -> None:
    client = client_for(co_author)
    response = client.post(reverse("people:invitation_answer", args=[invitation.pk]), {"answer": "accept"})

    invitation.refresh_from_db()
    assert invitation.accepted
    assert response["Location"] == invitation.work.get_absolute_url()
    # Credited now, so the draft shows on the co-creator's own profile.
    assert titles(client.get(reverse("people:profile", args=["carol"]))) == ["Shared Tide"]


def test_declining_an_invitation_removes_it(invitation: Creatorship, co_author: User, client_for: ClientFor) -> None:
    response = client_for(co_author).post(
        reverse("people:invitation_answer", args=[invitation.pk]), {"answer": "decline"}
    )

    assert response["Location"] == reverse("people:invitations")
    assert not Creatorship.objects.filter(pk=invitation.pk).exists()


def test_someone_else_cannot_answer_an_invitation(
    invitation: Creatorship, reader: User, client_for: ClientFor
) -> None:
    response = client_for(reader).post(reverse("people:invitation_answer", args=[invitation.pk]), {"answer": "accept"})

    assert response.status_code == 404
    invitation.refresh_from_db()
    assert not invitation.accepted


def test_answering_an_invitation_by_get_is_refused(
    invitation: Creatorship, co_author: User, client_for: ClientFor
) -> None:
    assert client_for(co_author).get(reverse("people:invitation_answer", args=[invitation.pk])).status_code == 405
