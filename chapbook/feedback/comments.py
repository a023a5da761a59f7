"""Comments on works and chapters: posting, replies, editing, deleting, moderation, and reading.

The rules, as on AO3 unless noted:

* A comment goes on a posted work the commenter may see; its creators choose whether
  everyone, only logged-in users or no one may comment, and whether comments wait for
  their approval. Creators' own comments never wait.
* Guests give a name and an email address. The address is never shown to anyone; it is
  used only to email them about replies when they ask for that.
* Guest comments with several links wait for approval even on unmoderated works, and
  everyone is rate-limited (see `ratelimit`).
* A reply joins its parent's thread, one level deeper, to any depth. Nobody but the
  work's creators may reply to a comment that is still waiting for approval, and a
  creator's reply approves it (they have read it, after all).
* A deleted comment with replies stays as a placeholder so the thread keeps its shape;
  one without replies goes, and so does any placeholder left without replies by that.

`Work.comments_count` counts approved comments that are not deleted, changed only
through `counters.bump` in the same transaction as the row it counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.paginator import Page, Paginator
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from chapbook.feedback import counters, spam
from chapbook.feedback.models import Comment, CommentStatus, NotificationKind
from chapbook.feedback.notifications import notify
from chapbook.feedback.ratelimit import check_comment_rate
from chapbook.lib.sanitize import html_to_text, sanitize_comment
from chapbook.people.models import Pseud, User
from chapbook.works.models import Chapter, CommentPermission, Creatorship, Work
from chapbook.works.selectors import AnyUser, works_visible_to

# AO3's limit, counted on what the reader typed (a line break counts once).
MAX_LENGTH = 10_000
GUEST_NAME_MAX = 100
# Top-level threads per page of a work's comments.
THREADS_PER_PAGE = 20

EMPTY = "Please write something: the comment is empty."
DRAFT = "You can't comment on a draft. Post the work first."
COMMENTS_OFF = "Comments are turned off on this work."
USERS_ONLY = "Only logged-in users can comment on this work. Log in to comment."
PARENT_DELETED = "That comment was deleted."
PARENT_ELSEWHERE = "That comment is not on this work."
PARENT_HELD = "That comment is waiting for the creator's approval; you can reply once it is approved."
WRONG_CHAPTER = "That chapter is not part of this work."
NOT_VISIBLE = "You can't comment on this work."
GUEST_NAME = "Please give a name to comment as a guest."
GUEST_EMAIL = "Please give a valid email address. It is never shown; we only use it to tell you about replies."
WRONG_PSEUD = "Choose one of your own pseuds."
DELETED = "That comment was deleted."

NEVER_SHOWN = "(This comment was deleted.)"


# Helpers ---------------------------------------------------------------------------------


def _viewer(user: AnyUser | None) -> AnyUser:
    return user if user is not None else AnonymousUser()


def creator_user_ids(work: Work) -> set[int]:
    return set(Creatorship.objects.filter(work=work, accepted=True).values_list("pseud__user_id", flat=True))


def too_long_message(length: int) -> str:
    return f"Comments can be at most {MAX_LENGTH:,} characters long; yours has {length:,}."


def typed_length(text: str) -> int:
    """Length as the reader typed it: browsers send each line break as CR LF but count it once."""
    return len(text.replace("\r\n", "\n"))


def clean_text(text: str) -> str:
    """The sanitized HTML of a comment's text, or ValidationError {"text": ...}."""
    length = typed_length(text)
    if length > MAX_LENGTH:
        raise ValidationError({"text": [too_long_message(length)]})
    html = sanitize_comment(text)
    # Markup with nothing to read ("<p> </p>", a lone image) is as empty as no text.
    if not html or not html_to_text(html).strip():
        raise ValidationError({"text": [EMPTY]})
    return html


def commenting_closed_reason(work: Work, *, logged_in: bool) -> str | None:
    """Why this reader may not comment on `work`, or None when they may. No query."""
    if work.draft:
        return DRAFT
    if work.comment_permission == CommentPermission.OFF:
        return COMMENTS_OFF
    if work.comment_permission == CommentPermission.USERS and not logged_in:
        return USERS_ONLY
    return None


