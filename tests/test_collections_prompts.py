"""Prompt memes: prompts, claims and fills, their pages, the prompter's notifications,
the admins' identity lookup, and matching an imported work to its prompt.

Personas: Mona runs the meme (its owner, so a moderator); Alice leaves prompts (often
anonymously); Bob and Carol write fills; Sam is the site admin.
"""

from __future__ import annotations

from datetime import timedelta
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chapbook.collections import matching, prompts
from chapbook.collections.models import Claim, Collection, CollectionItem, Fill, IdentityAccess, Prompt
from chapbook.collections.services import create_collection, reveal
from chapbook.feedback.models import Notification
from chapbook.people.models import Pseud, User
from chapbook.tags.models import Tag, TagType
from chapbook.works.models import Work
from chapbook.works.services import TagInput, update_work
from tests.conftest import build_work, default_tags, login, make_user

MakeWork = Callable[..., Work]


# Builders ----------------------------------------------------------------------------


@pytest.fixture
def mona(db: None) -> User:
    """Mona owns and moderates the prompt meme."""
    return make_user("mona")


def make_meme(owner: User, name: str = "harbour-meme", **settings: Any) -> Collection:
    fields: dict[str, Any] = {"title": "Harbour Prompt Meme", "prompt_meme": True}
    fields.update(settings)
    return create_collection(by=owner, name=name, **fields)


@pytest.fixture
def meme(mona: User) -> Collection:
    return make_meme(mona)


def prompt_tags(**overrides: Any) -> TagInput:
    values: dict[str, Any] = {"fandoms": ["Lighthouse Stories"], "relationships": ["Mara/Nell"]}
    values.update(overrides)
    return TagInput(**values)


def leave_prompt(collection: Collection, by: User, text: str = "Mara and Nell keep the lamp lit through a storm.", **kwargs: Any) -> Prompt:
    kwargs.setdefault("tags", prompt_tags())
    return prompts.post_prompt(collection=collection, by=by, text=text, **kwargs)


def fill_work(by: User, title: str = "The Long Night", **kwargs: Any) -> Work:
    return build_work(by, title=title, **kwargs)


def prompt_url(prompt: Prompt) -> str:
    return f"/collections/{prompt.collection.name}/prompts/{prompt.pk}"


def refreshed(prompt: Prompt) -> Prompt:
    return Prompt.objects.get(pk=prompt.pk)


def assert_names_nobody(content: bytes | str, user: User) -> None:
    """Nothing in `content` names `user`: no username, pseud or profile link."""
    text = content.decode() if isinstance(content, bytes) else content
    lowered = text.lower()
    assert user.username.lower() not in lowered
    for pseud in Pseud.objects.filter(user=user):
        assert pseud.name.lower() not in lowered
    assert f"/users/{user.username}".lower() not in lowered


# Posting prompts ---------------------------------------------------------------------


def test_a_prompt_is_posted_with_its_tags_found_or_created(author: User, meme: Collection) -> None:
    existing = Tag.objects.create(name="Lighthouse Stories", type=TagType.FANDOM)

    prompt = leave_prompt(
        meme, author, title="Storm Night", tags=prompt_tags(characters=["Mara"], freeforms=["Hurt/Comfort"])
    )

    assert prompt.title == "Storm Night"
    names = {(tag.name, tag.type) for tag in prompt.tags.all()}
    assert names == {
        ("Lighthouse Stories", "fandom"),
        ("Mara/Nell", "relationship"),
        ("Mara", "character"),
        ("Hurt/Comfort", "freeform"),
    }
    assert existing in prompt.tags.all()
    assert prompt.pseud == author.default_pseud


def test_prompt_text_is_sanitized_and_plain_text_becomes_paragraphs(author: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author, text="First line.\n\nSecond <script>alert(1)</script><b>bold</b>")

    assert "<script>" not in prompt.text
    assert "alert" not in prompt.text
    assert prompt.text.startswith("<p>First line.</p>")
    assert "<b>bold</b>" in prompt.text


def test_an_overlong_prompt_text_or_title_is_refused(author: User, meme: Collection) -> None:
    with pytest.raises(ValidationError) as text_error:
        leave_prompt(meme, author, text="x" * 10_001)
    with pytest.raises(ValidationError) as title_error:
        leave_prompt(meme, author, title="t" * 256)

    assert "text" in text_error.value.message_dict
    assert "title" in title_error.value.message_dict
    assert not Prompt.objects.exists()


def test_an_empty_prompt_is_refused(author: User, meme: Collection) -> None:
    with pytest.raises(ValidationError) as error:
        leave_prompt(meme, author, text="   <script>x</script> ")

    assert error.value.message_dict == {"text": ["A prompt needs some text."]}


def test_prompts_are_refused_before_the_window_opens(author: User, mona: User) -> None:
    opens = timezone.now() + timedelta(days=2)
    collection = make_meme(mona, prompts_open_at=opens)

    with pytest.raises(ValidationError) as error:
        leave_prompt(collection, author)

    assert error.value.messages[0].startswith("Prompts open on")
    assert not Prompt.objects.exists()


def test_prompts_are_refused_after_the_window_closes(author: User, mona: User) -> None:
    now = timezone.now()
    collection = make_meme(mona, prompts_open_at=now - timedelta(days=5), prompts_close_at=now - timedelta(days=1))

    with pytest.raises(ValidationError) as error:
        leave_prompt(collection, author)

    assert error.value.messages[0].startswith("Prompts closed on")


