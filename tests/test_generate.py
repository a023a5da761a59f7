"""`chapbook generate`: a synthetic archive shaped like AO3's, made of the rows posting makes.

The archive tests generate 300 works with a fixed seed; the shape tests draw bigger
archives without a database, since drawing is pure. The text tests (`--text`) draw prose
for a small block without a database, and generate a small archive to search it.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from io import StringIO
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.test import Client

from chapbook.demo import prose
from chapbook.demo.generate import (
    BLOCK,
    SHAPE,
    WorkBlock,
    block_rng,
    concatenate,
    creator_weights,
    draw_block,
    draw_prose,
    first_distinct,
    generate,
    plan_tags,
    scale,
)
from chapbook.lib.wordcount import count_words
from chapbook.listings.query import Filters
from chapbook.people.models import Pseud, User
from chapbook.search.services import search_works
from chapbook.tags.models import Tag, TagType
from chapbook.works.models import Chapter, Creatorship, Work, WorkTag
from chapbook.works.selectors import works_visible_to
from chapbook.works.services import RELATIONSHIP_RE, _tag_problem

SEED = 7
WORKS = 300
SPAN = 15 * 365.25 * 86400


@pytest.fixture
def archive(db: None) -> None:
    generate(works=WORKS, seed=SEED)


def tags_by_work() -> dict[int, list[Tag]]:
    tags = {tag.pk: tag for tag in Tag.objects.all()}
    by_work: dict[int, list[Tag]] = defaultdict(list)
    for work_id, tag_id in WorkTag.objects.values_list("work_id", "tag_id"):
        by_work[work_id].append(tags[tag_id])
    return by_work


def draw(works: int, seed: int, blocks: int) -> tuple[Any, WorkBlock]:
    """The first `blocks` blocks of an archive of `works` works, without a database."""
    plan = plan_tags(np.random.default_rng([seed, 0]), works, {})
    weights = creator_weights(np.random.default_rng(seed), scale(works)["creators"])
    drawn = [
        draw_block(block_rng(seed, n), plan, first=n * BLOCK, count=BLOCK, total=works, creators=weights, span=SPAN)
        for n in range(blocks)
    ]
    return plan, concatenate(drawn)


# --- the archive's rows -----------------------------------------------------------


def test_every_generated_work_is_posted_with_one_rating_a_warning_and_a_fandom(archive: None) -> None:
    works = Work.objects.all()
    assert works.count() == WORKS
    assert not works.filter(draft=True).exists() and not works.filter(hidden=True).exists()
    for work_id, tags in tags_by_work().items():
        types = Counter(tag.type for tag in tags)
        assert types[TagType.RATING] == 1, work_id
        assert types[TagType.WARNING] >= 1, work_id
        assert 1 <= types[TagType.FANDOM] <= 3, work_id
        assert types[TagType.CATEGORY] <= 3, work_id
    assert len(tags_by_work()) == WORKS


def test_word_counts_chapters_and_dates_agree_with_the_chapters(archive: None) -> None:
    chapters = {
        row["work_id"]: row
        for row in Chapter.objects.values("work_id").annotate(words=Sum("word_count"), count=Count("id"))
    }
    for work in Work.objects.all():
        assert chapters[work.pk]["words"] == work.word_count > 0
        assert chapters[work.pk]["count"] == work.chapter_count >= 1
        assert work.complete == (work.expected_chapters is not None and work.chapter_count >= work.expected_chapters)
        if work.expected_chapters is not None:
            assert work.expected_chapters >= work.chapter_count
        assert work.published_at is not None and work.updated_at is not None
        assert work.created_at == work.published_at <= work.updated_at == work.revised_at
        positions = list(work.chapters.values_list("position", flat=True))
        assert positions == list(range(1, work.chapter_count + 1))


def test_kudos_never_exceed_hits_and_a_few_works_are_restricted(archive: None) -> None:
    works = list(Work.objects.all())
    assert all(work.kudos_count <= work.hits_count for work in works)
    assert all(work.bookmarks_count <= work.kudos_count for work in works)
    assert 0 < sum(work.restricted for work in works) < WORKS * 0.15
    assert Counter(work.language for work in works).most_common(1)[0][0] == "en"


def test_relationships_and_characters_belong_to_the_works_fandoms(archive: None) -> None:
    parents = defaultdict(set)
    through = Tag.parents.through
    for child, parent in through.objects.values_list("from_tag_id", "to_tag_id"):
        parents[child].add(parent)
    tags = {tag.pk: tag for tag in Tag.objects.all()}
    checked = 0
    for work_tags in tags_by_work().values():
        fandoms = {tag.pk for tag in work_tags if tag.type == TagType.FANDOM}
        fandoms |= {tag.synonym_of_id for tag in work_tags if tag.type == TagType.FANDOM and tag.synonym_of_id}
        for tag in work_tags:
            if tag.type not in (TagType.RELATIONSHIP, TagType.CHARACTER):
                continue
            wrangled = tags[tag.synonym_of_id] if tag.synonym_of_id else tag
            if wrangled.canonical:
                assert parents[wrangled.pk] & fandoms, (tag.name, fandoms)
                checked += 1
    assert checked > WORKS


def test_tags_are_mostly_canonical_with_some_synonyms_and_unwrangled_ones(archive: None) -> None:
    generated = Tag.objects.exclude(type__in=[TagType.RATING, TagType.WARNING, TagType.CATEGORY])
    assert generated.filter(canonical=True).count() > generated.filter(canonical=False).count()
    synonyms = generated.filter(synonym_of__isnull=False)
    assert synonyms.exists() and not synonyms.filter(canonical=True).exists()
    assert generated.filter(canonical=False, synonym_of__isnull=True).exists()
    for tag in synonyms.select_related("synonym_of"):
        assert tag.synonym_of is not None and tag.synonym_of.type == tag.type and tag.synonym_of.canonical
    # Franchises: fandoms whose parent is a fandom.
    assert Tag.objects.filter(type=TagType.FANDOM, parents__type=TagType.FANDOM).exists()
    for tag in generated.filter(type=TagType.RELATIONSHIP):
        assert RELATIONSHIP_RE.fullmatch(tag.name), tag.name


def test_creators_are_users_with_a_default_pseud_and_no_usable_password(archive: None) -> None:
    creators = User.objects.filter(pseuds__creatorships__isnull=False).distinct()
    assert creators.count() > 20
    for user in creators:
        assert not user.has_usable_password()
        assert user.pseuds.get().is_default and user.pseuds.get().name == user.username
    assert not Creatorship.objects.filter(accepted=False).exists()
    assert set(Creatorship.objects.filter(position=0).values_list("work_id", flat=True)) == set(
        Work.objects.values_list("pk", flat=True)
    )
    # Productivity is heavy-tailed: the busiest creator posts several times the median.
    per_creator = sorted(Creatorship.objects.values("pseud").annotate(n=Count("id")).values_list("n", flat=True))
    assert per_creator[-1] >= 3 * per_creator[len(per_creator) // 2]


def test_generated_works_are_on_the_site_and_visible_to_guests(archive: None, client: Client) -> None:
    public = Work.objects.filter(restricted=False)
    assert works_visible_to(AnonymousUser()).count() == public.count() > 0
    work = public.order_by("-word_count").first()
    assert work is not None
    response = client.get(work.get_absolute_url())
    assert response.status_code == 200
    assert html.escape(work.title) in response.content.decode()
    fandom = Tag.objects.filter(type=TagType.FANDOM).annotate(n=Count("works")).order_by("-n").first()
    assert fandom is not None
    assert client.get(fandom.get_absolute_url()).status_code == 200


# --- the command ------------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("generate", *args, stdout=out, stderr=StringIO())
    except CommandError as error:
        return error.returncode, str(error)
    return 0, out.getvalue()


def test_command_prints_progress_and_a_summary(db: None) -> None:
    code, output = run("--works", "1500", "--seed", "3", "--batch", "1000")
    assert code == 0
    assert "1,000 / 1,500 works" in output and "works/s" in output and "ETA" in output
    assert "Generated 1,500 works" in output
    assert Work.objects.count() == 1500


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--works", "0"], "--works"),
        (["--works", "-5"], "--works"),
        (["--works", "10", "--seed", "-1"], "--seed"),
        (["--works", "10", "--batch", "0"], "--batch"),
    ],
)
def test_bad_arguments_exit_with_2_and_say_which(db: None, args: list[str], message: str) -> None:
    code, output = run(*args)
    assert code == 2
    assert message in output
    assert not Work.objects.exists()


def test_it_refuses_an_archive_with_works_unless_appending(make_work: Callable[..., Work], author: User) -> None:
    make_work(author)
    code, output = run("--works", "10")
    assert code == 2 and "--append" in output
    assert Work.objects.count() == 1
    assert run("--works", "10", "--append")[0] == 0
    assert Work.objects.count() == 11


def test_appending_with_the_same_seed_reuses_the_tags(db: None) -> None:
    assert run("--works", "200", "--seed", "5")[0] == 0
    tags = Tag.objects.count()
    assert run("--works", "200", "--seed", "5", "--append")[0] == 0
    assert Work.objects.count() == 400
    assert Tag.objects.count() == tags
    assert Pseud.objects.count() == User.objects.count()


# --- the shape, drawn without a database ----------------------------------------------


def test_the_same_seed_draws_the_same_archive() -> None:
    plan_a, works_a = draw(5000, seed=11, blocks=2)
    plan_b, works_b = draw(5000, seed=11, blocks=2)
    _, works_c = draw(5000, seed=12, blocks=2)
    assert plan_a.names == plan_b.names and plan_a.parents == plan_b.parents
    assert works_a.title == works_b.title
    assert np.array_equal(works_a.tag_plan, works_b.tag_plan)
    assert np.array_equal(works_a.chapter_words, works_b.chapter_words)
    assert works_a.title != works_c.title


def test_about_17_tags_per_work_and_most_often_11() -> None:
    _, works = draw(200_000, seed=1, blocks=20)
    per_work = np.bincount(works.tag_work, minlength=works.count)
    assert 15.5 <= per_work.mean() <= 18.5
    assert 10 <= np.bincount(per_work).argmax() <= 12


def test_the_biggest_fandom_holds_the_largest_share_and_crossovers_are_a_few_percent() -> None:
    plan, works = draw(200_000, seed=1, blocks=20)
    types = np.asarray(plan.types)[works.tag_plan]
    fandom_tags = works.tag_plan[types == TagType.FANDOM]
    counts = Counter(fandom_tags.tolist())
    (biggest, top), (_, second) = counts.most_common(2)
    assert biggest == plan.fandoms[0]
    assert 0.05 <= top / works.count <= 0.08 and top > second
    fandoms_per_work = np.bincount(works.tag_work[types == TagType.FANDOM], minlength=works.count)
    assert 0.02 <= (fandoms_per_work > 1).mean() <= 0.08


def test_word_counts_are_log_normal_and_hits_heavy_tailed() -> None:
    _, works = draw(200_000, seed=1, blocks=10)
    words = np.log(works.word_count)
    assert 1_000 <= math.exp(np.median(words)) <= 6_000
    assert works.word_count.mean() > 2 * np.median(works.word_count)
    assert works.hits.max() > 50 * np.median(works.hits)
    assert (works.kudos <= works.hits).all()
    assert 0.5 <= (works.chapter_count == 1).mean() <= 0.7


def test_tag_names_are_unique_and_acceptable_to_posting() -> None:
    plan = plan_tags(np.random.default_rng([1, 0]), 200_000, {})
    assert len({name.lower() for name in plan.names}) == len(plan.names)
    for name, tag_type in zip(plan.names, plan.types):
        assert _tag_problem(name, tag_type) is None, name
    assert 5_000 <= len(plan) <= 40_000


def test_first_distinct_keeps_the_first_distinct_values_up_to_each_limit() -> None:
    owner = np.array([0, 0, 0, 0, 1, 1, 2])
    values = np.array([5, 5, 3, 4, 7, 7, 9])
    kept_owner, kept = first_distinct(owner, values, np.array([2, 3, 0]))
    assert kept_owner.tolist() == [0, 0, 1]
    assert kept.tolist() == [5, 3, 7]


# --- --text: chapter prose ------------------------------------------------------------------

TEXT_WORKS = 120


def draw_text(seed: int, works: int = TEXT_WORKS) -> tuple[Any, WorkBlock]:
    """One block of `works` works with their chapters' prose, without a database."""
    plan = plan_tags(np.random.default_rng([seed, 0]), works, {})
    weights = creator_weights(np.random.default_rng(seed), scale(works)["creators"])
    block = draw_block(
        block_rng(seed, 0), plan, first=0, count=works, total=works, creators=weights, span=SPAN,
        shape=SHAPE.with_prose(),
    )
    block.chapter_html = draw_prose(seed, 0, block, plan, prose.plant(seed, works))
    return plan, block


