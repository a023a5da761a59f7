"""The tag wranglers' pages: search tags and wrangle them in bulk, or one tag at a time."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from chapbook.site.http import AuthenticatedRequest
from chapbook.tags.forms import BulkWrangleForm, TagSearchForm, WrangleForm
from chapbook.tags.models import Tag, TagType
from chapbook.tags.services import WRANGLE_PERMISSION
from chapbook.tags.views import tag_links, tag_or_404

TAGS_PER_PAGE = 50


@dataclass
class Row:
    """One search result: the tag, its parent tags and its fandoms (from one prefetch)."""

    tag: Tag
    parents: list[Tag]
    fandoms: list[Tag]


def _row(tag: Tag) -> Row:
    parents = list(tag.parents.all())
    return Row(
        tag=tag,
        parents=[p for p in parents if p.type == tag.type],
        fandoms=[p for p in parents if p.type == TagType.FANDOM and tag.type != TagType.FANDOM],
    )


def _changed_message(changed: list[Tag]) -> str:
    if not changed:
        return "Nothing to change: the tags were already like that."
    if len(changed) == 1:
        return f"“{changed[0].name}” wrangled."
    return f"{len(changed)} tags wrangled."


@login_required
@permission_required(WRANGLE_PERMISSION, raise_exception=True)
def wrangle_index(request: AuthenticatedRequest) -> HttpResponse:
    # Without a search, the unwrangled tags: the wrangler's to-do list, as on AO3.
    search = TagSearchForm(request.GET if request.GET else {"status": "unwrangled"})
    form = BulkWrangleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            changed = form.apply_to_ticked(by=request.user)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _changed_message(changed))
            return redirect(request.get_full_path())
    tags = search.tags() if search.is_valid() else Tag.objects.none()
    page = Paginator(tags, TAGS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ticked = set(request.POST.getlist("tags")) if request.method == "POST" else set()
    context = {
        "search": search,
        "form": form,
        "page": page,
        "rows": [_row(tag) for tag in page.object_list],
        "ticked": ticked,
        "extra_query": query.urlencode(),
    }
    return render(request, "tags/wrangle_index.html", context)


@login_required
@permission_required(WRANGLE_PERMISSION, raise_exception=True)
def wrangle_tag(request: AuthenticatedRequest, name: str) -> HttpResponse:
    tag = tag_or_404(name)
    form = WrangleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            changed = form.apply([tag], by=request.user)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _changed_message(changed))
            return redirect(reverse("tags:wrangle_tag", args=[tag.url_name]))
    context = {"tag": tag, "links": tag_links(tag), "form": form}
    return render(request, "tags/wrangle_tag.html", context)
