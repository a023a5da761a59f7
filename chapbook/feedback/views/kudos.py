"""Leaving kudos on a work or a chapter: a plain POST form, or JSON for the page's small script."""

from __future__ import annotations

import ipaddress

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.signing import BadSignature
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from chapbook.feedback import kudos as service
from chapbook.feedback.templatetags.kudos_tags import names_sentence
from chapbook.works.models import Chapter, Work
from chapbook.works.selectors import works_visible_to

# Ten years: the cookie is only a way to recognise the same guest's browser again.
GUEST_COOKIE_AGE = 10 * 365 * 24 * 3600


def client_ip(request: HttpRequest) -> str | None:
    address = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None



def wants_json(request: HttpRequest) -> bool:
    return (
        "application/json" in request.headers.get("Accept", "")
        or request.headers.get("X-Requested-With", "").lower() == "fetch"
    )


def _next_url(request: HttpRequest) -> str | None:
    # Back to the page the form was on (the entire-work view, say), if it is one of ours.
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return None


def _guest_token(request: HttpRequest) -> str:
    try:
        return request.get_signed_cookie(service.GUEST_COOKIE, default="", salt=service.GUEST_COOKIE_SALT) or ""
    except BadSignature:
        return ""


def _leave(request: HttpRequest, pk: int, position: int | None) -> HttpResponse:
    work = works_visible_to(request.user).filter(pk=pk).first()
    if work is None:
        raise Http404("No such work.")
    chapter: Chapter | None = None
    if position is not None:
        chapter = Chapter.objects.filter(work=work, position=position).first()
        if chapter is None:
            raise Http404("No such chapter.")

    user = request.user if request.user.is_authenticated else None
    token = "" if user is not None else _guest_token(request)
    new_token = user is None and not token
    if new_token:
        token = service.new_guest_token()
    try:
        service.leave_kudos(
            work=work,
            user=user,  # type: ignore[arg-type]  # a logged-in request.user is a User
            guest_key=service.guest_key_for(token) if user is None else "",
            ip=client_ip(request),
            chapter=chapter,
        )
    except ValidationError as error:
        ok, message = False, " ".join(error.messages)
    else:
        ok, message = True, "Thank you for leaving kudos!"

    response = _respond(request, work, chapter, ok=ok, message=message)
    if new_token:
        response.set_signed_cookie(
            service.GUEST_COOKIE,
            token,
            salt=service.GUEST_COOKIE_SALT,
            max_age=GUEST_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def _respond(request: HttpRequest, work: Work, chapter: Chapter | None, *, ok: bool, message: str) -> HttpResponse:
    if wants_json(request):
        count = service.kudos_count(work, chapter)
        # The work's names line as the page would render it, so the script can show who
        # left kudos (the guest included) without a reload.
        total = service.kudos_count(work, None)
        names = format_html(": {}", names_sentence(service.kudos_names(work))) if total else ""
        line = format_html('<span data-kudos-count="work">{}</span> kudos{}', total, names)
        return JsonResponse({"kudos": count, "message": message, "names_html": line}, status=200 if ok else 400)
    if ok:
        messages.success(request, message)
    else:
        messages.error(request, message)
    target = _next_url(request) or (chapter.get_absolute_url() if chapter is not None else work.get_absolute_url())
    return redirect(f"{target.split('#')[0]}#kudos")


@require_POST
def work_kudos(request: HttpRequest, pk: int) -> HttpResponse:
    return _leave(request, pk, None)


@require_POST
def chapter_kudos(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    return _leave(request, pk, position)


urlpatterns: list[URLPattern] = [
    path("works/<int:pk>/kudos", work_kudos, name="kudos"),
    path("works/<int:pk>/chapters/<int:position>/kudos", chapter_kudos, name="chapter_kudos"),
]
