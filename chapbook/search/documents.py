"""What the search index knows of a work: its searchable fields as plain text.

A work is searchable by its title, summary, notes (the work's and every chapter's),
tags, creators and the text of each chapter. Tags are indexed with what they mean for
filtering as well as as written: a work tagged with a synonym is found by the canonical
tag's name, and a sub-tag's work by its meta tags' names, as the filter sidebar finds them.
Only listed works (posted and not hidden) have a document; restricted works are indexed
too, because the filter index hides them from guests after matching. An unrevealed
work has no document (it is listed nowhere until its collection reveals it), and an
anonymous work's document has no creators: `creator:NAME` must not find it, and no
snippet may show the name. Revealing moves the works' `revised_at` and reindexes them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

from django.db.models import F

from chapbook.tags.models import Tag
from chapbook.works.models import Chapter, Creatorship, Work, WorkTag

FIELDS = ("title", "summary", "notes", "tags", "creators", "body")
# Between two tag names, creators, notes or chapters in a field's text. Both tokenizers
# treat a newline as a separator; that no phrase runs across two tags, creators or
# chapters is each backend's doing (`Document.parts`).
SEPARATOR = "\n"

# Inline elements join the text on either side ("<b>S</b>ilver" is one word); every
# other tag separates words.
_INLINE = (
    "a|abbr|acronym|b|bdi|bdo|big|cite|code|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small|"
    "span|strike|strong|sub|sup|tt|u|var"
)
# Attribute values may hold ">" (a title="a > b"); sanitized HTML always quotes them.
_ATTRS = r"""[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*"""
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE})\b{_ATTRS}>", re.IGNORECASE)
_ANY_TAG = re.compile(rf"<{_ATTRS}>")


def plain_text(value: str) -> str:
    """The words of sanitized HTML, fast.

    `chapbook.lib.sanitize.html_to_text` reads any HTML exactly but manages about 0.7
    million words a second, less than indexing needs. What the index reads has been
    through the sanitizer, which writes well-formed markup with quoted attributes and no
    comments, scripts or styles, so stripping the tags with an expression is exact enough
    here and about fifteen times faster.
    """
    if "<" not in value and "&" not in value:
        return value
    text = _ANY_TAG.sub(" ", _INLINE_TAG.sub("", value))
    if "&" in text:
        text = html.unescape(text)
    # Runs of spaces are left as they are: the tokenizers skip them, and a snippet
    # collapses its own.
    return text.strip()


def chapter_text(title: str, html: str) -> str:
    """A chapter as indexed: its title (if it has one) on the first line, then its text."""
    text = plain_text(html)
    return f"{title}{SEPARATOR}{text}" if title else text


@dataclass
class Document:
    """One listed work as the index sees it; `chapters` are (position, text) in order."""

    work_id: int
    title: str
    summary: str = ""
    notes: str = ""
    tags: str = ""
    creators: str = ""
    chapters: list[tuple[int, str]] = field(default_factory=list)
    words: int = 0  # the work's word count, for progress reports

    @property
    def body(self) -> str:
        return SEPARATOR.join(text for _, text in self.chapters)

    def fields(self) -> tuple[str, str, str, str, str, str]:
        """The values of FIELDS, in order."""
        return (self.title, self.summary, self.notes, self.tags, self.creators, self.body)

    def parts(self) -> tuple[list[str], ...]:
        """The values of FIELDS, each as the parts no phrase may run across: one tag or
        creator, one chapter. (The notes are one part: a note's own lines are joined by
        the same SEPARATOR as two notes.)"""
        return (
            [self.title],
            [self.summary],
            [self.notes],
            self.tags.split(SEPARATOR),
            self.creators.split(SEPARATOR),
            [text for _, text in self.chapters],
        )


class TagNames:
    """Each tag's name plus the names of the tags a filter resolves it to.

    The same rule as the filter index's `TagGraph.filter_tags` (synonyms resolve to their
    canonical tag, then meta tags of the same type, transitively), read a level at a time
    for just the tags asked about, and remembered for the rest of the run.
    """

    # Wrangling refuses cycles and long chains; a stray one must not hang indexing.
    MAX_DEPTH = 20

    def __init__(self) -> None:
        self._tags: dict[int, tuple[str, str, int | None]] = {}  # id -> (name, type, synonym_of)
        self._parents: dict[int, list[int]] = {}  # same-type parents only
        self._names: dict[int, tuple[str, ...]] = {}

    def _load(self, ids: set[int]) -> None:
        for _ in range(self.MAX_DEPTH):
            missing = sorted(pk for pk in ids if pk not in self._tags)
            if not missing:
                return
            found: set[int] = set()
            for start in range(0, len(missing), 500):
                chunk = missing[start : start + 500]
                for pk, name, tag_type, target in Tag.objects.filter(pk__in=chunk).values_list(
                    "pk", "name", "type", "synonym_of_id"
                ):
                    self._tags[pk] = (name, tag_type, target)
                    self._parents.setdefault(pk, [])
                    if target is not None:
                        found.add(target)
                links = Tag.parents.through.objects.filter(from_tag_id__in=chunk).values_list(
                    "from_tag_id", "to_tag_id", "to_tag__type"
                )
                for child, parent, parent_type in links:
                    # A character's fandom is membership, not a meta tag (as in TagGraph).
                    if child in self._tags and self._tags[child][1] == parent_type:
                        self._parents[child].append(parent)
                        found.add(parent)
            for pk in missing:
                self._tags.setdefault(pk, ("", "", None))
                self._parents.setdefault(pk, [])
            ids = found

    def _resolve(self, pk: int) -> int:
        for _ in range(self.MAX_DEPTH):
            target = self._tags.get(pk, ("", "", None))[2]
            if target is None:
                break
            pk = target
        return pk

    def _filter_tags(self, pk: int) -> list[int]:
        base = self._resolve(pk)
        found, seen = [base], {base}
        stack = list(self._parents.get(base, ()))
        while stack:
            parent = self._resolve(stack.pop())
            if parent in seen:
                continue
            seen.add(parent)
            found.append(parent)
            stack.extend(self._parents.get(parent, ()))
        return found

    def prepare(self, tag_ids: Iterable[int]) -> None:
        """Read what these tags mean: a query or two per level of wrangling, for all of them."""
        todo = {pk for pk in tag_ids if pk not in self._names}
        if todo:
            self._load(todo)
            for pk in todo:
                ids = [pk, *self._filter_tags(pk)]
                self._names[pk] = tuple(dict.fromkeys(self._tags[t][0] for t in ids if self._tags.get(t, ("",))[0]))

    def names(self, tag_ids: Iterable[int]) -> list[str]:
        """Every name the tags answer to, without repeats, in a stable order."""
        wanted = sorted(set(tag_ids))
        self.prepare(wanted)
        seen: dict[str, None] = {}
        for pk in wanted:
            for name in self._names[pk]:
                seen.setdefault(name, None)
        return list(seen)


LISTED = {"draft": False, "hidden": False, "unrevealed": False}  # the works the index holds


def listed_count() -> int:
    """How many works a rebuild indexes: its progress bar's whole."""
    return Work.objects.filter(**LISTED).count()


