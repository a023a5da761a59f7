from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from chapbook.tags.models import Tag, TagType, url_name_to_tag
from chapbook.tags.services import can_wrangle
from chapbook.works.blurbs import blurb_page
from chapbook.works.models import WorkTag
from chapbook.works.selectors import listing_order, works_visible_to

AUTOCOMPLETE_LIMIT = 10


def tag_or_404(url_name: str) -> Tag:
    tag = Tag.objects.select_related("synonym_of").filter(name__iexact=url_name_to_tag(url_name)).first()
    if tag is None:
        raise Http404("No such tag.")
    return tag


@dataclass
class TagLinks:
    """How a tag is wrangled, as its page and its wrangling page show it.

    `parents` and `children` are of the tag's own type: meta and sub-tags, or for a
    fandom its parent and child fandoms. `fandoms` are the fandoms a character,
    relationship or additional tag belongs to.
    """

    synonyms: list[Tag]
    parents: list[Tag]
    children: list[Tag]
    fandoms: list[Tag]


def tag_links(tag: Tag, synonyms: QuerySet[Tag] | None = None) -> TagLinks:
    parents = list(tag.parents.all())
    return TagLinks(
        synonyms=list(synonyms if synonyms is not None else tag.synonyms.all()),
        parents=[p for p in parents if p.type == tag.type],
        children=list(tag.children.filter(type=tag.type)),
        fandoms=[p for p in parents if p.type == TagType.FANDOM and tag.type != TagType.FANDOM],
    )


def _visible_tags(request: HttpRequest) -> QuerySet[WorkTag]:
    return WorkTag.objects.filter(work__in=works_visible_to(request.user).filter(draft=False).values("pk"))


def tag_detail(request: HttpRequest, name: str) -> HttpResponse:
    tag = tag_or_404(name)
    works = listing_order(works_visible_to(request.user).filter(draft=False, tags=tag))
    if not tag.canonical and not works.exists():
        # A tag only a draft or a restricted work carries would tell its name to readers
        # who may not see that work.
        raise Http404("No such tag.")
    wrangler = can_wrangle(request.user)
    synonyms = tag.synonyms.all()
    if not wrangler:
        # Synonyms are creators' own tags, so the same rule: only those on a work the
        # reader may see are named. Parents, children and fandoms are canonical.
        synonyms = synonyms.filter(pk__in=_visible_tags(request).values("tag"))
    page = blurb_page(works, request.GET.get("page"))
    context = {"tag": tag, "page": page, "links": tag_links(tag, synonyms), "can_wrangle": wrangler}
    return render(request, "tags/tag_detail.html", context)


def fandom_index(request: HttpRequest) -> HttpResponse:
    visible = works_visible_to(request.user).filter(draft=False).values("pk")
    fandoms = (
        Tag.objects.filter(type=TagType.FANDOM)
        .annotate(count=Count("works", filter=Q(works__in=visible)))
        .filter(count__gt=0)
        .order_by("name")
    )
    return render(request, "tags/fandom_index.html", {"fandoms": fandoms})


@require_GET
def autocomplete(request: HttpRequest) -> JsonResponse:
    """Names of existing tags of one type that start with (or contain) what was typed.

    Only tags the asker could find anyway: canonical ones, or ones on a work they may see.
    """
    term = " ".join(request.GET.get("q", "").split())[:100]
    tag_type = request.GET.get("type", "")
    if len(term) < 1 or tag_type not in TagType.values:
        return JsonResponse({"results": []})
    visible = works_visible_to(request.user).values("pk")
    tags = Tag.objects.filter(Q(canonical=True) | Q(pk__in=WorkTag.objects.filter(work__in=visible).values("tag")))
    tags = tags.filter(type=tag_type)
    starts = list(tags.filter(name__istartswith=term).values_list("name", flat=True)[:AUTOCOMPLETE_LIMIT])
    if len(starts) < AUTOCOMPLETE_LIMIT:
        more = tags.filter(name__icontains=term).exclude(name__in=starts)
        starts += list(more.values_list("name", flat=True)[: AUTOCOMPLETE_LIMIT - len(starts)])
    return JsonResponse({"results": starts})
