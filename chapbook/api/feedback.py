"""/api/v1 feedback: kudos, comments, bookmarks, subscriptions and the inbox.

Everything goes through the same services and selectors as the site's pages, so the
rules (who may see a work, once-only kudos, moderation, rate limits) are the site's.
A work, comment or bookmark the caller may not see is a 404 whatever the reason.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError as RequestValidationError
from pydantic import BaseModel, model_validator

from chapbook.api.auth import OPTIONAL_TOKEN_DOC, caller, signed_in, token_required
from chapbook.api.schemas import MAX_ID, FieldErrors, Id, Message, PathId, absolute, page_of
from chapbook.feedback import bookmarks as bookmark_services
from chapbook.feedback import comments as comment_services
from chapbook.feedback import kudos as kudos_services
from chapbook.feedback import notifications as notification_services
from chapbook.feedback import subscriptions as subscription_services
from chapbook.feedback.models import Bookmark, Comment, Notification, Subscription
from chapbook.feedback.ratelimit import RateLimited
from chapbook.people.models import Pseud, User
from chapbook.works.models import Chapter, Series, Work
from chapbook.works.selectors import series_visible_to, works_visible_to

works_router = Router(tags=["feedback"])
bookmarks_router = Router(tags=["bookmarks"])
subscriptions_router = Router(tags=["subscriptions"])
inbox_router = Router(tags=["inbox"])

ERRORS: dict[int, Any] = {400: Message, 401: Message, 403: Message, 404: Message, 422: FieldErrors, 429: Message}
PAGE_SIZE = 50
def visible_work(user: User | AnonymousUser, work_id: int) -> Work:
    """The work, through the visibility selector, without the blurb's prefetches: one query."""
    work = works_visible_to(user).filter(pk=work_id).first()
    if work is None:
        raise Http404
    return work


def _chapter(work: Work, position: int | None) -> Chapter | None:
    if position is None:
        return None
    chapter = work.chapters.filter(position=position).first()
    if chapter is None:
        raise ValidationError({"chapter": [f"This work has no chapter {position}."]})
    return chapter


def _own_pseud(user: User, name: str | None) -> Pseud | None:
    if not name:
        return None
    pseud = user.pseuds.filter(name__iexact=name).first()
    if pseud is None:
        raise ValidationError({"pseud": [f"You have no pseud called “{name}”."]})
    return pseud


def _ip(request: HttpRequest) -> str | None:
    # Stored in a GenericIPAddressField: whatever else a server puts here (a unix socket's
    # path, say) would fail the insert, so it counts as no address.
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


# Kudos -------------------------------------------------------------------------------


class KudosIn(BaseModel):
    chapter: int | None = Field(None, ge=1, description="Leave kudos on this chapter (its position) instead of the work.")


class KudosOut(Schema):
    kudos: int = Field(description="The work's kudos after this one.")
    chapter: int | None
    chapter_kudos: int | None = Field(None, description="The chapter's kudos, when the kudos was on a chapter.")


@works_router.post(
    "/{work_id}/kudos",
    auth=token_required,
    response={201: KudosOut, **ERRORS},
    summary="Leave kudos on a work or one of its chapters",
    description="Once per user per work (and once per chapter). Not on your own work or a draft: 422.",
)
def leave_kudos(request: HttpRequest, work_id: PathId, payload: KudosIn | None = None) -> Status[KudosOut]:
    user = signed_in(request)
    work = visible_work(user, work_id)
    position = payload.chapter if payload else None
    chapter = _chapter(work, position)
    kudos_services.leave_kudos(work=work, user=user, chapter=chapter, ip=_ip(request))
    work.refresh_from_db(fields=["kudos_count"])
    chapter_kudos = chapter.kudos.count() if chapter is not None else None
    return Status(201, KudosOut(kudos=work.kudos_count, chapter=position, chapter_kudos=chapter_kudos))


