"""Where a work matched, as a short highlighted passage: shared by both backends.

The index says which works match, not where. For the twenty or so works of a page, the
passage is found here in the work's text: the chapter holding the most of the query's
terms (the first such chapter), else the summary, notes, tags, creators or title.

Words are compared the way the index compares them, stem to stem: the backend stems
the query and the handful of words in the text that could match (those starting like a
query stem), so `remind` marks "reminded" exactly when the index matched it, whatever
stemmer the database uses.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from html import escape
from typing import Callable, Sequence

from chapbook.lib.searchquery import Query, Term
from chapbook.search.backend import Snippet

# Each text -> the stems of its tokens, in order (the database's own tokenizer and stemmer).
Stemmer = Callable[[Sequence[str]], list[tuple[str, ...]]]

# A token: letters and digits, as both databases' tokenizers read them (an apostrophe,
# a hyphen or an underscore separates words).
TOKEN = re.compile(r"[^\W_]+")
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# The passage: this many characters before the first marked word and in all.
LEAD = 70
LENGTH = 260
# The passage is chosen among the first this many places where a term could start.
MAX_CANDIDATES = 300
# Typeset prose's punctuation and spaces (U+2000-U+206F: dashes, curly quotes, "…"):
# none is part of a word or decomposes into one, so folding may leave them as they are.
# Text of only these and ASCII, most prose, is folded by casefold() alone.
_TYPESET = re.compile("[\u2000-\u206f]")
_NOT_PLAIN = re.compile("[^\x00-\x7f\u2000-\u206f]")
FALLBACK_FIELDS = ("summary", "notes", "tags", "creators", "title")
FIELD_OF_TERM = {"title": "title", "summary": "summary", "notes": "notes", "tag": "tags", "creator": "creators"}


def fold(text: str) -> str:
    """Case and accents folded, for comparing the start of words cheaply.

    Nearly always one character for each of the text's, so that an offset in the folded
    text is one in the text (see `_candidates`).
    """
    folded = text.casefold()
    if folded.isascii() or _NOT_PLAIN.search(folded) is None:
        return folded
    # Typeset punctuation is made a space first: NFKD would make "…" three characters.
    folded = unicodedata.normalize("NFKD", _TYPESET.sub(" ", folded))
    return _MARKS.sub("", folded)


@functools.lru_cache(maxsize=256)
def _starts(prefix: str) -> re.Pattern[str]:
    """Where a word starting with `prefix` starts in folded text.

    The literal comes first and the word boundary is looked behind it: a pattern that
    starts with a lookbehind cannot scan for its literal, and is 30 times slower on a
    long chapter.
    """
    return re.compile(re.escape(prefix) + r"(?<![^\W_]" + "." * len(prefix) + ")", re.DOTALL)


def has_token(text: str) -> bool:
    """Whether the text has anything the index could match (not only punctuation)."""
    return TOKEN.search(text) is not None


@dataclass
class Source:
    """A work's searchable text; `chapters` are (position, text), perhaps only some of them."""

    title: str = ""
    summary: str = ""
    notes: str = ""
    tags: str = ""
    creators: str = ""
    chapters: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Term:
    field: str | None  # a Source attribute, or None for any text
    stems: tuple[str, ...]
    prefix: re.Pattern[str]  # where in folded text a match could start


def query_terms(query: Query) -> list[Term]:
    """The positive terms that can match anything (not only punctuation)."""
    return [t for clause in query.positive for t in clause.any_of if any(has_token(w) for w in t.words)]


def _prefix(stem: str) -> str:
    """What every word with this stem starts with.

    A stem is its word with the ending cut off, except that both stemmers may turn a
    last "y" into "i" or put an "e" back ("hoped" is "hope"), and Snowball keeps a few
    irregular forms ("skies" is "sky", "dying" is "die"): such a stem's last letter
    may not be in the word.
    """
    return stem[:-1] if len(stem) > 1 and stem[-1] in "eiy" else stem


def _terms(query: Query, stem: Stemmer) -> list[_Term]:
    terms = query_terms(query)
    stems = stem([" ".join(t.words) for t in terms])
    found = []
    for term, term_stems in zip(terms, stems):
        if term_stems:
            prefix = _starts(fold(_prefix(term_stems[0])))
            found.append(_Term(FIELD_OF_TERM.get(term.field or "", None), term_stems, prefix))
    return found


def _count(folded: str, terms: list[_Term]) -> int:
    return sum(1 for t in terms if t.prefix.search(folded))


@dataclass
class _Pick:
    text: str
    folded: str
    chapter: int | None
    terms: list[_Term]
    tokens: dict[int, tuple[int, str]] = field(default_factory=dict)  # start -> (end, folded token)