def test_text_is_the_same_for_the_same_seed_and_another_for_another_seed() -> None:
    _, first = draw_text(seed=3)
    _, again = draw_text(seed=3)
    _, other = draw_text(seed=4)
    assert first.chapter_html == again.chapter_html
    assert first.chapter_html != other.chapter_html
    assert len(first.chapter_html) == len(first.chapter_words)


def test_each_chapter_has_exactly_its_word_count_as_ao3_counts_words() -> None:
    _, block = draw_text(seed=5)
    counted = [count_words(text) for text in block.chapter_html]
    assert counted == block.chapter_words.tolist()
    assert block.word_count.sum() == sum(counted)


def test_works_with_text_have_1_to_10_chapters_and_about_4000_words() -> None:
    plan = plan_tags(np.random.default_rng([1, 0]), 20_000, {})
    weights = creator_weights(np.random.default_rng(1), scale(20_000)["creators"])
    works = concatenate([
        draw_block(block_rng(1, n), plan, first=n * BLOCK, count=BLOCK, total=20_000, creators=weights, span=SPAN,
                   shape=SHAPE.with_prose())
        for n in range(5)
    ])
    assert 1 <= works.chapter_count.min() and works.chapter_count.max() <= 10
    assert 3_000 <= np.median(works.word_count) <= 5_000
    assert works.word_count.mean() > np.median(works.word_count)