def author_name(comment: Comment) -> str:
    """The name a comment is signed with: its pseud's, or the guest's own.

    Anything shown to others goes through `shown_author_name`, which hides the creators
    of an anonymous work.
    """
    name = getattr(comment, "pseud_name", None)
    if name is None and comment.pseud_id is not None:
        name = comment.pseud.name if comment.pseud else ""
    return name or comment.guest_name or "Anonymous"


# As on AO3: on an anonymous work, its creators' comments and replies are signed with this,
# never with their pseud (a reply would otherwise give the work's creator away).
ANONYMOUS_CREATOR = "Anonymous Creator"


def signs_as_anonymous_creator(work: Work, user_id: int | None, creators: set[int]) -> bool:
    return bool(work.anonymous and user_id is not None and user_id in creators)


def shown_author_name(comment: Comment, work: Work, creators: set[int] | None = None) -> str:
    """The name a comment shows to readers, in pages, notifications and emails."""
    # The creators are only looked up for an anonymous work: nobody else signs differently.
    if work.anonymous and signs_as_anonymous_creator(
        work, comment.user_id, creator_user_ids(work) if creators is None else creators
    ):
        return ANONYMOUS_CREATOR
    return author_name(comment)


def comment_url(comment: Comment | int) -> str:
    """The permalink, which sends the reader to the right page and anchor."""
    return reverse("feedback:comment", args=[comment if isinstance(comment, int) else comment.pk])


def _in_words(work: Work, chapter: Chapter | None) -> str:
    if chapter is not None and work.chapter_count > 1:
        return f"{work.title} (Chapter {chapter.position})"
    return work.title


# Posting ---------------------------------------------------------------------------------


@dataclass
class _Author:
    user: User | None
    pseud: Pseud | None
    guest_name: str = ""
    guest_email: str = ""
    guest_notify: bool = False

    @property
    def name(self) -> str:
        return self.pseud.name if self.pseud is not None else self.guest_name


def _author(
    by: User | None, pseud: Pseud | None, guest_name: str, guest_email: str, guest_notify: bool
) -> _Author:
    if by is not None:
        if pseud is None:
            pseud = by.default_pseud
        elif pseud.user_id != by.pk:
            raise ValidationError({"pseud": [WRONG_PSEUD]})
        return _Author(user=by, pseud=pseud)
    errors: dict[str, list[str]] = {}
    name = " ".join(guest_name.split())[:GUEST_NAME_MAX]
    if not name:
        errors["guest_name"] = [GUEST_NAME]
    email = guest_email.strip()
    try:
        validate_email(email)
    except ValidationError:
        errors["guest_email"] = [GUEST_EMAIL]
    if errors:
        raise ValidationError(errors)
    return _Author(user=None, pseud=None, guest_name=name, guest_email=email, guest_notify=bool(guest_notify))


def post_comment(
    *,
    work: Work,
    by: User | None,
    text: str,
    chapter: Chapter | None = None,
    parent: Comment | None = None,
    pseud: Pseud | None = None,
    guest_name: str = "",
    guest_email: str = "",
    guest_notify: bool = False,
    ip: str | None = None,
) -> Comment:
    """Post a comment on `work` (or one of its chapters), or a reply to `parent`, by `by` or a guest.

    Raises ValidationError (a message, or {field: [messages]} for text, guest_name,
    guest_email, pseud), PermissionDenied for a work `by` may not see, and
    `ratelimit.RateLimited` when they comment too fast (checked last, once the comment is
    valid, so a mistyped form does not use up the reader's allowance).
    """
    # Fresh from the selector: the page the form came from may predate the creator
    # turning comments off, or the work being restricted.
    current = works_visible_to(_viewer(by)).filter(pk=work.pk).first()
    if current is None:
        raise PermissionDenied(NOT_VISIBLE)
    work = current
    closed = commenting_closed_reason(work, logged_in=by is not None)
    if closed:
        raise ValidationError(closed)
    if chapter is not None and chapter.work_id != work.pk:
        raise ValidationError(WRONG_CHAPTER)
    if parent is not None and parent.work_id != work.pk:
        raise ValidationError(PARENT_ELSEWHERE)
    author = _author(by, pseud, guest_name, guest_email, guest_notify)
    html = clean_text(text)

    creators = creator_user_ids(work)
    by_creator = by is not None and by.pk in creators
    held = not by_creator and (work.moderate_comments or (by is None and spam.should_hold_guest_comment(html)))

    with transaction.atomic():
        if parent is not None:
            # Locked, and read again: a delete racing this reply must either see the reply
            # (and leave a placeholder) or happen first (and this reply is refused).
            parent = Comment.objects.select_for_update().filter(pk=parent.pk).first()
            if parent is None or parent.deleted:
                raise ValidationError(PARENT_DELETED)
            if parent.status == CommentStatus.HELD and not by_creator:
                raise ValidationError(PARENT_HELD)
            chapter = parent.chapter
        check_comment_rate(user=by, ip=ip)
        comment = Comment.objects.create(
            work=work,
            chapter=chapter,
            parent=parent,
            thread_id=(parent.thread_id or parent.pk) if parent is not None else None,
            depth=parent.depth + 1 if parent is not None else 0,
            user=author.user,
            pseud=author.pseud,
            guest_name=author.guest_name,
            guest_email=author.guest_email,
            guest_notify=author.guest_notify,
            html=html,
            status=CommentStatus.HELD if held else CommentStatus.APPROVED,
            ip=ip or None,
        )
        if parent is None:
            # A top comment is its own thread; its id exists only after the insert.
            Comment.objects.filter(pk=comment.pk).update(thread=comment.pk)
            comment.thread_id = comment.pk
        if parent is not None and parent.status == CommentStatus.HELD:
            _approve(parent, work=work, approver_id=by.pk if by is not None else None)
        counters.bump(work.pk, **({} if held else {"comments": 1}))
        actor = ANONYMOUS_CREATOR if by_creator and work.anonymous else author.name
        _tell_creators(comment, work=work, chapter=chapter, creators=creators - {by.pk if by else 0}, actor=actor)
        if not held:
            _tell_parent(comment, work=work, actor=actor, approver_id=None)
    return comment