# Comments ----------------------------------------------------------------------------


class CommentAuthor(Schema):
    pseud: str | None = Field(description="The commenter's pseud; null for a guest.")
    user: str | None = Field(
        description="The commenter's username; null for a guest, and for a creator of an anonymous work "
        "(whose pseud reads “Anonymous Creator”)."
    )
    guest: str | None = Field(description="A guest's name; null for a user. Guests' emails are never shown.")


def _creators_of(work: Work) -> set[int]:
    """The work's creators' user ids, asked once per work for a page of comments (and only
    when the work is anonymous: nobody else's comments are signed differently)."""
    if not work.anonymous:
        return set()
    cached: set[int] | None = getattr(work, "_comment_creator_ids", None)
    if cached is None:
        cached = comment_services.creator_user_ids(work)
        work._comment_creator_ids = cached  # type: ignore[attr-defined]
    return cached


class CommentOut(Schema):
    id: int
    url: str
    parent: int | None
    thread: int | None
    depth: int
    chapter: int | None = Field(description="The chapter's position; null for a comment on the whole work.")
    author: CommentAuthor | None = Field(description="Null for a deleted comment kept as a placeholder.")
    html: str
    status: Literal["approved", "held"]
    deleted: bool
    created: datetime
    edited: datetime | None

    @classmethod
    def from_comment(cls, comment: Comment, work: Work) -> CommentOut:
        author = None
        if not comment.deleted:
            if comment_services.signs_as_anonymous_creator(work, comment.user_id, _creators_of(work)):
                # No pseud, no username: either would give the anonymous work's creator away.
                author = CommentAuthor(pseud=comment_services.ANONYMOUS_CREATOR, user=None, guest=None)
            elif comment.user_id is None:
                author = CommentAuthor(pseud=None, user=None, guest=comment.guest_name)
            else:
                pseud = comment.pseud or comment.user.default_pseud  # type: ignore[union-attr]
                author = CommentAuthor(pseud=pseud.name, user=comment.user.username, guest=None)  # type: ignore[union-attr]
        return cls(
            id=comment.pk,
            url=absolute(f"/comments/{comment.pk}"),
            parent=comment.parent_id,
            thread=comment.thread_id,
            depth=comment.depth,
            chapter=comment.chapter.position if comment.chapter_id else None,  # type: ignore[union-attr]
            author=author,
            html="" if comment.deleted else comment.html,
            status=comment.status,  # type: ignore[arg-type]
            deleted=comment.deleted,
            created=comment.created_at,
            edited=comment.edited_at,
        )


class CommentPage(Schema):
    count: int = Field(description="Comments on all pages.")
    items: list[CommentOut] = Field(description="In thread order: each reply after its parent.")


class CommentIn(BaseModel):
    text: str = Field(description="HTML or plain text; sanitized. At most 10,000 characters.")
    chapter: int | None = Field(None, ge=1, description="Comment on this chapter (its position).")
    parent: int | None = Field(None, ge=1, le=MAX_ID, description="Reply to this comment.")
    pseud: str | None = Field(None, description="Comment as this pseud of yours (users only).")
    name: str = Field("", max_length=100, description="Guests only: the name to show.")
    email: str = Field("", max_length=254, description="Guests only: never shown.")
    notify_replies: bool = Field(False, description="Guests only: email me replies.")


@works_router.get(
    "/{work_id}/comments",
    response={200: CommentPage, 400: FieldErrors, 404: Message},
    summary="A work's comments, threaded",
    openapi_extra=OPTIONAL_TOKEN_DOC,
)
def list_comments(
    request: HttpRequest,
    work_id: PathId,
    chapter: int | None = Query(None, ge=1, description="Only the comments on this chapter (its position)."),
    page: int = Query(1, ge=1),
) -> CommentPage:
    user = caller(request)
    work = visible_work(user, work_id)
    try:
        scope = _chapter(work, chapter)
    except ValidationError as error:
        # A query parameter: a 400 naming it, like the works listing's unknown tags.
        raise RequestValidationError(
            [{"type": "value_error", "loc": ["query", "chapter"], "msg": msg} for msg in error.messages]
        ) from None
    comments = comment_services.visible_comments(work, user=user, chapter=scope)
    count, items = page_of(comments, page, PAGE_SIZE)
    return CommentPage(count=count, items=[CommentOut.from_comment(c, work) for c in items])