def test_text_has_paragraphs_dialogue_contractions_and_accented_words() -> None:
    _, block = draw_text(seed=6)
    text = "\n".join(block.chapter_html)
    assert all(chapter.startswith("<p>") and chapter.endswith("</p>") for chapter in block.chapter_html)
    assert text.count("<p>") > 10 * len(block.chapter_html)
    said = r"(?:she|he|they|[A-Z][a-z]+) (?:said|asked|whispered|replied|murmured)\."
    assert re.search(r"“[^”<]+[,?!]” " + said, text)  # curly quotes
    assert re.search(r'"[^"<]+[,?!]" ' + said, text)  # and straight ones
    assert re.search(r"\b(?:didn|couldn|wasn|don)’t\b", text) and re.search(r"\b(?:didn|couldn|wasn|don)'t\b", text)
    assert re.search(r"\b(?:café|naïve|fiancée|fiancé|cliché|façade|résumé)\b", text)
    # Sentences of varied length.
    lengths = [len(sentence.split()) for sentence in re.split(r"[.?!…]”?\s", html.unescape(text))]
    assert min(lengths) <= 2 and max(lengths) >= 30


def test_the_works_characters_appear_by_name_in_their_text() -> None:
    plan, block = draw_text(seed=8)
    characters = np.asarray(plan.types, dtype=object)[block.tag_plan] == TagType.CHARACTER
    chapters = np.repeat(np.arange(block.count), block.chapter_count)
    named = eligible = 0
    for work in range(block.count):
        tags = block.tag_plan[characters & (block.tag_work == work)]
        names = {prose.name_words(plan.names[plan.synonym_of[t] if plan.synonym_of[t] >= 0 else t]) for t in tags}
        first_names = {name[0] for name in names if name}
        if not first_names:
            continue
        eligible += 1
        text = " ".join(block.chapter_html[i] for i in np.flatnonzero(chapters == work))
        named += any(re.search(rf"\b{first}\b", text) for first in first_names)
    assert eligible > block.count / 2 and named >= 0.95 * eligible