def _tell_creators(comment: Comment, *, work: Work, chapter: Chapter | None, creators: set[int], actor: str) -> None:
    """A comment on my work: each creator's inbox, except the parent's author, told as a reply."""
    if comment.status == CommentStatus.APPROVED and comment.parent is not None and comment.parent.user_id:
        creators = creators - {comment.parent.user_id}
    if not creators:
        return
    where = _in_words(work, chapter)
    if comment.status == CommentStatus.HELD:
        text, url = f"left a comment awaiting your approval on {where}", reverse("feedback:held_comments")
    elif comment.parent is not None:
        text, url = f"replied to a comment on {where}", comment_url(comment)
    else:
        text, url = f"commented on {where}", comment_url(comment)
    notify(users=creators, kind=NotificationKind.COMMENT, text=text, url=url, actor=actor, work=work, comment=comment)


def _tell_parent(comment: Comment, *, work: Work, actor: str, approver_id: int | None) -> None:
    """A reply, once readers can see it: the parent's author in their inbox, or a guest by email."""
    parent = comment.parent
    if parent is None:
        return
    if parent.user_id is not None:
        if parent.user_id not in {comment.user_id, approver_id}:
            notify(
                users=[parent.user_id],
                kind=NotificationKind.REPLY,
                text=f"replied to your comment on {work.title}",
                url=comment_url(comment),
                actor=actor,
                work=work,
                comment=comment,
            )
    elif parent.guest_notify and parent.guest_email and parent.guest_email.lower() != comment.guest_email.lower():
        reply_id = comment.pk
        transaction.on_commit(lambda: email_guest_reply.enqueue(reply_id))


# Editing, deleting, approving ------------------------------------------------------------


def edit_comment(comment: Comment, *, by: User, text: str) -> Comment:
    """Change the text of one's own comment; it shows as "Edited" from then on."""
    if comment.user_id is None or comment.user_id != by.pk:
        raise PermissionDenied("You can only edit your own comments.")
    if comment.deleted:
        raise ValidationError(DELETED)
    html = clean_text(text)
    with transaction.atomic():
        now = timezone.now()
        changed = Comment.objects.filter(pk=comment.pk, deleted=False).update(html=html, edited_at=now)
        if not changed:
            raise ValidationError(DELETED)
        comment.html, comment.edited_at = html, now
        # No counter moves, but the guest page cache must not keep the old text.
        counters.bump(comment.work_id)
    return comment


def can_delete(user: AnyUser, comment: Comment, creators: Iterable[int]) -> bool:
    """Its author, the work's creators and staff may delete a comment."""
    if not user.is_authenticated:
        return False
    return comment.user_id == user.pk or user.pk in set(creators) or bool(user.is_staff)