@works_router.post(
    "/{work_id}/comments",
    response={201: CommentOut, **ERRORS},
    summary="Comment on a work, or reply to a comment with `parent`",
    description="Guests (no token) give `name` and `email`. Too many comments in a short time: 429 with Retry-After.",
    openapi_extra=OPTIONAL_TOKEN_DOC,
)
def post_comment(request: HttpRequest, work_id: PathId, payload: CommentIn) -> Status[CommentOut] | HttpResponse:
    user = caller(request)
    work = visible_work(user, work_id)
    parent = None
    if payload.parent is not None:
        parent = Comment.objects.filter(pk=payload.parent).first()
        if parent is None:
            raise ValidationError({"parent": ["There is no such comment."]})
    member = user if isinstance(user, User) else None
    try:
        comment = comment_services.post_comment(
            work=work,
            by=member,
            text=payload.text,
            chapter=_chapter(work, payload.chapter),
            parent=parent,
            pseud=_own_pseud(member, payload.pseud) if member else None,
            guest_name="" if member else payload.name,
            guest_email="" if member else payload.email,
            guest_notify=False if member else payload.notify_replies,
            ip=_ip(request),
        )
    except RateLimited as limited:
        return _too_many(request, limited)
    except ValidationError as error:
        raise _in_body_terms(error) from None
    comment = Comment.objects.select_related("user", "pseud", "chapter").get(pk=comment.pk)
    return Status(201, CommentOut.from_comment(comment, work))


# The service's names for a guest's fields, and what this body calls them.
GUEST_FIELDS = {"guest_name": "name", "guest_email": "email", "guest_notify": "notify_replies"}


