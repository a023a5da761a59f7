"""Email digests: one message for many notifications, at most one an hour, opt-outs kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from django_tasks import default_task_backend

from chapbook.feedback.digests import send_digest
from chapbook.feedback.models import Notification, Preferences
from chapbook.feedback.notifications import notify, notify_kudos
from chapbook.feedback.subscriptions import subscribe
from chapbook.people.models import User
from chapbook.works.models import Work
from chapbook.works.services import ChapterInput, add_chapter

MakeWork = Callable[..., Work]
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run what notify() leaves for after the commit (the test's transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_it_sends_one_message_for_several_notifications(
    author: User, make_work: MakeWork, commit: Any
) -> None:
    work = make_work(author, title="Tidewater")
    with commit():
        notify(users=[author], kind="comment", actor="bob", text="commented on Tidewater", url=f"/works/{work.pk}/#c1")
        notify(
            users=[author], kind="reply", actor="carol", text="replied to your comment on Tidewater", url="/works/9/"
        )
        for name in ("erin", "frank", "grace"):
            notify_kudos(users=[author], work=work, actor=name, url=f"/works/{work.pk}/")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.org"]
    assert message.subject == f"[{settings.SITE_NAME}] 3 new notifications"
    assert "bob commented on Tidewater" in message.body
    assert "carol replied to your comment on Tidewater" in message.body
    assert "grace and 2 others left kudos on Tidewater" in message.body
    assert f"{settings.BASE_URL}/works/{work.pk}/#c1" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{settings.BASE_URL}/works/9/"' in str(html)
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    assert Preferences.objects.get(user=author).last_digest_at is not None


def test_it_emails_subscribers_about_a_new_chapter(
    author: User, reader: User, make_work: MakeWork, commit: Any
) -> None:
    work = make_work(author, title="Tidewater")
    subscribe(by=reader, work=work)

    with commit():
        add_chapter(work, by=author, chapter=ChapterInput(text="<p>The storm.</p>"))

    assert [m.to for m in mail.outbox] == [["bob@example.org"]]
    assert "Tidewater: Chapter 2 posted" in mail.outbox[0].body
    assert f"{settings.BASE_URL}/works/{work.pk}/chapters/2/" in mail.outbox[0].body


def test_it_sends_nothing_within_the_hour_and_schedules_itself_for_when_it_is_up(
    author: User, commit: Any, settings: Any
) -> None:
    settings.TASKS = DUMMY
    last = timezone.now() - timedelta(minutes=20)
    Preferences.objects.create(user=author, last_digest_at=last)
    notify(users=[author], kind="comment", actor="bob", text="commented on Tidewater")

    with commit():
        result = send_digest.call(author.pk)

    assert mail.outbox == []
    assert result["sent"] == 0
    queued = default_task_backend.results  # type: ignore[attr-defined]
    assert [(r.task.name, r.args, r.task.run_after) for r in queued] == [
        ("send_digest", [author.pk], last + timedelta(hours=1))
    ]
    assert Notification.objects.get().emailed_at is None


def test_it_sends_once_the_hour_is_up(author: User) -> None:
    Preferences.objects.create(user=author, last_digest_at=timezone.now() - timedelta(minutes=61))
    notify(users=[author], kind="comment", actor="bob", text="commented on Tidewater")

    send_digest.call(author.pk)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.endswith("1 new notification")


def test_it_queues_one_digest_task_for_a_burst_of_notifications(author: User, commit: Any, settings: Any) -> None:
    settings.TASKS = DUMMY
    for number in range(3):
        with commit():
            notify(users=[author], kind="comment", actor="bob", text=f"commented {number}")

    queued = default_task_backend.results  # type: ignore[attr-defined]
    assert [r.task.name for r in queued] == ["send_digest"]


def test_it_sends_nothing_when_run_twice(author: User) -> None:
    notify(users=[author], kind="comment", actor="bob", text="commented on Tidewater")

    send_digest.call(author.pk)
    send_digest.call(author.pk)

    assert len(mail.outbox) == 1


def test_it_leaves_out_kinds_the_user_opted_out_of_for_good(author: User, make_work: MakeWork) -> None:
    work = make_work(author, title="Tidewater")
    Preferences.objects.create(user=author, email_kudos=False, email_subscriptions=False)
    notify(users=[author], kind="comment", actor="bob", text="commented on Tidewater")
    notify_kudos(users=[author], work=work, actor="erin", url="/works/1/")
    notify(users=[author], kind="subscription", text="Elsewhere: Chapter 2 posted")

    send_digest.call(author.pk)
    Preferences.objects.filter(user=author).update(
        email_kudos=True, email_subscriptions=True, last_digest_at=timezone.now() - timedelta(hours=2)
    )
    send_digest.call(author.pk)

    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "bob commented on Tidewater" in body
    assert "kudos" not in body and "Chapter 2" not in body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_it_sends_nothing_when_every_kind_is_opted_out(author: User) -> None:
    Preferences.objects.create(user=author, email_comments=False)
    notify(users=[author], kind="comment", actor="bob", text="commented on Tidewater")

    send_digest.call(author.pk)

    assert mail.outbox == []
    assert Preferences.objects.get(user=author).last_digest_at is None


def test_it_does_not_email_what_was_already_read_in_the_inbox(author: User) -> None:
    notify(users=[author], kind="comment", actor="bob", text="commented on Seen")
    Notification.objects.update(read_at=timezone.now())
    notify(users=[author], kind="comment", actor="bob", text="commented on Unseen")

    send_digest.call(author.pk)

    assert "commented on Unseen" in mail.outbox[0].body
    assert "commented on Seen" not in mail.outbox[0].body


def test_it_sends_nothing_to_a_user_without_an_email_address(author: User, commit: Any) -> None:
    User.objects.filter(pk=author.pk).update(email="")

    with commit():
        notify(users=[author], kind="comment", actor="bob", text="commented on Tidewater")

    assert mail.outbox == []
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_it_puts_the_rows_back_when_the_mail_server_fails(author: User, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.mail import EmailMultiAlternatives

    notify(users=[author], kind="comment", actor="bob", text="commented on Tidewater")

    def fail(self: Any, fail_silently: bool = False) -> int:
        raise OSError("mail server down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", fail)
    with pytest.raises(OSError):
        send_digest.call(author.pk)

    assert Notification.objects.get().emailed_at is None
    assert Preferences.objects.get(user=author).last_digest_at is None