def delete_comment(comment: Comment, *, by: User) -> None:
    """Delete a comment: a placeholder if it has replies, gone if it has none."""
    if not can_delete(by, comment, creator_user_ids(comment.work)):
        raise PermissionDenied("You can't delete this comment.")
    with transaction.atomic():
        # Locked so that a reply being posted to it waits (see post_comment).
        row = Comment.objects.select_for_update().filter(pk=comment.pk).first()
        if row is None or row.deleted:
            return
        counted = row.status == CommentStatus.APPROVED
        if Comment.objects.filter(parent=row).exists():
            Comment.objects.filter(pk=row.pk).update(deleted=True, html="")
        else:
            Comment.objects.filter(pk=row.pk).delete()
            _remove_empty_placeholders(row.parent_id)
        counters.bump(row.work_id, **({"comments": -1} if counted else {}))
    comment.deleted = True
    comment.html = ""


def _remove_empty_placeholders(parent_id: int | None) -> None:
    """Placeholders exist only to hold replies: one left with none goes, up the thread."""
    while parent_id is not None:
        row = Comment.objects.filter(pk=parent_id, deleted=True).values_list("pk", "parent_id").first()
        if row is None or Comment.objects.filter(parent_id=parent_id).exists():
            return
        Comment.objects.filter(pk=parent_id).delete()
        parent_id = row[1]


def _approve(comment: Comment, *, work: Work, approver_id: int | None) -> bool:
    # The conditional update is what makes two creators approving at once count it once.
    if not Comment.objects.filter(pk=comment.pk, status=CommentStatus.HELD, deleted=False).update(
        status=CommentStatus.APPROVED
    ):
        return False
    comment.status = CommentStatus.APPROVED
    counters.bump(work.pk, comments=1)
    _tell_parent(comment, work=work, actor=shown_author_name(comment, work), approver_id=approver_id)
    return True


def approve_comment(comment: Comment, *, by: User) -> Comment:
    """A creator lets a held comment show; its parent's author hears about it only now."""
    work = comment.work
    if by.pk not in creator_user_ids(work):
        raise PermissionDenied("Only the work's creators can approve comments on it.")
    if comment.deleted:
        raise ValidationError(DELETED)
    with transaction.atomic():
        _approve(comment, work=work, approver_id=by.pk)
    comment.status = CommentStatus.APPROVED
    return comment


# Guests' reply emails ----------------------------------------------------------------------

_STOP_SALT = "chapbook.feedback.comments.stop-emails"


def stop_emails_token(comment: Comment) -> str:
    """A token that lets the guest who wrote `comment` stop its reply emails, without an account."""
    return signing.Signer(salt=_STOP_SALT).sign(str(comment.pk)).split(":", 1)[1]


def stop_emails_token_valid(comment: Comment, token: str) -> bool:
    try:
        # unsign compares in constant time.
        return signing.Signer(salt=_STOP_SALT).unsign(f"{comment.pk}:{token}") == str(comment.pk)
    except signing.BadSignature:
        return False


def stop_guest_emails(comment: Comment, *, token: str) -> None:
    if not stop_emails_token_valid(comment, token):
        raise PermissionDenied("That link is not valid.")
    with transaction.atomic():
        Comment.objects.filter(pk=comment.pk).update(guest_notify=False)
    comment.guest_notify = False


@task()
def email_guest_reply(reply_id: int) -> bool:
    """Email a guest who asked for it that someone replied to their comment.

    Checked again when it runs: the reply may be gone, or the work no longer public, in
    which case its text must not go out by email either.
    """
    reply = Comment.objects.select_related("parent", "work", "pseud").filter(pk=reply_id).first()
    if reply is None or reply.deleted or reply.status != CommentStatus.APPROVED:
        return False
    parent = reply.parent
    if parent is None or parent.user_id is not None or not parent.guest_notify or not parent.guest_email:
        return False
    work = reply.work
    if not works_visible_to(AnonymousUser()).filter(pk=work.pk).exists():
        return False
    context = {
        "site_name": settings.SITE_NAME,
        "guest_name": parent.guest_name,
        "actor": shown_author_name(reply, work),
        "work_title": work.title,
        "reply_text": html_to_text(reply.html),
        "url": settings.BASE_URL + comment_url(reply),
        "stop_url": settings.BASE_URL
        + reverse("feedback:comment_stop_emails", args=[parent.pk, stop_emails_token(parent)]),
    }
    subject = " ".join(render_to_string("feedback/email/reply_to_guest_subject.txt", context).split())
    body = render_to_string("feedback/email/reply_to_guest.txt", context)
    send_mail(subject, body, None, [parent.guest_email])
    return True