def _in_body_terms(error: ValidationError) -> ValidationError:
    """The service's field errors under the body's field names, so that `loc` names what the client sent."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({GUEST_FIELDS.get(field, field): messages for field, messages in error.message_dict.items()})


def _too_many(request: HttpRequest, limited: RateLimited) -> HttpResponse:
    from chapbook.api.api import api

    # The service's sentence ("... Try again in 40 seconds."), the same wait in Retry-After.
    response = api.create_response(request, {"detail": str(limited)}, status=429)
    response["Retry-After"] = str(limited.retry_after)
    return response


# Bookmarks ---------------------------------------------------------------------------


class BookmarkOut(Schema):
    id: int
    work: int | None
    series: int | None
    pseud: str
    notes: str
    tags: list[str]
    private: bool
    rec: bool
    created: datetime
    updated: datetime

    @classmethod
    def from_bookmark(cls, bookmark: Bookmark) -> BookmarkOut:
        return cls(
            id=bookmark.pk,
            work=bookmark.work_id,
            series=bookmark.series_id,
            pseud=bookmark.pseud.name,
            notes=bookmark.notes,
            tags=sorted(tag.name for tag in bookmark.tags.all()),
            private=bookmark.private,
            rec=bookmark.rec,
            created=bookmark.created_at,
            updated=bookmark.updated_at,
        )


class BookmarkPage(Schema):
    count: int
    items: list[BookmarkOut]


class BookmarkIn(BaseModel):
    work: int | None = Field(None, ge=1, le=MAX_ID)
    series: int | None = Field(None, ge=1, le=MAX_ID)
    notes: str = Field("", max_length=5000)
    tags: list[str] = Field([], max_length=75, description="Your own tags for it.")
    private: bool = False
    rec: bool = Field(False, description="Recommend it.")
    pseud: str | None = Field(None, description="One of your pseuds; your default pseud if left out.")

    @model_validator(mode="after")
    def one_item(self) -> BookmarkIn:
        if (self.work is None) == (self.series is None):
            raise ValueError("Give either `work` or `series`.")
        return self


def _bookmarks(queryset: Any) -> Any:
    return queryset.select_related("pseud").prefetch_related("tags")


@bookmarks_router.get("", auth=token_required, response={200: BookmarkPage, **ERRORS}, summary="Your bookmarks")
def list_bookmarks(
    request: HttpRequest, work: int | None = Query(None, ge=1, le=MAX_ID), page: int = Query(1, ge=1)
) -> BookmarkPage:
    user = signed_in(request)
    mine = bookmark_services.bookmarks_visible_to(user).filter(user=user).order_by("-created_at", "-pk")
    if work is not None:
        mine = mine.filter(work_id=work)
    count, items = page_of(_bookmarks(mine), page, PAGE_SIZE)
    return BookmarkPage(count=count, items=[BookmarkOut.from_bookmark(b) for b in items])


@bookmarks_router.post(
    "",
    auth=token_required,
    response={201: BookmarkOut, **ERRORS},
    summary="Bookmark a work or a series (or edit your bookmark of it)",
)
def save_bookmark(request: HttpRequest, payload: BookmarkIn) -> Status[BookmarkOut]:
    user = signed_in(request)
    work = series = None
    if payload.work is not None:
        work = works_visible_to(user).filter(pk=payload.work).first()
        if work is None:
            raise Http404
    else:
        # BookmarkIn's validator lets through exactly one of work and series.
        assert payload.series is not None
        series = series_visible_to(user).filter(pk=payload.series).first()
        if series is None:
            raise Http404
    try:
        bookmark = bookmark_services.save_bookmark(
            by=user, work=work, series=series, notes=payload.notes, tags=payload.tags, private=payload.private,
            rec=payload.rec, pseud=_own_pseud(user, payload.pseud),
        )
    except (Work.DoesNotExist, Series.DoesNotExist):
        raise Http404 from None
    return Status(201, BookmarkOut.from_bookmark(_bookmarks(Bookmark.objects.filter(pk=bookmark.pk)).get()))


@bookmarks_router.delete(
    "/{bookmark_id}", auth=token_required, response={204: None, **ERRORS}, summary="Delete one of your bookmarks"
)
def delete_bookmark(request: HttpRequest, bookmark_id: PathId) -> Status[None]:
    user = signed_in(request)
    bookmark = get_object_or_404(Bookmark, pk=bookmark_id, user=user)
    bookmark_services.delete_bookmark(bookmark, by=user)
    return Status(204, None)


# Subscriptions -----------------------------------------------------------------------


class SubscriptionOut(Schema):
    id: int
    work: int | None
    series: int | None
    creator: str | None = Field(description="The username of a subscribed creator.")
    created: datetime

    @classmethod
    def from_subscription(cls, subscription: Subscription) -> SubscriptionOut:
        return cls(
            id=subscription.pk,
            work=subscription.work_id,
            series=subscription.series_id,
            creator=subscription.creator.username if subscription.creator_id else None,  # type: ignore[union-attr]
            created=subscription.created_at,
        )


class SubscriptionIn(BaseModel):
    work: int | None = Field(None, ge=1, le=MAX_ID, description="New chapters of this work.")
    series: int | None = Field(None, ge=1, le=MAX_ID, description="New parts of this series.")
    creator: str | None = Field(None, max_length=150, description="New works by this user.")

    @model_validator(mode="after")
    def one_target(self) -> SubscriptionIn:
        if sum(value is not None for value in (self.work, self.series, self.creator)) != 1:
            raise ValueError("Give exactly one of `work`, `series` or `creator`.")
        return self


class SubscriptionPage(Schema):
    count: int
    items: list[SubscriptionOut]


@subscriptions_router.get(
    "", auth=token_required, response={200: SubscriptionPage, **ERRORS}, summary="Your subscriptions"
)
def list_subscriptions(request: HttpRequest, page: int = Query(1, ge=1)) -> SubscriptionPage:
    user = signed_in(request)
    mine = Subscription.objects.filter(user=user).select_related("creator").order_by("-created_at", "-pk")
    count, items = page_of(mine, page, PAGE_SIZE)
    return SubscriptionPage(count=count, items=[SubscriptionOut.from_subscription(s) for s in items])


@subscriptions_router.post(
    "",
    auth=token_required,
    response={201: SubscriptionOut, **ERRORS},
    summary="Subscribe to a work, a series or a creator",
    description="Subscribing again to the same thing returns the existing subscription.",
)
def subscribe(request: HttpRequest, payload: SubscriptionIn) -> Status[SubscriptionOut]:
    user = signed_in(request)
    target: dict[str, Any] = {}
    if payload.work is not None:
        target["work"] = works_visible_to(user).filter(pk=payload.work).first()
    elif payload.series is not None:
        target["series"] = series_visible_to(user).filter(pk=payload.series).first()
    else:
        target["creator"] = User.objects.filter(username__iexact=payload.creator, is_active=True).first()
    if None in target.values():
        raise Http404
    subscription = subscription_services.subscribe(by=user, **target)
    return Status(201, SubscriptionOut.from_subscription(subscription))


@subscriptions_router.delete(
    "/{subscription_id}", auth=token_required, response={204: None, **ERRORS}, summary="Unsubscribe"
)
def unsubscribe(request: HttpRequest, subscription_id: PathId) -> Status[None]:
    user = signed_in(request)
    subscription = get_object_or_404(Subscription, pk=subscription_id, user=user)
    subscription_services.unsubscribe(subscription, by=user)
    return Status(204, None)


# Inbox -------------------------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    kind: str
    actor: str
    text: str
    url: str | None
    count: int
    work: int | None
    comment: int | None
    created: datetime
    read: bool

    @classmethod
    def from_notification(cls, row: Notification) -> NotificationOut:
        return cls(
            id=row.pk,
            kind=row.kind,
            actor=row.actor,
            text=row.text,
            # The same rule as the inbox page: only a path on this site is a link.
            url=absolute(path) if (path := notification_services.local_path(row.url)) else None,
            count=row.count,
            work=row.work_id,
            comment=row.comment_id,
            created=row.created_at,
            read=row.read_at is not None,
        )


class InboxPage(Schema):
    count: int
    unread: int
    items: list[NotificationOut]


class ReadIn(BaseModel):
    ids: list[Id] | None = Field(
        None, max_length=1000, description="Notifications to mark read; all of yours when left out."
    )


@inbox_router.get("", auth=token_required, response={200: InboxPage, **ERRORS}, summary="Your notifications")
def inbox(request: HttpRequest, unread: bool = False, page: int = Query(1, ge=1)) -> InboxPage:
    user = signed_in(request)
    rows = Notification.objects.filter(user=user).order_by("-created_at", "-pk")
    if unread:
        rows = rows.filter(read_at__isnull=True)
    count, items = page_of(rows, page, PAGE_SIZE)
    return InboxPage(
        count=count,
        unread=notification_services.unread_count(user),
        items=[NotificationOut.from_notification(row) for row in items],
    )


@inbox_router.post("/read", auth=token_required, response={200: InboxPage, **ERRORS}, summary="Mark notifications read")
def mark_read(request: HttpRequest, payload: ReadIn) -> InboxPage:
    user = signed_in(request)
    notification_services.mark_read(user, ids=payload.ids)
    # Called as a plain function, so every parameter is given: ninja's Query() defaults
    # are markers for the router, not values.
    return inbox(request, unread=False, page=1)