def listed_works(page: int = 20_000) -> Iterator[int]:
    """Ids of every listed work, ascending.

    Read a page at a time, each page a whole query: a cursor left open for a rebuild's
    length would hold SQLite's read snapshot, and no checkpoint could empty the WAL
    meanwhile; it grew to the size of the new index, and every read had to search it.
    """
    after = 0
    while True:
        ids = list(
            Work.objects.filter(pk__gt=after, **LISTED)
            .order_by("pk")
            .values_list("pk", flat=True)[:page]
        )
        yield from ids
        if len(ids) < page:
            return
        after = ids[-1]


def load_documents(work_ids: Sequence[int], *, tags: TagNames | None = None, chapters: bool = True) -> list[Document]:
    """Documents of the listed works among `work_ids`, by id; the others are left out.

    Without `chapters`, the chapters' text is not read (their notes still are).
    """
    ids = sorted({int(pk) for pk in work_ids})
    if not ids:
        return []
    tags = tags or TagNames()
    docs: dict[int, Document] = {}
    work_notes: dict[int, list[str]] = {}
    anonymous: set[int] = set()
    for pk, title, summary, notes, end_notes, words, is_anonymous in (
        Work.objects.filter(pk__in=ids, draft=False, hidden=False, unrevealed=False)
        .order_by("pk")
        .values_list("pk", "title", "summary", "notes", "end_notes", "word_count", "anonymous")
    ):
        docs[pk] = Document(work_id=pk, title=title, summary=plain_text(summary), words=words)
        work_notes[pk] = [plain_text(notes), plain_text(end_notes)]
        if is_anonymous:
            anonymous.add(pk)
    if not docs:
        return []
    listed = sorted(docs)

    chapter_notes: dict[int, list[str]] = {pk: [] for pk in listed}
    columns = ["work_id", "position", "title", "notes", "end_notes"] + (["html"] if chapters else [])
    rows = (
        Chapter.objects.filter(work_id__in=listed).order_by("work_id", "position", "pk").values_list(*columns)
    )
    for work_id, position, title, notes, end_notes, *body in rows.iterator(chunk_size=200):
        if chapters:
            docs[work_id].chapters.append((position, chapter_text(title, body[0])))
        chapter_notes[work_id] += [plain_text(notes), plain_text(end_notes)]

    own_tags: dict[int, list[int]] = {pk: [] for pk in listed}
    for work_id, tag_id in WorkTag.objects.filter(work_id__in=listed).values_list("work_id", "tag_id"):
        own_tags[work_id].append(tag_id)
    tags.prepare(tag_id for work_tags in own_tags.values() for tag_id in work_tags)

    creators: dict[int, list[str]] = {pk: [] for pk in listed}
    credits = (
        Creatorship.objects.filter(work_id__in=[pk for pk in listed if pk not in anonymous], accepted=True)
        .order_by("work_id", "position", "pk")
        .values_list("work_id", "pseud__name", "pseud__user__username")
    )
    for work_id, name, username in credits:
        # A pseud is found by its own name and by its user's, as its byline shows both.
        creators[work_id] += [name] if name.lower() == username.lower() else [name, username]

    for pk in listed:
        doc = docs[pk]
        doc.notes = SEPARATOR.join(note for note in work_notes[pk] + chapter_notes[pk] if note)
        doc.tags = SEPARATOR.join(tags.names(own_tags[pk]))
        doc.creators = SEPARATOR.join(dict.fromkeys(creators[pk]))
    return [docs[pk] for pk in listed]


def works_with_tags(tag_ids: Iterable[int]) -> list[int]:
    """Works whose indexed tag names may change when these tags are wrangled.

    A tag's meaning reaches the works tagged with it, with its synonyms and with its
    sub-tags, transitively: all of those are reindexed.
    """
    Parents = Tag.parents.through
    affected = set(tag_ids)
    frontier = set(affected)
    for _ in range(TagNames.MAX_DEPTH):
        if not frontier:
            break
        chunk = sorted(frontier)
        below: set[int] = set()
        for start in range(0, len(chunk), 500):
            part = chunk[start : start + 500]
            below.update(Tag.objects.filter(synonym_of_id__in=part).values_list("pk", flat=True))
            # Sub-tags of the same type only: a character's fandom is not a meta tag.
            sub_tags = Parents.objects.filter(to_tag_id__in=part, from_tag__type=F("to_tag__type"))
            below.update(sub_tags.values_list("from_tag_id", flat=True))
        frontier = below - affected
        affected |= frontier
    works: set[int] = set()
    chunk = sorted(affected)
    for start in range(0, len(chunk), 500):
        works.update(WorkTag.objects.filter(tag_id__in=chunk[start : start + 500]).values_list("work_id", flat=True))
    return sorted(works)