# Reading ---------------------------------------------------------------------------------


@dataclass
class CommentNode:
    comment: Comment
    replies: list[CommentNode] = field(default_factory=list)


def visible_filter(user: AnyUser, *, creator: bool) -> Q:
    """Which comments `user` sees: approved ones; held ones too if a creator, or their own."""
    if creator:
        return Q()
    if user.is_authenticated:
        return Q(status=CommentStatus.APPROVED) | Q(user_id=user.pk)
    return Q(status=CommentStatus.APPROVED)


def _scope(work: Work, chapter: Chapter | int | None) -> QuerySet[Comment]:
    comments = Comment.objects.filter(work=work)
    if isinstance(chapter, Chapter):
        return comments.filter(chapter=chapter)
    if isinstance(chapter, int):
        # By position: saves the page a query to find the chapter's id.
        return comments.filter(chapter__work=work, chapter__position=chapter)
    return comments


def _full_rows(comments: QuerySet[Comment]) -> QuerySet[Comment]:
    # The guest's email and everyone's IP are never loaded for display: what is not in
    # memory cannot be rendered by mistake.
    return (
        comments.defer("guest_email", "ip")
        .annotate(pseud_name=F("pseud__name"), username=F("user__username"), chapter_position=F("chapter__position"))
        .order_by("created_at", "pk")
    )


def _kept(rows: Iterable[tuple[int, int | None, bool]]) -> tuple[list[int], set[int], int]:
    """From (pk, parent_id, deleted) in posting order: top ids, every id to show, and how many are not deleted.

    Placeholders with nothing visible under them are left out, and so are replies whose
    parent the reader cannot see (which the rules do not produce, but a page must not break).
    """
    rows = list(rows)
    present = {pk for pk, _, _ in rows}
    children: dict[int, list[int]] = {}
    deleted: set[int] = set()
    tops: list[int] = []
    for pk, parent_id, is_deleted in rows:
        if is_deleted:
            deleted.add(pk)
        if parent_id is None:
            tops.append(pk)
        elif parent_id in present:
            children.setdefault(parent_id, []).append(pk)
    kept: set[int] = set()
    # Iterative post-order walk: threads may be deeper than Python's recursion limit.
    for top in tops:
        stack: list[tuple[int, bool]] = [(top, False)]
        while stack:
            pk, expanded = stack.pop()
            if not expanded:
                stack.append((pk, True))
                stack.extend((child, False) for child in children.get(pk, ()))
            elif pk not in deleted or any(child in kept for child in children.get(pk, ())):
                kept.add(pk)
    count = sum(1 for pk in kept if pk not in deleted)
    return [pk for pk in tops if pk in kept], kept, count


def _tree(comments: Iterable[Comment], kept: set[int]) -> list[CommentNode]:
    nodes = {comment.pk: CommentNode(comment) for comment in comments if comment.pk in kept}
    tops: list[CommentNode] = []
    for node in nodes.values():
        parent_id = node.comment.parent_id
        if parent_id is None:
            tops.append(node)
        elif parent_id in nodes:
            nodes[parent_id].replies.append(node)
    return tops


def comments_for(work: Work, *, user: AnyUser, chapter: Chapter | None = None) -> list[CommentNode]:
    """Every thread of `work` (or of one chapter) that `user` may see, oldest first, as trees.

    Two queries (creators, comments), whatever the number of comments.
    """
    user = _viewer(user)
    creator = user.is_authenticated and user.pk in creator_user_ids(work)
    rows = list(_full_rows(_scope(work, chapter).filter(visible_filter(user, creator=creator))))
    _, kept, _ = _kept((row.pk, row.parent_id, row.deleted) for row in rows)
    return _tree(rows, kept)


def reading_order(threads: list[CommentNode]) -> list[Comment]:
    """Threads flattened depth-first: each comment followed by its replies, oldest first."""
    flat: list[Comment] = []
    stack = list(reversed(threads))
    while stack:
        node = stack.pop()
        flat.append(node.comment)
        stack.extend(reversed(node.replies))
    return flat