def test_prompts_are_taken_inside_the_window(author: User, mona: User) -> None:
    now = timezone.now()
    collection = make_meme(mona, prompts_open_at=now - timedelta(days=1), prompts_close_at=now + timedelta(days=1))

    assert leave_prompt(collection, author).pk


def test_a_meme_with_no_dates_is_always_open(author: User, meme: Collection) -> None:
    assert meme.prompts_open_at is None and meme.prompts_close_at is None
    assert leave_prompt(meme, author).pk


def test_a_closed_collection_takes_no_prompts(author: User, mona: User) -> None:
    collection = make_meme(mona, closed=True)

    with pytest.raises(ValidationError) as error:
        leave_prompt(collection, author)

    assert "is closed" in error.value.messages[0]


def test_a_collection_that_is_not_a_prompt_meme_takes_no_prompts(author: User, mona: User) -> None:
    collection = make_meme(mona, name="plain", prompt_meme=False)

    with pytest.raises(ValidationError) as error:
        leave_prompt(collection, author)

    assert error.value.messages == ["This collection does not take prompts."]


def test_a_prompt_without_a_required_tag_type_is_refused_and_nothing_is_written(author: User, mona: User) -> None:
    collection = make_meme(mona, required_tag_types="fandom,relationship")

    with pytest.raises(ValidationError) as error:
        leave_prompt(collection, author, tags=TagInput(fandoms=["A Brand New Fandom"]))

    assert error.value.message_dict == {"tags": ["Add at least one relationship."]}
    assert not Prompt.objects.exists()
    # The tag found-or-created on the way was rolled back with the rest.
    assert not Tag.objects.filter(name="A Brand New Fandom").exists()


def test_every_missing_required_type_is_named(author: User, mona: User) -> None:
    collection = make_meme(mona, required_tag_types="fandom,relationship")

    with pytest.raises(ValidationError) as error:
        leave_prompt(collection, author, tags=TagInput(freeforms=["Fluff"]))

    assert error.value.message_dict == {"tags": ["Add at least one fandom.", "Add at least one relationship."]}


def test_a_tag_of_another_type_is_refused(author: User, meme: Collection) -> None:
    Tag.objects.create(name="Mara", type=TagType.CHARACTER)

    with pytest.raises(ValidationError) as error:
        leave_prompt(meme, author, tags=TagInput(fandoms=["Mara"]))

    assert "fandoms" in error.value.message_dict


def test_a_relationship_must_read_as_one(author: User, meme: Collection) -> None:
    with pytest.raises(ValidationError) as error:
        leave_prompt(meme, author, tags=TagInput(relationships=["Mara"]))

    assert "relationships" in error.value.message_dict


def test_someone_elses_pseud_is_refused_without_naming_them(author: User, reader: User, meme: Collection) -> None:
    with pytest.raises(ValidationError) as error:
        leave_prompt(meme, author, pseud=reader.default_pseud)

    assert error.value.message_dict == {"pseud": ["Choose one of your own pseuds."]}


# Editing and deleting ----------------------------------------------------------------


def test_the_prompter_edits_their_prompt(author: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)

    prompts.edit_prompt(prompt, by=author, title="New title", text="New text", tags=prompt_tags(characters=["Nell"]))

    prompt = refreshed(prompt)
    assert prompt.title == "New title"
    assert prompt.text == "<p>New text</p>"
    assert "Nell" in {tag.name for tag in prompt.tags.all()}
    assert prompt.edited_at is not None


def test_an_edit_must_keep_the_required_tags(author: User, mona: User) -> None:
    collection = make_meme(mona, required_tag_types="relationship")
    prompt = leave_prompt(collection, author)

    with pytest.raises(ValidationError) as error:
        prompts.edit_prompt(prompt, by=author, tags=TagInput(fandoms=["Lighthouse Stories"]))

    assert error.value.message_dict == {"tags": ["Add at least one relationship."]}
    assert "Mara/Nell" in {tag.name for tag in refreshed(prompt).tags.all()}


def test_nobody_else_edits_a_prompt_moderators_included(author: User, reader: User, mona: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)

    for other in (reader, mona):
        with pytest.raises(PermissionDenied):
            prompts.edit_prompt(prompt, by=other, text="Mine now")

    assert "Mine now" not in refreshed(prompt).text


def test_a_filled_prompt_can_no_longer_be_edited_or_deleted_by_its_prompter(
    author: User, reader: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author)
    prompts.fill_prompt(work=fill_work(reader), prompt=prompt, by=reader)

    with pytest.raises(ValidationError):
        prompts.edit_prompt(prompt, by=author, text="Changed")
    with pytest.raises(ValidationError):
        prompts.delete_prompt(prompt, by=author)

    assert Prompt.objects.filter(pk=prompt.pk).exists()