@pytest.fixture
def text_archive(db: None) -> str:
    code, output = run("--works", "150", "--seed", str(SEED), "--text")
    assert code == 0, output
    return output


def test_text_command_reports_the_words_and_builds_the_search_index(text_archive: str) -> None:
    assert "Text: " in text_archive and "words/s" in text_archive
    assert "Search index: 150 works" in text_archive
    assert Work.objects.aggregate(words=Sum("word_count"))["words"] == Chapter.objects.aggregate(
        words=Sum("word_count")
    )["words"] > 150 * 1000


def test_a_seeded_phrase_is_found_in_exactly_the_works_that_have_it(text_archive: str, reader: User) -> None:
    ordinals, phrases = prose.plant(SEED, 150)
    first_work = Work.objects.order_by("pk").values_list("pk", flat=True)[0]
    assert len(set(phrases.tolist())) >= 3
    for number in sorted(set(phrases.tolist())):
        phrase = prose.MEMORABLE_PHRASES[number]
        planted = {first_work + int(o) for o in ordinals[phrases == number]}
        holding = set(Chapter.objects.filter(html__icontains=phrase).values_list("work_id", flat=True))
        assert holding == planted, phrase
        found = search_works(f'"{phrase}"', Filters(), user=reader, page_size=100)
        assert set(found.ids) == planted and found.count == len(planted), phrase