def visible_comments(work: Work, *, user: AnyUser, chapter: Chapter | None = None) -> list[Comment]:
    """Every comment `user` may see on `work` (or one chapter), in reading order, for the API.

    Each comes with its user, pseud and chapter loaded (the chapter's text deferred), so
    serialising them costs no further query; guests' email addresses are never loaded.
    Two queries, whatever the number of comments.
    """
    user = _viewer(user)
    creator = user.is_authenticated and user.pk in creator_user_ids(work)
    rows = list(
        _scope(work, chapter)
        .filter(visible_filter(user, creator=creator))
        .select_related("user", "pseud", "chapter")
        .defer("guest_email", "ip", "chapter__html", "chapter__notes", "chapter__end_notes")
        .order_by("created_at", "pk")
    )
    _, kept, _ = _kept((row.pk, row.parent_id, row.deleted) for row in rows)
    return reading_order(_tree(rows, kept))


@dataclass
class CommentPage:
    threads: list[CommentNode]
    page: Page[int]
    # Approved comments (not threads) in this scope, placeholders excluded, as everyone sees them.
    count: int
    # Held comments this reader can see: a creator's queue, or their own waiting comments.
    held: int = 0


def comment_page(
    work: Work,
    *,
    user: AnyUser,
    creator: bool,
    chapter: Chapter | int | None = None,
    number: Any = 1,
    per_page: int = THREADS_PER_PAGE,
) -> CommentPage:
    """One page of threads: two queries (the thread outline, then the page's comments)."""
    visible = _scope(work, chapter).filter(visible_filter(_viewer(user), creator=creator))
    outline = list(visible.order_by("created_at", "pk").values_list("pk", "parent_id", "deleted", "status"))
    tops, kept, _ = _kept((pk, parent_id, deleted) for pk, parent_id, deleted, _ in outline)
    held = sum(1 for pk, _, deleted, status in outline if pk in kept and not deleted and status == CommentStatus.HELD)
    count = sum(1 for pk, _, deleted, status in outline if pk in kept and not deleted and status != CommentStatus.HELD)
    page = Paginator(tops, per_page).get_page(number)
    threads: list[CommentNode] = []
    if page.object_list:
        rows = _full_rows(visible.filter(thread_id__in=list(page.object_list)))
        threads = _tree(rows, kept)
    return CommentPage(threads=threads, page=page, count=count, held=held)


def thread_page_number(
    comment: Comment, *, user: AnyUser, creator: bool, chapter: Chapter | None, per_page: int = THREADS_PER_PAGE
) -> int:
    """Which page of its scope shows `comment`'s thread, for the permalink."""
    visible = _scope(comment.work, chapter).filter(visible_filter(_viewer(user), creator=creator))
    tops, _, _ = _kept(visible.order_by("created_at", "pk").values_list("pk", "parent_id", "deleted"))
    thread_id = comment.thread_id or comment.pk
    index = tops.index(thread_id) if thread_id in tops else 0
    return index // per_page + 1


def comment_visible_to(user: AnyUser, pk: int) -> Comment | None:
    """The comment, with its work, if `user` may see both; else None (a 404)."""
    user = _viewer(user)
    comment = Comment.objects.select_related("work", "chapter", "pseud").filter(pk=pk).first()
    if comment is None or not works_visible_to(user).filter(pk=comment.work_id).exists():
        return None
    if comment.status == CommentStatus.HELD:
        mine = user.is_authenticated and comment.user_id == user.pk
        if not mine and not (user.is_authenticated and user.pk in creator_user_ids(comment.work)):
            return None
    return comment


def held_comments_for(user: AnyUser) -> QuerySet[Comment]:
    """Comments waiting for `user`'s approval, on every work they created, oldest first."""
    if not user.is_authenticated:
        return Comment.objects.none()
    own = Creatorship.objects.filter(pseud__user_id=user.pk, accepted=True).values("work_id")
    return (
        Comment.objects.filter(work_id__in=own, status=CommentStatus.HELD, deleted=False)
        .select_related("work")
        .defer("guest_email", "ip", "work__summary", "work__notes", "work__end_notes", "work__prompt_text")
        .annotate(pseud_name=F("pseud__name"), username=F("user__username"), chapter_position=F("chapter__position"))
        .order_by("created_at", "pk")
    )
