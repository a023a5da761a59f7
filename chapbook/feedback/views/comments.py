"""Comment pages: posting and replying (guests too), editing, deleting, the moderation queue.

Every form is a plain POST that redirects with a message; a form with mistakes is shown
again on the comment form page with the reader's text kept. The rules live in
`chapbook.feedback.comments`; these views parse, call and render.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from chapbook.feedback import comments as service
from chapbook.feedback import spam
from chapbook.feedback.models import Comment, CommentStatus
from chapbook.feedback.ratelimit import RateLimited, rate_limited_response
from chapbook.people.models import Pseud, User
from chapbook.site.http import AuthenticatedRequest
from chapbook.works.models import Chapter, Work
from chapbook.works.selectors import AnyUser, works_visible_to

POSTED = "Your comment was posted."
HELD = "Thank you! Your comment will appear once a creator of the work approves it."


class CommentForm(forms.Form):
    """What a comment form sends. It only parses: the rules and their messages are the service's."""

    text = forms.CharField(
        label="Comment",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": service.MAX_LENGTH}),
        help_text=f"Up to {service.MAX_LENGTH:,} characters. Plain text or simple HTML "
        "(paragraphs, emphasis, links, quotes, lists, code).",
    )
    pseud = forms.TypedChoiceField(
        label="Comment as",
        coerce=int,
        required=False,
        choices=(),
        error_messages={"invalid_choice": service.WRONG_PSEUD},
    )
    guest_name = forms.CharField(label="Name", max_length=service.GUEST_NAME_MAX, required=False)
    guest_email = forms.CharField(
        label="Email",
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="Never shown to anyone.",
    )
    guest_notify = forms.BooleanField(label="Email me replies to this comment", required=False)
    chapter = forms.IntegerField(required=False, widget=forms.HiddenInput)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, pseuds: list[Pseud] | None = None, guest: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "comment-%s")
        super().__init__(*args, **kwargs)
        self.guest = guest
        if guest:
            self.fields["guest_name"].required = True
            self.fields["guest_email"].required = True
            del self.fields["pseud"]
        else:
            for name in ("guest_name", "guest_email", "guest_notify"):
                del self.fields[name]
            pseuds = pseuds or []
            if len(pseuds) > 1:
                field = self.fields["pseud"]
                assert isinstance(field, forms.TypedChoiceField)
                field.choices = [(pseud.pk, pseud.name) for pseud in pseuds]
                default = next((pseud for pseud in pseuds if pseud.is_default), pseuds[0])
                field.initial = default.pk
            else:
                del self.fields["pseud"]

    def full_clean(self) -> None:
        # Required marks are for the labels; the service reports what is missing, in its words.
        required = {name: field.required for name, field in self.fields.items()}
        for field in self.fields.values():
            field.required = False
        try:
            super().full_clean()
        finally:
            for name, field in self.fields.items():
                field.required = required[name]

    def clean(self) -> dict[str, Any]:
        # Hidden fields have nowhere to show an error: a mangled one is the form's error.
        for name in ("chapter", "parent"):
            if name in self.errors:
                self.errors.pop(name)
                raise ValidationError("The form was changed in a way we can't read. Please try again.")
        return super().clean() or {}


def client_ip(request: HttpRequest) -> str | None:
    address = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) and request.user.is_authenticated else None


def _visible_comment_or_404(request: HttpRequest, pk: int) -> Comment:
    comment = service.comment_visible_to(request.user, pk)
    if comment is None:
        raise Http404("No such comment.")
    return comment


def _next_url(request: HttpRequest) -> str | None:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return None


def comment_location(comment: Comment, user: AnyUser) -> str:
    """The page and anchor that show `comment`: its chapter's page (or the entire work), at its thread's page."""
    work = comment.work
    creator = user.is_authenticated and user.pk in service.creator_user_ids(work)
    params: list[str] = []
    scope: Chapter | None = None
    if work.chapter_count > 1 and comment.chapter_id is not None:
        chapter = comment.chapter
        assert chapter is not None
        base, scope = chapter.get_absolute_url(), chapter
    else:
        base = work.get_absolute_url()
        if work.chapter_count > 1:
            params.append("view_full_work=1")
    number = service.thread_page_number(comment, user=user, creator=creator, chapter=scope)
    if number > 1:
        params.append(f"comments_page={number}")
    query = f"?{'&'.join(params)}" if params else ""
    return f"{base}{query}#comment-{comment.pk}"


