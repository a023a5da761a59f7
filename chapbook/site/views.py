from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chapbook.works.blurbs import render_blurbs, version_rows
from chapbook.works.selectors import listing_order, works_visible_to

RECENT_WORKS = 10


def home(request: HttpRequest) -> HttpResponse:
    recent = version_rows(listing_order(works_visible_to(request.user).filter(draft=False)))[:RECENT_WORKS]
    return render(request, "site/home.html", {"blurbs": render_blurbs(list(recent))})
