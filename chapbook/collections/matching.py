"""Which prompt an imported work was written for.

The importer keeps what a work's notes said about its prompt (`Work.prompt_text`, and
`prompt_relationship` when the prompt named a pairing). Linking such a work to a prompt
in a meme is the writer's choice; this module only ranks the candidates: shared tags
(relationships above characters and fandoms, synonyms counted as their canonical tag)
and the words the prompt texts share.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import Prefetch, Q

from chapbook.collections.models import Collection, CollectionItem, Prompt
from chapbook.lib.sanitize import strip_tags
from chapbook.tags.models import Tag, TagType
from chapbook.works.models import Work

# A shared relationship says far more about a prompt than a shared fandom does.
TAG_WEIGHTS: dict[str, float] = {TagType.RELATIONSHIP: 3.0, TagType.CHARACTER: 1.0, TagType.FANDOM: 1.0}
# Without prompt text to compare, the tags decide alone; with it, half and half.
TEXT_WEIGHT = 0.5
# How many candidates are scored at most (the most recent first): enough for any meme's
# live prompts, and a bound on the work a page of matches costs.
MAX_CANDIDATES = 1000

# Common English words, and the words notes use to introduce a prompt ("written for the
# prompt", "a fill for").
_STOP_WORD_TEXT = """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own please prompt same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves written fill"""
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())
WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def words(text: str) -> set[str]:
    """The meaningful words of `text`: lower-cased, without stop words, plural -s dropped."""
    found = set()
    for word in WORD_RE.findall(text.lower()):
        word = word.replace("’", "'")
        if word in STOP_WORDS or len(word) < 2:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        found.add(word)
    return found


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' word sets (0 when either has none)."""
    left, right = words(a), words(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def _canonical(tag: Tag) -> int:
    return tag.synonym_of_id or tag.pk


def _by_type(tags: Iterable[Tag]) -> dict[str, set[int]]:
    grouped: dict[str, set[int]] = {}
    for tag in tags:
        if tag.type in TAG_WEIGHTS:
            grouped.setdefault(tag.type, set()).add(_canonical(tag))
    return grouped


def tag_similarity(work_tags: dict[str, set[int]], prompt_tags: dict[str, set[int]]) -> float:
    """Weighted Jaccard similarity over relationships, characters and fandoms."""
    shared = total = 0.0
    for tag_type, weight in TAG_WEIGHTS.items():
        left, right = work_tags.get(tag_type, set()), prompt_tags.get(tag_type, set())
        shared += weight * len(left & right)
        total += weight * len(left | right)
    return shared / total if total else 0.0


def _work_tags(work: Work) -> list[Tag]:
    tags = list(work.tags.all())
    relationship = " ".join(work.prompt_relationship.split())
    if relationship:
        # The pairing the imported prompt named counts as one of the work's relationships.
        found = Tag.objects.filter(name__iexact=relationship, type=TagType.RELATIONSHIP).first()
        if found is not None:
            tags.append(found)
    return tags


def candidates(work: Work, tags: list[Tag], *, collection: Collection | None) -> list[Prompt]:
    """Prompts in open prompt memes that share a tag with the work (synonyms included), or
    that sit in a collection the work is already in (or the one asked about)."""
    canonical = {_canonical(tag) for tag in tags if tag.type in TAG_WEIGHTS}
    related = Tag.objects.filter(Q(pk__in=canonical) | Q(synonym_of_id__in=canonical)).values("pk")
    near = Q(tags__in=related) | Q(
        collection__in=CollectionItem.objects.filter(work=work).values("collection_id")
    )
    prompts = Prompt.objects.filter(collection__prompt_meme=True, collection__closed=False).exclude(fills__work=work)
    if collection is not None:
        prompts = prompts.filter(collection=collection)
        near = Q(pk__isnull=False)
    ids = list(
        prompts.filter(near).order_by("-created_at", "-pk").values_list("pk", flat=True).distinct()[:MAX_CANDIDATES]
    )
    return list(
        Prompt.objects.filter(pk__in=ids)
        .select_related("collection", "pseud__user")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )


def best_matches(work: Work, *, collection: Collection | None = None, limit: int = 5) -> list[tuple[Prompt, float]]:
    """The prompts `work` most likely fills, best first, each with a score from 0 to 1."""
    tags = _work_tags(work)
    work_tags = _by_type(tags)
    has_text = bool(work.prompt_text.strip())
    scored: list[tuple[Prompt, float]] = []
    for prompt in candidates(work, tags, collection=collection):
        score = tag_similarity(work_tags, _by_type(prompt.tags.all()))
        if has_text:
            prompt_words = f"{prompt.title} {strip_tags(prompt.text)}"
            score = (1 - TEXT_WEIGHT) * score + TEXT_WEIGHT * text_similarity(work.prompt_text, prompt_words)
        if score > 0:
            scored.append((prompt, round(score, 4)))
    scored.sort(key=lambda item: (-item[1], -item[0].created_at.timestamp(), -item[0].pk))
    return scored[:limit]
