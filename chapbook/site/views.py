from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chapbook.works.selectors import listing, works_visible_to


def home(request: HttpRequest) -> HttpResponse:
    works = listing(works_visible_to(request.user).filter(draft=False))[:10]
    return render(request, "site/home.html", {"works": works})