def _candidates(pick: _Pick) -> set[str]:
    """Folded tokens of the text that could have one of the terms' stems.

    A term can only start where a word starts like its first stem; a phrase's other
    words are then the tokens that follow those places (as `_match_at` walks them), so
    a phrase of common words ("took a deep breath") does not collect every word
    starting with "a", which also pushed its later places out of the first MAX_CANDIDATES.
    """
    words: set[str] = set()
    if len(pick.folded) == len(pick.text):
        # Folding kept every offset (it nearly always does): look where a term could start.
        # Each prefix on its own (a scan for its literal), the first places of all merged,
        # each with how many tokens the longest term starting there needs.
        needs: dict[str, int] = {}
        for term in pick.terms:
            prefix = fold(_prefix(term.stems[0]))
            needs[prefix] = max(needs.get(prefix, 0), len(term.stems))
        places: dict[int, int] = {}
        for prefix, length in needs.items():
            for count, found in enumerate(_starts(prefix).finditer(pick.folded)):
                if count == MAX_CANDIDATES:
                    break
                places[found.start()] = max(places.get(found.start(), 0), length)
        for start in sorted(places)[:MAX_CANDIDATES]:
            match = TOKEN.match(pick.text, start)
            for _ in range(places[start]):
                if match is None:
                    break
                token = _fold_token(match.group())
                pick.tokens[match.start()] = (match.end(), token)
                words.add(token)
                match = TOKEN.search(pick.text, match.end())
    else:
        starts = tuple({fold(_prefix(s)) for t in pick.terms for s in t.stems})
        for match in TOKEN.finditer(pick.text):
            token = fold(match.group())
            if token.startswith(starts):
                pick.tokens[match.start()] = (match.end(), token)
                words.add(token)
                if len(pick.tokens) == MAX_CANDIDATES:
                    break
    return words


@functools.lru_cache(maxsize=65536)
def _fold_token(token: str) -> str:
    """A word folded: the same few words (a, and, the) come up on every page."""
    return fold(token)


def _match_at(pick: _Pick, start: int, term: _Term, stems: dict[str, tuple[str, ...]]) -> int | None:
    """The end of `term` matched from the token at `start`, or None."""
    position, i, end = start, 0, start
    while i < len(term.stems):
        token = pick.tokens.get(position)
        if token is None:
            return None
        token_stems = stems.get(token[1], ())
        if not token_stems or term.stems[i : i + len(token_stems)] != token_stems:
            return None
        i, end = i + len(token_stems), token[0]
        if i < len(term.stems):
            following = TOKEN.search(pick.text, end)
            if following is None:
                return None
            position = following.start()
    return end


def _spans(pick: _Pick, stems: dict[str, tuple[str, ...]]) -> list[tuple[int, int, int]]:
    """(start, end, term index) of every match of a term in the text."""
    spans = []
    for start in sorted(pick.tokens):
        for index, term in enumerate(pick.terms):
            end = _match_at(pick, start, term, stems)
            if end is not None:
                spans.append((start, end, index))
                break
    return spans


def _passage(text: str, spans: list[tuple[int, int, int]]) -> str:
    """The best LENGTH characters around the matches, escaped, matches in <mark>."""
    best, best_score = 0, -1
    every = len({term for _, _, term in spans})
    for i, (start, _end, _term) in enumerate(spans):
        limit = start - LEAD + LENGTH
        inside = set()
        for later_start, later_end, term in spans[i:]:
            if later_start > limit:
                break
            if later_end <= limit:
                inside.add(term)
        if len(inside) > best_score:
            best, best_score = i, len(inside)
            if best_score == every:
                break  # the first passage with every term: none can do better
    anchor = spans[best][0]
    begin = max(0, anchor - LEAD)
    if begin:
        space = text.find(" ", begin, anchor)
        begin = space + 1 if space != -1 else begin
    end = min(len(text), begin + LENGTH)
    end = max(end, spans[best][1])
    if end < len(text):
        space = text.rfind(" ", spans[best][1], end)
        end = space if space != -1 else end
    parts = ["…"] if begin else []
    position = begin
    for start, stop, _term in spans:
        if start < position or stop > end:
            continue
        parts += [escape(text[position:start]), "<mark>", escape(text[start:stop]), "</mark>"]
        position = stop
    parts.append(escape(text[position:end]))
    if end < len(text):
        parts.append("…")
    return " ".join("".join(parts).split())


def build(query: Query, sources: dict[int, Source], stem: Stemmer) -> dict[int, Snippet]:
    terms = _terms(query, stem)
    if not terms or not sources:
        return {}
    body_terms = [t for t in terms if t.field is None]
    # Per work, in order of preference: its best chapter, then each field.
    picks: dict[int, list[_Pick]] = {}
    for work_id, source in sources.items():
        options: list[_Pick] = []
        if body_terms:
            best: tuple[int, _Pick | None] = (0, None)
            for position, text in source.chapters:
                folded = fold(text)
                score = _count(folded, body_terms)
                if score > best[0]:
                    best = (score, _Pick(text, folded, position, body_terms))
                    if score == len(body_terms):
                        break
            if best[1] is not None:
                options.append(best[1])
        for name in FALLBACK_FIELDS:
            text = getattr(source, name)
            field_terms = [t for t in terms if t.field in (None, name)]
            if text and field_terms:
                folded = fold(text)
                if _count(folded, field_terms):
                    options.append(_Pick(text, folded, None, field_terms))
        picks[work_id] = options
    words: set[str] = set()
    for options in picks.values():
        for pick in options:
            words |= _candidates(pick)
    ordered = sorted(words)
    stems = dict(zip(ordered, stem(ordered))) if ordered else {}
    snippets: dict[int, Snippet] = {}
    for work_id, options in picks.items():
        for pick in options:
            spans = _spans(pick, stems)
            if spans:
                snippets[work_id] = Snippet(html=_passage(pick.text, spans), chapter=pick.chapter)
                break
    return snippets
