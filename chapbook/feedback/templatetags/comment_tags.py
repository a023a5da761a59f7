"""The comments section of a work's page: `{% comments_section work chapter_position %}`.

Guests' copies of the work page are cached whole and served to every guest, so what this
renders for a guest depends only on the work, the page of comments and the URL: never on
the guest (no names, no "your comment", no per-guest form state). CSRF tokens are fine;
the page cache swaps them per request.

Cost: one query for the creators, one for the outline of the threads, one for the
comments of the page shown, and one for a logged-in reader's pseuds; never more, however
many comments there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.urls import reverse

from chapbook.feedback import comments as service
from chapbook.feedback import spam
from chapbook.feedback.models import Comment, CommentStatus
from chapbook.feedback.views.comments import CommentForm
from chapbook.works.models import Work
from chapbook.works.selectors import AnyUser

register = template.Library()

# Replies indent up to this many levels; deeper ones line up at the last level and say
# whom they answer, so a long back-and-forth stays readable on a phone.
MAX_INDENT = 5


@dataclass
class Row:
    """One step of the nested lists, flattened so the template needs no recursion.

    kind: "item" (open an <li> and show a comment), "end" (close the <li>), "open" and
    "close" (a nested <ul> of replies).
    """

    kind: str
    comment: Comment | None = None
    level: int = 0
    in_reply_to: str = ""
    author: str = ""
    author_url: str = ""
    by_creator: bool = False
    held: bool = False
    can_reply: bool = False
    can_edit: bool = False
    can_delete: bool = False
    can_approve: bool = False


@dataclass
class _Viewer:
    user: AnyUser
    creators: set[int]
    closed: str | None
    work: Work

    @property
    def is_creator(self) -> bool:
        return bool(self.user.is_authenticated and self.user.pk in self.creators)


def _item(node: service.CommentNode, level: int, in_reply_to: str, viewer: _Viewer) -> Row:
    comment = node.comment
    user = viewer.user
    logged_in = user.is_authenticated
    own = logged_in and comment.user_id == user.pk
    held = comment.status == CommentStatus.HELD
    username = getattr(comment, "username", None)
    author = service.author_name(comment)
    if service.signs_as_anonymous_creator(viewer.work, comment.user_id, viewer.creators):
        # No pseud, no profile link: the name alone would give the work's creator away.
        author, username = service.ANONYMOUS_CREATOR, None
    live = not comment.deleted
    return Row(
        kind="item",
        comment=comment,
        level=level,
        in_reply_to=in_reply_to,
        author=author,
        author_url=reverse("people:pseud", args=[username, author]) if username else "",
        by_creator=comment.user_id in viewer.creators,
        held=held,
        can_reply=live and viewer.closed is None and (not held or viewer.is_creator),
        can_edit=live and own,
        can_delete=live and (own or viewer.is_creator or bool(logged_in and user.is_staff)),
        can_approve=live and held and viewer.is_creator,
    )


def thread_rows(threads: list[service.CommentNode], viewer: _Viewer, *, max_indent: int = MAX_INDENT) -> list[Row]:
    """The threads as a flat sequence of list steps, depth-first, replies in posting order."""
    rows: list[Row] = []
    # A stack of pending steps, so that threads of any depth never hit the recursion limit.
    stack: list[tuple[service.CommentNode, int, str] | Row] = [(node, 0, "") for node in reversed(threads)]
    while stack:
        step = stack.pop()
        if isinstance(step, Row):
            rows.append(step)
            continue
        node, level, in_reply_to = step
        item = _item(node, level, in_reply_to, viewer)
        rows.append(item)
        if not node.replies:
            rows.append(Row("end"))
        elif level < max_indent:
            stack.append(Row("end"))
            stack.append(Row("close"))
            stack.extend((reply, level + 1, "") for reply in reversed(node.replies))
            stack.append(Row("open"))
        else:
            # At the last indent: the replies follow as siblings, naming whom they answer.
            name = item.author if not node.comment.deleted else "a deleted comment"
            stack.extend((reply, level, name) for reply in reversed(node.replies))
            stack.append(Row("end"))
    return rows


@register.simple_tag(takes_context=True)
def comments_section(context: Any, work: Work, chapter_position: int | None = None) -> str:
    request = context.get("request")
    user: AnyUser = getattr(request, "user", None) or AnonymousUser()
    logged_in = user.is_authenticated
    closed = service.commenting_closed_reason(work, logged_in=logged_in)
    if work.draft:
        return render_to_string("feedback/_comments_section.html", {"work": work, "closed": closed, "draft": True})
    creators = service.creator_user_ids(work)
    viewer = _Viewer(user=user, creators=creators, closed=closed, work=work)
    # A one-chapter work's page is the work: its comments are the work's, whatever their chapter.
    position = chapter_position if chapter_position and work.chapter_count > 1 else None
    number = request.GET.get("comments_page", 1) if request is not None else 1
    page = service.comment_page(work, user=user, creator=viewer.is_creator, chapter=position, number=number)

    full_view = chapter_position is None and work.chapter_count > 1
    base = request.path if request is not None else work.get_absolute_url()
    page_query = "view_full_work=1&" if full_view else ""

    form = None
    if closed is None:
        pseuds = list(user.pseuds.all()) if logged_in else []  # type: ignore[union-attr]
        form = CommentForm(pseuds=pseuds, guest=not logged_in, initial={"chapter": position or ""})
    return render_to_string(
        "feedback/_comments_section.html",
        {
            "work": work,
            "rows": thread_rows(page.threads, viewer),
            "page": page.page,
            "count": page.count,
            "held": page.held,
            "on_chapter": position,
            "label_chapters": full_view,
            "closed": closed,
            "form": form,
            "action": reverse("feedback:comment_post", args=[work.pk]),
            "honeypot": spam.HONEYPOT_FIELD,
            # Creators' own comments are never held: the note is for everyone else.
            "moderated": work.moderate_comments and not viewer.is_creator,
            "is_creator": viewer.is_creator,
            "login_url": f"{reverse('people:login')}?next={base}",
            "page_url": f"{base}?{page_query}comments_page=",
            # Handed over rather than rendered with the request: a RequestContext would run
            # every context processor again (and their queries) for this one section.
            "user": user,
            "csrf_token": context.get("csrf_token"),
        },
    )