def test_the_prompter_deletes_an_unfilled_prompt(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    prompts.claim(prompt=prompt, by=reader)

    prompts.delete_prompt(prompt, by=author)

    assert not Prompt.objects.exists()
    assert not Claim.objects.exists()


def test_a_moderator_deletes_any_prompt_and_its_fills_works_stay(
    author: User, reader: User, mona: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author)
    work = fill_work(reader)
    prompts.fill_prompt(work=work, prompt=prompt, by=reader)
    before = Work.objects.get(pk=work.pk).revised_at

    prompts.delete_prompt(prompt, by=mona)

    assert not Prompt.objects.exists()
    assert not Fill.objects.exists()
    # The work stays; its pages are built again without "In response to a prompt".
    assert Work.objects.get(pk=work.pk).revised_at > before


def test_someone_else_cannot_delete_a_prompt(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)

    with pytest.raises(PermissionDenied):
        prompts.delete_prompt(prompt, by=reader)


# Claims ------------------------------------------------------------------------------


def test_any_number_of_writers_claim_the_same_prompt_and_the_count_follows(
    author: User, reader: User, co_author: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author)

    prompts.claim(prompt=prompt, by=reader)
    prompts.claim(prompt=prompt, by=co_author)

    assert refreshed(prompt).claims_count == 2
    assert set(Claim.objects.values_list("user__username", flat=True)) == {"bob", "carol"}


def test_a_second_claim_by_the_same_writer_is_refused(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    prompts.claim(prompt=prompt, by=reader)

    with pytest.raises(ValidationError) as error:
        prompts.claim(prompt=prompt, by=reader)

    assert error.value.messages == ["You have already claimed this prompt."]
    assert refreshed(prompt).claims_count == 1


def test_a_racing_duplicate_claim_meets_the_constraint_in_a_savepoint(
    author: User, reader: User, meme: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompt = leave_prompt(meme, author)
    prompts.claim(prompt=prompt, by=reader)
    # The other request's claim landed between this one's check and its insert.
    monkeypatch.setattr(prompts, "_already_claimed", lambda prompt, user: False)

    with pytest.raises(ValidationError) as error:
        prompts.claim(prompt=prompt, by=reader)

    assert error.value.messages == ["You have already claimed this prompt."]
    # The savepoint kept the surrounding transaction usable, and the count exact.
    assert Claim.objects.filter(prompt=prompt).count() == 1
    assert refreshed(prompt).claims_count == 1


def test_the_prompter_may_claim_their_own_prompt(author: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)

    prompts.claim(prompt=prompt, by=author)

    assert refreshed(prompt).claims_count == 1
    assert not Notification.objects.filter(user=author).exists()


def test_a_prompt_in_a_closed_collection_cannot_be_claimed(author: User, reader: User, mona: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    Collection.objects.filter(pk=meme.pk).update(closed=True)

    with pytest.raises(ValidationError):
        prompts.claim(prompt=refreshed(prompt), by=reader)


def test_a_writer_drops_their_claim(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    row = prompts.claim(prompt=prompt, by=reader)

    prompts.drop_claim(row, by=reader)

    assert not Claim.objects.exists()
    assert refreshed(prompt).claims_count == 0


def test_nobody_drops_someone_elses_claim(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    row = prompts.claim(prompt=prompt, by=reader)

    with pytest.raises(PermissionDenied):
        prompts.drop_claim(row, by=author)

    assert refreshed(prompt).claims_count == 1


# Fills -------------------------------------------------------------------------------


def test_a_fill_uses_the_writers_claim_and_joins_the_prompts_collection(
    author: User, reader: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author)
    row = prompts.claim(prompt=prompt, by=reader)
    work = fill_work(reader)

    fill = prompts.fill_prompt(work=work, prompt=prompt, by=reader)

    assert fill.claim == row
    assert refreshed(prompt).fills_count == 1
    assert CollectionItem.objects.filter(collection=meme, work=work).exists()


def test_a_writer_fills_without_claiming_first(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)

    fill = prompts.fill_prompt(work=fill_work(reader), prompt=prompt, by=reader)

    assert fill.claim is None
    assert refreshed(prompt).fills_count == 1
    assert refreshed(prompt).claims_count == 0


def test_linking_the_same_work_twice_is_one_fill(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    work = fill_work(reader)

    first = prompts.fill_prompt(work=work, prompt=prompt, by=reader)
    second = prompts.fill_prompt(work=work, prompt=prompt, by=reader)

    assert first == second
    assert refreshed(prompt).fills_count == 1
    assert Notification.objects.filter(user=author).count() == 1


def test_only_a_creator_of_the_work_can_fill_with_it(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)

    with pytest.raises(PermissionDenied):
        prompts.fill_prompt(work=fill_work(reader), prompt=prompt, by=author)

    assert not Fill.objects.exists()


def test_a_fill_for_a_prompt_in_a_closed_collection_is_refused_clearly(
    author: User, reader: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author)
    Collection.objects.filter(pk=meme.pk).update(closed=True)

    with pytest.raises(ValidationError) as error:
        prompts.fill_prompt(work=fill_work(reader), prompt=prompt, by=reader)

    assert error.value.message_dict == {"fill_prompt": ["“Harbour Prompt Meme” is closed: it takes no new fills."]}
    assert refreshed(prompt).fills_count == 0


def test_posting_a_work_as_a_fill_is_one_transaction(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    Collection.objects.filter(pk=meme.pk).update(closed=True)

    with pytest.raises(ValidationError):
        fill_work(reader, fill_prompt=refreshed(prompt))

    # Refused fill, no work: nothing half-written.
    assert not Work.objects.exists()


def test_post_work_with_fill_prompt_links_the_work(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    prompts.claim(prompt=prompt, by=reader)

    work = fill_work(reader, fill_prompt=prompt)

    fill = Fill.objects.get(work=work)
    assert fill.prompt == prompt
    assert fill.claim is not None


def test_update_work_with_fill_prompt_links_the_work(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    work = fill_work(reader)

    update_work(work, by=reader, fill_prompt=prompt)

    assert Fill.objects.filter(work=work, prompt=prompt).exists()


def test_fills_of_a_prompt_are_the_ones_the_viewer_may_see(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    public = fill_work(reader, title="Public Fill")
    restricted = fill_work(reader, title="Restricted Fill", restricted=True)
    for work in (public, restricted):
        prompts.fill_prompt(work=work, prompt=prompt, by=reader)

    from django.contrib.auth.models import AnonymousUser

    guest_titles = [item.work.title for item in prompts.fills_of(prompt, viewer=AnonymousUser())]
    member_titles = [item.work.title for item in prompts.fills_of(prompt, viewer=author)]

    assert guest_titles == ["Public Fill"]
    assert member_titles == ["Public Fill", "Restricted Fill"]


# Notifications -----------------------------------------------------------------------


def test_an_anonymous_prompter_is_told_of_claims_and_fills_and_nobody_else_is(
    author: User, reader: User, co_author: User, meme: Collection, django_capture_on_commit_callbacks: Any
) -> None:
    prompt = leave_prompt(meme, author, anonymous=True, title="Storm Night")

    with django_capture_on_commit_callbacks(execute=True):
        prompts.claim(prompt=prompt, by=reader)
    with django_capture_on_commit_callbacks(execute=True):
        prompts.fill_prompt(work=fill_work(reader, title="The Long Night"), prompt=prompt, by=reader)

    rows = list(Notification.objects.order_by("pk"))
    assert [row.user for row in rows] == [author, author]
    assert [row.kind for row in rows] == ["prompt", "prompt"]
    assert rows[0].actor == "bob"
    assert rows[0].text == "claimed your prompt “Storm Night” in Harbour Prompt Meme"
    assert rows[1].actor == "bob"
    assert "The Long Night" in rows[1].text
    # The digest goes to the prompter alone.
    assert [message.to for message in mail.outbox] == [[author.email]]
    assert not Notification.objects.exclude(user=author).exists()


def test_a_fill_in_an_anonymous_collection_names_no_writer_to_the_prompter(
    author: User, reader: User, mona: User, django_capture_on_commit_callbacks: Any
) -> None:
    collection = make_meme(mona, anonymous=True)
    prompt = leave_prompt(collection, author, anonymous=True)

    with django_capture_on_commit_callbacks(execute=True):
        prompts.claim(prompt=prompt, by=reader)
        prompts.fill_prompt(work=fill_work(reader), prompt=prompt, by=reader)

    rows = list(Notification.objects.filter(user=author).order_by("pk"))
    assert [row.actor for row in rows] == ["Anonymous", "Anonymous"]
    for row in rows:
        assert_names_nobody(row.text + row.actor, reader)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert isinstance(message, mail.EmailMultiAlternatives)
    assert_names_nobody(str(message.body), reader)
    assert_names_nobody(str(message.alternatives[0][0]), reader)


def test_a_fill_of_an_unrevealed_work_names_neither_writer_nor_title(
    author: User, reader: User, mona: User
) -> None:
    collection = make_meme(mona, unrevealed=True, anonymous=True)
    prompt = leave_prompt(collection, author)

    prompts.fill_prompt(work=fill_work(reader, title="Secret Title"), prompt=prompt, by=reader)

    row = Notification.objects.get(user=author)
    assert "Secret Title" not in row.text
    assert row.actor == ""
    assert row.work is None


def test_a_draft_fill_tells_the_prompter_when_it_is_posted(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    work = fill_work(reader, draft=True)

    prompts.fill_prompt(work=work, prompt=prompt, by=reader)
    assert not Notification.objects.filter(user=author).exists()

    update_work(work, by=reader, draft=False)
    assert Notification.objects.filter(user=author, kind="prompt").count() == 1


# Prompter names ----------------------------------------------------------------------


def test_prompter_name_is_the_pseud_or_anonymous(author: User, meme: Collection) -> None:
    pen = Pseud.objects.create(user=author, name="Lamplighter")
    named = leave_prompt(meme, author, pseud=pen)
    hidden = leave_prompt(meme, author, anonymous=True, pseud=pen)

    assert prompts.prompter_name(named) == "Lamplighter"
    assert prompts.prompter_url(named) == pen.get_absolute_url()
    assert prompts.prompter_name(hidden) == "Anonymous"
    assert prompts.prompter_url(hidden) == ""


def test_an_anonymous_collection_hides_every_prompter_until_the_reveal_but_anonymous_prompts_stay_hidden(
    author: User, mona: User
) -> None:
    collection = make_meme(mona, anonymous=True)
    named = leave_prompt(collection, author)
    hidden = leave_prompt(collection, author, anonymous=True)
    assert prompts.prompter_name(named) == "Anonymous"

    reveal(collection, by=mona)

    assert prompts.prompter_name(refreshed(named)) == "alice"
    assert prompts.prompter_name(refreshed(hidden)) == "Anonymous"


# Identity lookup ---------------------------------------------------------------------


def test_an_admin_looks_behind_an_anonymous_prompt_and_it_is_logged(
    author: User, staff: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author, anonymous=True)

    who = prompts.reveal_prompter(prompt, admin=staff, reason="Reported for harassment")

    assert who == author
    access = IdentityAccess.objects.get()
    assert (access.admin, access.prompt, access.reason) == (staff, prompt, "Reported for harassment")


def test_moderators_and_writers_cannot_look_behind_a_prompt(
    author: User, reader: User, mona: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author, anonymous=True)

    for other in (mona, reader):
        with pytest.raises(PermissionDenied):
            prompts.reveal_prompter(prompt, admin=other, reason="Curious")

    assert not IdentityAccess.objects.exists()


def test_a_look_needs_a_reason(author: User, staff: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author, anonymous=True)

    with pytest.raises(ValidationError):
        prompts.reveal_prompter(prompt, admin=staff, reason="   ")

    assert not IdentityAccess.objects.exists()


def test_the_identity_page_is_a_404_to_all_but_admins(
    author: User, reader: User, mona: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author, anonymous=True)
    url = prompt_url(prompt) + "/identity"

    assert Client().get(url).status_code in {302, 404}
    for other in (reader, mona, author):
        assert b"Who left this?" not in login(other).get(prompt_url(prompt)).content
        assert login(other).get(url).status_code == 404
        assert login(other).post(url, {"reason": "Curious"}).status_code == 404

    assert not IdentityAccess.objects.exists()


def test_an_admin_gives_a_reason_on_the_identity_page_and_sees_the_prompter(
    author: User, staff: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author, anonymous=True)
    url = prompt_url(prompt) + "/identity"
    admin = login(staff)

    assert b"Who left this? (admins)" in admin.get(prompt_url(prompt)).content
    form = admin.get(url)
    assert form.status_code == 200
    assert b"alice" not in form.content
    missing = admin.post(url, {"reason": ""})
    assert b"alice" not in missing.content
    shown = admin.post(url, {"reason": "Abuse report #12"})

    assert b"alice" in shown.content
    assert IdentityAccess.objects.get().reason == "Abuse report #12"
    # Not kept in a message cookie: the next page says nothing.
    assert b"alice" not in admin.get(prompt_url(prompt)).content


# Pages -------------------------------------------------------------------------------


def test_the_prompts_page_lists_prompts_with_tags_names_counts_and_fills(
    author: User, reader: User, co_author: User, meme: Collection
) -> None:
    named = leave_prompt(meme, author, title="Named Prompt", tags=prompt_tags(characters=["Mara"]))
    hidden = leave_prompt(meme, co_author, title="Hidden Prompt", anonymous=True)
    prompts.claim(prompt=named, by=reader)
    prompts.fill_prompt(work=fill_work(reader, title="The Long Night"), prompt=named, by=reader)
    del hidden

    page = Client().get("/collections/harbour-meme/prompts")

    content = page.content.decode()
    assert page.status_code == 200
    assert "Named Prompt" in content and "Hidden Prompt" in content
    assert "Mara/Nell" in content and ">Mara<" in content
    assert 'href="/users/alice/pseuds/alice' in content
    assert "The Long Night" in content
    assert "<dt>Claims:</dt><dd>1</dd>" in content
    assert_names_nobody(content, co_author)


def test_the_prompts_page_filters_by_tag_with_synonyms(author: User, meme: Collection) -> None:
    canonical = Tag.objects.create(name="Mara/Nell", type=TagType.RELATIONSHIP, canonical=True)
    Tag.objects.create(name="Nell/Mara", type=TagType.RELATIONSHIP, synonym_of=canonical)
    leave_prompt(meme, author, title="Written As Synonym", tags=prompt_tags(relationships=["Nell/Mara"]))
    leave_prompt(meme, author, title="Other Pairing", tags=prompt_tags(relationships=["Ada/Eve"]))

    page = Client().get("/collections/harbour-meme/prompts", {"tag": "mara/nell"})

    assert b"Written As Synonym" in page.content
    assert b"Other Pairing" not in page.content


def test_an_unknown_tag_filter_says_so(author: User, meme: Collection) -> None:
    leave_prompt(meme, author)

    page = Client().get("/collections/harbour-meme/prompts", {"tag": "No Such Tag"})

    assert page.status_code == 200
    assert "There is no tag called “No Such Tag”." in page.content.decode()


def test_the_prompts_page_filters_unclaimed_and_unfilled_and_sorts_by_claims(
    author: User, reader: User, co_author: User, meme: Collection
) -> None:
    claimed = leave_prompt(meme, author, title="Claimed Twice")
    filled = leave_prompt(meme, author, title="Filled Once")
    leave_prompt(meme, author, title="Untouched")
    prompts.claim(prompt=claimed, by=reader)
    prompts.claim(prompt=claimed, by=co_author)
    prompts.fill_prompt(work=fill_work(reader), prompt=filled, by=reader)

    def titles(params: dict[str, str]) -> list[str]:
        found = prompts.prompts_for(
            meme,
            viewer=reader,
            unclaimed=params.get("unclaimed") == "1",
            unfilled=params.get("unfilled") == "1",
            sort=params.get("sort", "date"),
        )
        page = Client().get("/collections/harbour-meme/prompts", params).content.decode()
        listed = [prompt.title for prompt in found]
        assert all(title in page for title in listed)
        return listed

    assert titles({}) == ["Untouched", "Filled Once", "Claimed Twice"]
    assert titles({"sort": "claims"})[0] == "Claimed Twice"
    assert titles({"unclaimed": "1"}) == ["Untouched", "Filled Once"]
    assert titles({"unfilled": "1"}) == ["Untouched", "Claimed Twice"]
    page = Client().get("/collections/harbour-meme/prompts", {"unfilled": "1"}).content.decode()
    assert "Filled Once" not in page


def test_the_prompts_page_is_paginated(author: User, meme: Collection) -> None:
    for number in range(22):
        leave_prompt(meme, author, title=f"Prompt number {number}")

    first = Client().get("/collections/harbour-meme/prompts").content.decode()
    second = Client().get("/collections/harbour-meme/prompts", {"page": "2"}).content.decode()

    assert "Prompt number 21" in first and "Prompt number 1<" not in first
    assert "Prompt number 0<" in second and "Prompt number 1<" in second and "Prompt number 2<" not in second
    assert "Page 1 of 2" in first


def test_the_prompts_page_costs_the_same_queries_for_two_prompts_as_for_ten(
    author: User, reader: User, meme: Collection
) -> None:
    def add(count: int) -> None:
        for number in range(count):
            prompt = leave_prompt(meme, author, title=f"P{number}", anonymous=number % 2 == 0)
            prompts.fill_prompt(work=fill_work(reader, title=f"W{number}"), prompt=prompt, by=reader)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert login(reader).get("/collections/harbour-meme/prompts").status_code == 200
        return len(captured)

    add(2)
    few = queries()
    add(8)
    assert queries() == few


def test_every_prompt_page_is_a_404_for_a_collection_that_is_not_a_meme(author: User, mona: User) -> None:
    plain = make_meme(mona, name="plain", prompt_meme=False)
    meme = make_meme(mona, name="real-meme")
    prompt = leave_prompt(meme, author)
    # A prompt left while the collection was a meme; its pages go with the setting.
    Collection.objects.filter(pk=meme.pk).update(prompt_meme=False)
    client = login(author)

    for url in (
        f"/collections/{plain.name}/prompts",
        f"/collections/{plain.name}/prompts/new",
        "/collections/real-meme/prompts",
        f"/collections/real-meme/prompts/{prompt.pk}",
        f"/collections/real-meme/prompts/{prompt.pk}/edit",
        f"/collections/real-meme/prompts/{prompt.pk}/delete",
        "/collections/no-such-meme/prompts",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/collections/real-meme/prompts/{prompt.pk}/claim").status_code == 404


def test_a_prompt_of_another_collection_is_a_404(author: User, mona: User, meme: Collection) -> None:
    other = make_meme(mona, name="other-meme")
    prompt = leave_prompt(other, author)

    assert Client().get(f"/collections/harbour-meme/prompts/{prompt.pk}").status_code == 404


def test_a_writer_leaves_an_anonymous_prompt_through_the_form(author: User, mona: User) -> None:
    make_meme(mona, required_tag_types="fandom,relationship")
    client = login(author)

    form = client.get("/collections/harbour-meme/prompts/new")
    response = client.post(
        "/collections/harbour-meme/prompts/new",
        {
            "title": "Storm Night",
            "text": "Mara and Nell, a storm, one lamp.",
            "fandoms": "Lighthouse Stories",
            "relationships": "Mara/Nell",
            "characters": "",
            "freeforms": "Fluff, Storms",
            "anonymous": "on",
            "pseud": author.default_pseud.pk,
        },
    )

    assert form.status_code == 200
    assert b"Relationships (required)" in form.content
    prompt = Prompt.objects.get()
    assert response.status_code == 302 and response["Location"] == prompt_url(prompt)
    assert prompt.anonymous
    assert {tag.name for tag in prompt.tags.all()} == {"Lighthouse Stories", "Mara/Nell", "Fluff", "Storms"}


def test_the_prompt_form_shows_a_missing_required_tag(author: User, mona: User) -> None:
    make_meme(mona, required_tag_types="relationship")

    response = login(author).post(
        "/collections/harbour-meme/prompts/new",
        {"text": "A prompt", "fandoms": "Lighthouse Stories", "pseud": author.default_pseud.pk},
    )

    assert response.status_code == 200
    assert "Add at least one relationship." in response.content.decode()
    assert not Prompt.objects.exists()


def test_the_prompt_form_says_when_prompts_are_not_open(author: User, mona: User) -> None:
    make_meme(mona, prompts_open_at=timezone.now() + timedelta(days=1))
    client = login(author)

    page = client.get("/collections/harbour-meme/prompts/new")
    posted = client.post("/collections/harbour-meme/prompts/new", {"text": "Hi", "pseud": author.default_pseud.pk})

    assert "Prompts open on" in page.content.decode()
    assert b"<form method=\"post\" class=\"stacked\"" not in page.content
    assert posted.status_code == 200
    assert not Prompt.objects.exists()


def test_a_guest_is_sent_to_log_in_before_leaving_a_prompt(meme: Collection) -> None:
    response = Client().get("/collections/harbour-meme/prompts/new")

    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_the_prompt_page_offers_what_each_visitor_may_do(
    author: User, reader: User, mona: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author, anonymous=True)
    url = prompt_url(prompt)

    guest = Client().get(url).content.decode()
    writer = login(reader).get(url).content.decode()
    moderator = login(mona).get(url).content.decode()
    prompter = login(author).get(url).content.decode()

    assert ">Claim<" not in guest and "Log in</a> to claim" in guest
    assert ">Claim<" in writer and "Fill without claiming" in writer and f"/works/new?fill={prompt.pk}" in writer
    assert ">Edit<" not in writer and ">Delete<" not in writer
    assert ">Delete<" in moderator and ">Edit<" not in moderator
    assert ">Edit<" in prompter and ">Delete<" in prompter


def test_claiming_and_dropping_through_the_prompt_page(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    client = login(reader)

    claimed = client.post(prompt_url(prompt) + "/claim", follow=True)
    again = client.post(prompt_url(prompt) + "/claim", follow=True)

    assert "You claimed this prompt." in claimed.content.decode()
    assert "Drop claim" in claimed.content.decode() and "Post a fill" in claimed.content.decode()
    assert "You have already claimed this prompt." in again.content.decode()
    row = Claim.objects.get()
    dropped = client.post(f"/claims/{row.pk}/drop", follow=True)
    assert "Claim dropped." in dropped.content.decode()
    assert refreshed(prompt).claims_count == 0


def test_a_writer_cannot_drop_someone_elses_claim_through_the_page(
    author: User, reader: User, meme: Collection
) -> None:
    row = prompts.claim(prompt=leave_prompt(meme, author), by=reader)

    assert login(author).post(f"/claims/{row.pk}/drop").status_code == 404
    assert Claim.objects.filter(pk=row.pk).exists()


def test_the_prompt_page_lists_claimers_and_fills_and_hides_an_anonymous_prompter(
    author: User, reader: User, co_author: User, mona: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author, anonymous=True)
    prompts.claim(prompt=prompt, by=reader)
    prompts.fill_prompt(work=fill_work(reader, title="The Long Night"), prompt=prompt, by=reader)

    for viewer in (None, co_author, mona, reader):
        client = login(viewer) if viewer else Client()
        content = client.get(prompt_url(prompt)).content.decode()
        assert "Prompt by Anonymous" in content
        assert "The Long Night" in content
        assert 'href="/users/bob/pseuds/bob' in content
        assert_names_nobody(content, author)


def test_the_prompter_edits_and_deletes_through_the_pages(author: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    client = login(author)

    form = client.get(prompt_url(prompt) + "/edit")
    edited = client.post(
        prompt_url(prompt) + "/edit",
        {"title": "Renamed", "text": "New text", "fandoms": "Lighthouse Stories", "relationships": "Mara/Nell", "pseud": author.default_pseud.pk},
    )
    confirm = client.get(prompt_url(prompt) + "/delete")
    deleted = client.post(prompt_url(prompt) + "/delete")

    assert form.status_code == 200
    assert edited.status_code == 302
    assert confirm.status_code == 200
    assert deleted.status_code == 302 and deleted["Location"] == "/collections/harbour-meme/prompts"
    assert not Prompt.objects.exists()


def test_the_edit_page_is_a_404_to_everyone_but_the_prompter(
    author: User, reader: User, mona: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author, anonymous=True)

    for other in (reader, mona):
        response = login(other).get(prompt_url(prompt) + "/edit")
        assert response.status_code == 404
        assert_names_nobody(response.content, author)
    assert login(reader).get(prompt_url(prompt) + "/delete").status_code == 404


def test_my_claims_page_links_to_post_a_fill(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author, title="Storm Night", anonymous=True)
    prompts.claim(prompt=prompt, by=reader)

    page = login(reader).get("/claims").content.decode()

    assert "Storm Night" in page
    assert f"/works/new?fill={prompt.pk}" in page
    assert "Drop claim" in page
    assert_names_nobody(page, author)


def test_the_work_form_preselects_a_claimed_prompt_from_the_link(author: User, reader: User, meme: Collection) -> None:
    claimed = leave_prompt(meme, author, title="Claimed One")
    unclaimed = leave_prompt(meme, author, title="Unclaimed One")
    prompts.claim(prompt=claimed, by=reader)
    client = login(reader)

    with_claim = client.get(f"/works/new?fill={claimed.pk}").content.decode()
    without_claim = client.get(f"/works/new?fill={unclaimed.pk}").content.decode()

    assert f'<option value="{claimed.pk}" selected>' in with_claim
    assert f'name="fill_prompt" value="{unclaimed.pk}"' in without_claim
    assert "Posting a fill for" in without_claim


def _work_form_data(**overrides: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "The Long Night",
        "fandoms": "Lighthouse Stories",
        "rating": "General Audiences",
        "warnings": ["No Archive Warnings Apply"],
        "language": "en",
        "comment_permission": "everyone",
        "text": "The lamp burned all night.",
        "format": "text",
        "expected_chapters": "1",
        "action": "post",
    }
    data.update(overrides)
    return data


def test_posting_a_fill_through_the_work_form_shows_it_on_both_pages(
    author: User, reader: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author, anonymous=True)
    prompts.claim(prompt=prompt, by=reader)
    client = login(reader)

    posted = client.post("/works/new", _work_form_data(pseuds=str(reader.default_pseud.pk), fill_claim=str(prompt.pk)))

    work = Work.objects.get(title="The Long Night")
    assert posted.status_code == 302
    work_page = Client().get(work.get_absolute_url()).content.decode()
    assert "In response to" in work_page and "a prompt</a> by Anonymous in" in work_page
    assert "Harbour Prompt Meme" in work_page
    assert_names_nobody(work_page, author)
    assert "The Long Night" in Client().get(prompt_url(prompt)).content.decode()


def test_the_work_form_takes_a_prompt_address_and_shows_the_services_errors(
    author: User, reader: User, meme: Collection
) -> None:
    prompt = leave_prompt(meme, author)
    client = login(reader)
    Collection.objects.filter(pk=meme.pk).update(closed=True)

    unknown = client.post("/works/new", _work_form_data(pseuds=str(reader.default_pseud.pk), fill_prompt="99999"))
    closed = client.post(
        "/works/new",
        _work_form_data(pseuds=str(reader.default_pseud.pk), fill_prompt=f"http://testserver{prompt_url(prompt)}"),
    )

    assert "There is no prompt “99999”." in unknown.content.decode()
    assert "is closed: it takes no new fills." in closed.content.decode()
    assert not Work.objects.exists()


def test_the_work_page_names_a_visible_prompter(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author)
    work = fill_work(reader, fill_prompt=prompt)

    page = Client().get(work.get_absolute_url()).content.decode()

    assert 'by <a href="/users/alice/pseuds/alice' in page


def test_the_work_page_follows_a_fill_added_after_a_guest_cached_it(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author, anonymous=True)
    work = fill_work(reader)
    assert "In response to" not in Client().get(work.get_absolute_url()).content.decode()

    prompts.fill_prompt(work=work, prompt=prompt, by=reader)

    assert "In response to" in Client().get(work.get_absolute_url()).content.decode()


# Matching ----------------------------------------------------------------------------


def test_best_matches_ranks_the_prompt_the_work_was_written_for_first(
    author: User, reader: User, meme: Collection
) -> None:
    canonical = Tag.objects.create(name="Mara/Nell", type=TagType.RELATIONSHIP, canonical=True)
    Tag.objects.create(name="Nell/Mara", type=TagType.RELATIONSHIP, synonym_of=canonical)
    right = leave_prompt(
        meme, author, title="Storm Lamp", text="During a winter storm the lamp goes out and Nell rows to the lighthouse."
    )
    leave_prompt(meme, author, title="Same Pair", text="A picnic on the cliffs in summer, with too many gulls.")
    leave_prompt(
        meme, author, title="Same Words", text="A winter storm, a lamp going out, a lighthouse.",
        tags=prompt_tags(relationships=["Ada/Eve"]),
    )
    work = fill_work(
        reader,
        tags=default_tags(fandoms=["Lighthouse Stories"], relationships=["Nell/Mara"]),
        prompt_text="the lamp goes out during a winter storm and Nell has to row to the lighthouse",
        prompt_relationship="Mara/Nell",
    )

    ranked = matching.best_matches(work)

    assert ranked[0][0] == right
    assert len(ranked) == 3 and ranked[0][1] > ranked[1][1] >= ranked[2][1]
    assert all(0 < score <= 1 for _, score in ranked)


def test_best_matches_can_be_kept_to_one_collection_and_skips_closed_memes(
    author: User, reader: User, mona: User, meme: Collection
) -> None:
    other = make_meme(mona, name="other-meme")
    closed = make_meme(mona, name="closed-meme")
    leave_prompt(meme, author, title="Here")
    leave_prompt(other, author, title="There")
    leave_prompt(closed, author, title="Closed")
    Collection.objects.filter(pk=closed.pk).update(closed=True)
    work = fill_work(reader, tags=default_tags(fandoms=["Lighthouse Stories"], relationships=["Mara/Nell"]))

    everywhere = {prompt.title for prompt, _ in matching.best_matches(work)}
    here = {prompt.title for prompt, _ in matching.best_matches(work, collection=meme)}

    assert everywhere == {"Here", "There"}
    assert here == {"Here"}


def test_text_similarity_ignores_stop_words_and_case() -> None:
    assert matching.text_similarity("The Lamp and the Storm", "storm lamp") == 1.0
    assert matching.text_similarity("the and of", "lamp") == 0.0


def test_the_match_page_is_for_the_works_creators_only(author: User, reader: User, meme: Collection) -> None:
    leave_prompt(meme, author)
    work = fill_work(reader, prompt_text="a storm and a lamp")
    url = f"/works/{work.pk}/match-prompt"

    assert login(author).get(url).status_code == 404
    assert login(author).post(url, {"prompt": "1"}).status_code == 404
    assert Client().get(url).status_code == 302


def test_linking_a_work_to_a_prompt_from_the_match_page(author: User, reader: User, meme: Collection) -> None:
    prompt = leave_prompt(meme, author, anonymous=True, title="Storm Lamp")
    work = fill_work(
        reader, tags=default_tags(relationships=["Mara/Nell"]), prompt_text="storm lamp", prompt_relationship="Mara/Nell"
    )
    client = login(reader)

    page = client.get(f"/works/{work.pk}/match-prompt").content.decode()
    linked = client.post(f"/works/{work.pk}/match-prompt", {"prompt": str(prompt.pk)})

    assert "Storm Lamp" in page and "Link to this prompt" in page
    assert_names_nobody(page.replace("bob", ""), author)
    assert linked.status_code == 302 and linked["Location"] == work.get_absolute_url()
    assert Fill.objects.filter(work=work, prompt=prompt).exists()