def _section_url(work: Work, chapter: Chapter | None) -> str:
    if chapter is not None and work.chapter_count > 1:
        return f"{chapter.get_absolute_url()}#comments"
    return f"{work.get_absolute_url()}#comments"


def _add_errors(form: CommentForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _form_page(
    request: HttpRequest,
    *,
    work: Work,
    form: CommentForm | None,
    action: str,
    heading: str,
    parent: Comment | None = None,
    closed: str | None = None,
    submit: str = "Post comment",
) -> HttpResponse:
    if form is not None and form.is_bound and "guest_email" in form.fields:
        # Not even echoed back to its owner: the address appears on no page at all, so
        # no page (or proxy cache, or shared screen) can give it away.
        form.data = {key: value for key, value in form.data.items() if key != "guest_email"}
    context = {
        "work": work,
        "form": form,
        "action": action,
        "heading": heading,
        "parent": parent,
        "parent_name": service.shown_author_name(parent, work) if parent is not None else "",
        "closed": closed,
        "submit": submit,
        "honeypot": spam.HONEYPOT_FIELD,
        "login_url": f"{reverse('people:login')}?next={request.path}",
        "moderated": work.moderate_comments,
    }
    return render(request, "feedback/comment_form.html", context)


def _pseuds(user: User | None) -> list[Pseud]:
    return list(user.pseuds.all()) if user is not None else []


def _post(request: HttpRequest, work: Work, parent: Comment | None) -> HttpResponse:
    user = _user(request)
    form = CommentForm(request.POST, pseuds=_pseuds(user), guest=user is None)
    if spam.is_honeypot_filled(request.POST):
        # Pretend it worked: a bot told it failed only tries harder.
        messages.success(request, POSTED)
        return redirect(_section_url(work, None))
    heading = f"Reply to {service.shown_author_name(parent, work)}" if parent else f"Comment on {work.title}"
    action = request.path
    if not form.is_valid():
        return _form_page(request, work=work, form=form, action=action, heading=heading, parent=parent)
    data = form.cleaned_data
    chapter: Chapter | None = None
    try:
        if parent is None and data.get("parent"):
            parent = Comment.objects.filter(pk=data["parent"]).first()
            if parent is None:
                raise ValidationError(service.PARENT_DELETED)
        if parent is None and data.get("chapter") and work.chapter_count > 1:
            chapter = Chapter.objects.filter(work=work, position=data["chapter"]).first()
            if chapter is None:
                raise ValidationError(service.WRONG_CHAPTER)
        pseud: Pseud | None = None
        if user is not None and data.get("pseud"):
            pseud = Pseud.objects.filter(pk=data["pseud"], user=user).first()
            if pseud is None:
                raise ValidationError({"pseud": [service.WRONG_PSEUD]})
        comment = service.post_comment(
            work=work,
            by=user,
            text=data.get("text") or "",
            chapter=chapter,
            parent=parent,
            pseud=pseud,
            guest_name=data.get("guest_name") or "",
            guest_email=data.get("guest_email") or "",
            guest_notify=bool(data.get("guest_notify")),
            ip=client_ip(request),
        )
    except RateLimited as exc:
        return rate_limited_response(request, exc)
    except PermissionDenied:
        raise Http404("No such work.") from None
    except ValidationError as error:
        _add_errors(form, error)
        return _form_page(request, work=work, form=form, action=action, heading=heading, parent=parent)
    if comment.status == CommentStatus.HELD:
        messages.success(request, HELD)
        if user is None:
            # A guest cannot see their held comment (the page is the same for every guest).
            return redirect(_section_url(work, comment.chapter))
    else:
        messages.success(request, POSTED)
    comment.work = work
    return redirect(comment_location(comment, request.user))


@require_POST
def comment_post(request: HttpRequest, pk: int) -> HttpResponse:
    work = works_visible_to(request.user).filter(pk=pk).first()
    if work is None:
        raise Http404("No such work.")
    return _post(request, work, None)


def comment_reply(request: HttpRequest, pk: int) -> HttpResponse:
    """The reply form on a page of its own, so replying works without JavaScript."""
    parent = _visible_comment_or_404(request, pk)
    work = parent.work
    if request.method == "POST":
        return _post(request, work, parent)
    user = _user(request)
    closed = service.commenting_closed_reason(work, logged_in=user is not None)
    if closed is None and parent.deleted:
        closed = service.PARENT_DELETED
    if closed is None and parent.status == CommentStatus.HELD and (
        user is None or user.pk not in service.creator_user_ids(work)
    ):
        closed = service.PARENT_HELD
    form = None if closed else CommentForm(pseuds=_pseuds(user), guest=user is None)
    return _form_page(
        request,
        work=work,
        form=form,
        action=request.path,
        heading=f"Reply to {service.shown_author_name(parent, work)}",
        parent=parent,
        closed=closed,
    )


@login_required
def comment_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    comment = _visible_comment_or_404(request, pk)
    if comment.user_id != request.user.pk:
        raise PermissionDenied("You can only edit your own comments.")
    if comment.deleted:
        raise Http404("That comment was deleted.")
    work = comment.work
    form = CommentForm(request.POST or None, guest=False, initial={"text": comment.html})
    if request.method == "POST":
        form.is_valid()
        try:
            service.edit_comment(comment, by=request.user, text=form.cleaned_data.get("text") or "")
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Your comment was updated.")
            return redirect(comment_location(comment, request.user))
    return _form_page(
        request, work=work, form=form, action=request.path, heading="Edit your comment", submit="Save changes"
    )


@login_required
def comment_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A confirmation page, then the delete; authors, the work's creators and staff may."""
    comment = _visible_comment_or_404(request, pk)
    work = comment.work
    if comment.deleted or not service.can_delete(request.user, comment, service.creator_user_ids(work)):
        raise PermissionDenied("You can't delete this comment.")
    if request.method == "POST":
        chapter = comment.chapter
        service.delete_comment(comment, by=request.user)
        messages.success(request, "The comment was deleted.")
        return redirect(_next_url(request) or _section_url(work, chapter))
    return render(
        request,
        "feedback/comment_confirm_delete.html",
        {
            "comment": comment,
            "work": work,
            "name": service.shown_author_name(comment, work),
            "next": _next_url(request) or "",
            "cancel": _next_url(request) or comment_location(comment, request.user),
        },
    )


@login_required
@require_POST
def comment_approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    comment = _visible_comment_or_404(request, pk)
    try:
        service.approve_comment(comment, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The comment was approved and is now shown to readers.")
    return redirect(_next_url(request) or comment_location(comment, request.user))


@login_required
def held_comments(request: AuthenticatedRequest) -> HttpResponse:
    """The creator's moderation queue: comments waiting on any of their works."""
    page = Paginator(service.held_comments_for(request.user), 50).get_page(request.GET.get("page"))
    for comment in page.object_list:
        comment.author = service.author_name(comment)  # type: ignore[attr-defined]
    return render(request, "feedback/moderation_queue.html", {"page": page, "here": request.get_full_path()})


def comment_permalink(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _visible_comment_or_404(request, pk)
    return redirect(comment_location(comment, request.user))


def comment_stop_emails(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """The link in a guest's reply email: stop emails about replies to that comment.

    A confirmation button rather than a plain link, so that mail scanners that follow
    links do not unsubscribe people.
    """
    comment = Comment.objects.select_related("work").filter(pk=pk, user__isnull=True).first()
    if comment is None or not service.stop_emails_token_valid(comment, token):
        raise Http404("No such comment.")
    done = False
    if request.method == "POST":
        service.stop_guest_emails(comment, token=token)
        done = True
    return render(request, "feedback/comment_stop_emails.html", {"comment": comment, "done": done})


urlpatterns: list[URLPattern] = [
    path("works/<int:pk>/comments", comment_post, name="comment_post"),
    path("comments/held", held_comments, name="held_comments"),
    path("comments/<int:pk>", comment_permalink, name="comment"),
    path("comments/<int:pk>/reply", comment_reply, name="comment_reply"),
    path("comments/<int:pk>/edit", comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete", comment_delete, name="comment_delete"),
    path("comments/<int:pk>/approve", comment_approve, name="comment_approve"),
    path("comments/<int:pk>/stop-emails/<str:token>", comment_stop_emails, name="comment_stop_emails"),
]
