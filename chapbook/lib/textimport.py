"""Turn an uploaded plain-text or HTML story into chapters, notes and metadata.

Pure Python on purpose (no Django): the importer view, the CLI and the tests all
call the same functions, and the parser can be fuzzed without a database.

Decisions:

* Decoding never guesses beyond what is safe: a BOM wins, then strict UTF-8,
  then strict Windows-1252. Text that fails all of them is refused rather than
  shown as mojibake. Latin-1 is deliberately not a fallback because it decodes
  *every* byte string, so binary files would slip through as "text".
* The only thing the text parser may change in the story is whitespace
  *between* paragraphs. Every split happens at a whitespace run and drops it;
  words and punctuation are never added, removed or reordered. The property
  tests hold the parser to this.
* Header block: consecutive ``Key: value`` lines with a *known* key at the very
  start. Unknown keys are not header lines, so a script-style story opening with
  ``ALICE: hello`` is not swallowed. A blank line ends the header unless the
  next non-blank line is again a known header line (AO3-style exports put a
  blank line between Summary and Notes).
* Chapter headings are whole lines such as ``Chapter 2: Title``,
  ``CHAPTER FOUR``, ``Part III - Title`` or ``Ch. 5. Title``; ``Prologue`` and
  ``Epilogue`` count only when numbered headings exist too. With headings,
  prose before the first heading is beginning notes; without headings the whole
  body is chapter 1. Headings with no text under them (a table of contents) are
  dropped.
* End notes: the first line of the last chapter (never its opening paragraph)
  that starts with ``Notes:``, ``End Notes:``, ``Author's Note:`` or ``A/N:``;
  failing that, such a marker in the last line right after a sentence ends,
  outside any quotation (``...she closed the door. Notes: thanks!``).
* Flattened stories (a line over 1,000 characters with many sentences and some
  dialogue) get their paragraphs back: a break before narration that follows
  dialogue, and before dialogue that follows dialogue from a different (or
  unattributed) speaker. Breaks only fall between sentences outside quotations.
"""

from __future__ import annotations

import codecs
import html
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Final, NamedTuple
from urllib.parse import urlsplit

__all__ = [
    "ImportRejected",
    "ParsedChapter",
    "ParsedWork",
    "decode_bytes",
    "parse_file",
    "parse_html",
    "parse_text",
]

DEFAULT_MAX_BYTES: Final = 5 * 1024 * 1024

logger = logging.getLogger(__name__)


class ImportRejected(ValueError):
    """The upload cannot become a work; the message is shown to the user verbatim."""


@dataclass
class ParsedChapter:
    title: str
    paragraphs: list[str]
    html: str


@dataclass
class ParsedWork:
    title: str | None
    summary: str
    notes: str
    end_notes: str
    chapters: list[ParsedChapter]
    prompt_text: str | None = None
    prompt_relationship: str | None = None
    source_site: str | None = None
    source_url: str | None = None
    header: dict[str, list[str]] = field(default_factory=dict)
    encoding: str = "utf-8"

    def header_values(self, *keys: str) -> list[str]:
        """Values of every given header key, in order; lets callers accept aliases
        such as ("relationship", "relationships", "pairing") in one call."""
        values: list[str] = []
        for key in keys:
            values.extend(self.header.get(key.lower(), []))
        return values


# --------------------------------------------------------------------------- #
# Messages (shown to users as-is)
# --------------------------------------------------------------------------- #

MSG_EMPTY: Final = "This file is empty, so there is no story to import."
MSG_BINARY: Final = (
    "This file does not look like a text or HTML document. "
    "Save your story as a .txt or .html file and try again."
)
MSG_UNDECODABLE: Final = (
    "Chapbook could not recognise the text encoding of this file. "
    "Save it as UTF-8 text and try again."
)
MSG_NO_STORY: Final = "This file has no story text to import, only a header or notes."
MSG_HTML_NO_STORY: Final = "This HTML file has no story text to import."
MSG_UNREADABLE: Final = (
    "Chapbook could not read this file. Save it as plain UTF-8 text and try again."
)


def _too_large_message(max_bytes: int) -> str:
    megabytes = max_bytes / (1024 * 1024)
    shown = f"{megabytes:.2f}".rstrip("0").rstrip(".")
    if shown == "0":
        # Only tiny test limits get here; still state the limit in MB as promised.
        shown = f"{megabytes:.6f}".rstrip("0").rstrip(".")
    return f"This file is too large to import. The limit is {shown} MB."


# --------------------------------------------------------------------------- #
# Decoding
# --------------------------------------------------------------------------- #

# C0 controls other than ordinary whitespace, DEL and the C1 block: real prose
# almost never contains them, binary data is full of them.
_CONTROL_CHARS: Final = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_MAX_CONTROL_RATIO: Final = 0.005


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    controls = sum(1 for _ in _CONTROL_CHARS.finditer(text))
    return controls > 0 and controls > len(text) * _MAX_CONTROL_RATIO


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode an upload; return (text with \\n line ends, encoding name)."""
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
        raw = data[len(codecs.BOM_UTF8) :]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportRejected(MSG_UNDECODABLE) from None
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
        try:
            text = data.decode("utf-16")  # the codec reads and drops the BOM
        except UnicodeDecodeError:
            raise ImportRejected(MSG_UNDECODABLE) from None
    elif b"\x00" in data:
        # UTF-16 without a BOM is indistinguishable from binary; refuse both.
        raise ImportRejected(MSG_BINARY)
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                # Strict: the five bytes cp1252 leaves undefined raise here.
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                raise ImportRejected(MSG_BINARY) from None
    text = _normalise_newlines(text)
    if _looks_binary(text):
        raise ImportRejected(MSG_BINARY)
    return text, encoding


# --------------------------------------------------------------------------- #
# Header block
# --------------------------------------------------------------------------- #

_HEADER_KEYS: Final = frozenset(
    {
        "title",
        "summary",
        "notes",
        "note",
        "author's note",
        "author's notes",
        "authors note",
        "authors notes",
        "author note",
        "author notes",
        "a/n",
        "end notes",
        "end note",
        "endnotes",
        "fandom",
        "fandoms",
        "rating",
        "ratings",
        "warning",
        "warnings",
        "archive warning",
        "archive warnings",
        "content warning",
        "content warnings",
        "relationship",
        "relationships",
        "pairing",
        "pairings",
        "ship",
        "ships",
        "character",
        "characters",
        "tags",
        "additional tags",
        "freeform",
        "freeforms",
        "author",
        "authors",
        "by",
        "writer",
        "category",
        "categories",
        "language",
        "series",
        "word count",
        "words",
        "chapters",
        "status",
        "prompt",
        "source",
        "beta",
        "betas",
        "beta reader",
        "disclaimer",
        "dedication",
        "genre",
        "genres",
        "spoilers",
        "published",
        "posted",
        "updated",
        "completed",
    }
)
_NOTES_KEYS: Final = frozenset(
    {"notes", "note", "author's note", "author's notes", "authors note", "authors notes", "author note", "author notes", "a/n"}
)
_END_NOTES_KEYS: Final = frozenset({"end notes", "end note", "endnotes"})
# Prose-like values may run over several lines; list-like values end at the line.
_MULTILINE_KEYS: Final = _NOTES_KEYS | _END_NOTES_KEYS | {"summary", "prompt", "disclaimer", "dedication"}
_PROSE_KEYS: Final = frozenset({"prompt", "disclaimer", "dedication"})

_HEADER_LINE: Final = re.compile(r"[ \t]*([A-Za-z][A-Za-z'’/ \t-]{0,30}?)[ \t]*:[ \t]*(.*)")


def _header_key(line: str) -> tuple[str, str] | None:
    match = _HEADER_LINE.fullmatch(line)
    if match is None:
        return None
    key = re.sub(r"\s+", " ", match.group(1).replace("’", "'").strip().lower())
    if key not in _HEADER_KEYS:
        return None
    return key, match.group(2).strip()


@dataclass
class _Header:
    title: str | None = None
    summary: str = ""
    notes: str = ""
    end_notes: str = ""
    fields: dict[str, list[str]] = field(default_factory=dict)


def _parse_header(lines: list[str]) -> tuple[_Header, int]:
    """Read the header block; return it and the index of the first body line."""
    entries: list[tuple[str, list[str]]] = []
    continues = False
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if entries and j < len(lines) and _header_key(lines[j]) is not None:
                i, continues = j, False
                continue
            break
        parsed = _header_key(line)
        if parsed is not None:
            key, value = parsed
            entries.append((key, [value] if value else []))
            continues = key in _MULTILINE_KEYS or not value
        elif continues:
            entries[-1][1].append(line.strip())
        else:
            break
        i += 1
    if not entries:
        return _Header(), 0
    header = _Header()
    notes: list[str] = []
    end_notes: list[str] = []
    for key, values in entries:
        text = "\n".join(values).strip()
        if key == "title":
            header.title = " ".join(values).strip() or header.title
        elif key == "summary":
            header.summary = "\n\n".join(part for part in (header.summary, text) if part)
        elif key in _NOTES_KEYS:
            notes.append(text)
        elif key in _END_NOTES_KEYS:
            end_notes.append(text)
        elif key in _PROSE_KEYS:
            if text:
                header.fields.setdefault(key, []).append(text)
        else:
            items = [item.strip() for value in values for item in value.split(",")]
            header.fields.setdefault(key, []).extend(item for item in items if item)
    header.notes = "\n\n".join(part for part in notes if part)
    header.end_notes = "\n\n".join(part for part in end_notes if part)
    return header, i


# --------------------------------------------------------------------------- #
# Chapter headings
# --------------------------------------------------------------------------- #

_UNITS: Final = "one|two|three|four|five|six|seven|eight|nine"
_NUMBER: Final = (
    r"(?:\d{1,4}"
    rf"|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:{_UNITS}))?"
    r"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
    rf"|{_UNITS}"
    r"|(?=[ivxlc])(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3}))"
)
_SEPARATOR: Final = r"[ \t]*(?::|\.|-|–|—|\|)[ \t]*"
_NUMBERED_HEADING: Final = re.compile(
    rf"(?:chapter|chap\.?|ch\.|part)[ \t]*{_NUMBER}(?:{_SEPARATOR}(?P<title>.*?))?[ \t]*", re.IGNORECASE
)
_NAMED_HEADING: Final = re.compile(rf"(?:prologue|epilogue|interlude)(?:{_SEPARATOR}.*?)?[ \t]*", re.IGNORECASE)
# Markdown-ish decoration authors put around headings: "## Chapter 1", "**Chapter 1**".
_HEADING_DECORATION: Final = "#*=_~ \t"
_MAX_HEADING_CHARS: Final = 120


class _Heading(NamedTuple):
    title: str
    numbered: bool


def _chapter_heading(line: str) -> _Heading | None:
    candidate = line.strip().strip(_HEADING_DECORATION)
    if not candidate or len(candidate) > _MAX_HEADING_CHARS:
        return None
    match = _NUMBERED_HEADING.fullmatch(candidate)
    if match is not None:
        return _Heading((match.group("title") or "").strip(), True)
    if _NAMED_HEADING.fullmatch(candidate):
        return _Heading(candidate, False)
    return None


def _heading_positions(lines: list[str]) -> list[tuple[int, str]]:
    found = [(i, heading) for i, line in enumerate(lines) if (heading := _chapter_heading(line)) is not None]
    if not any(heading.numbered for _, heading in found):
        # A lone "Epilogue" line is more likely prose than a chapter structure.
        return []
    return [(i, heading.title) for i, heading in found]


# --------------------------------------------------------------------------- #
# End notes
# --------------------------------------------------------------------------- #

_END_MARKER: Final = re.compile(
    # Bare singular "Note:" is left out: letters and signs in stories use it.
    r"(?:end[ \t]*notes?|author'?s?[ \t]+notes?|author’s[ \t]+notes?|a/n|notes)[ \t]*:",
    re.IGNORECASE,
)
_LINE_END_MARKER: Final = re.compile(rf"[ \t]*[*_]*(?:{_END_MARKER.pattern})[*_]*", re.IGNORECASE)
_TERMINAL: Final = ".!?…"
_CLOSERS: Final = "\"'”’»)]*_"


def _marker_is_capitalised(text: str, start: int) -> bool:
    # "she kept notes: ..." is prose; "Notes: ..." is a label.
    first = text[start:].lstrip(" \t*_")[:1]
    return first.isupper()


def _ends_sentence_before(text: str, pos: int) -> bool:
    j = pos - 1
    while j >= 0 and text[j].isspace():
        j -= 1
    while j >= 0 and text[j] in _CLOSERS:
        j -= 1
    return j >= 0 and text[j] in _TERMINAL


def _inline_end_notes_start(line: str) -> int | None:
    for match in _END_MARKER.finditer(line):
        start = match.start()
        if start == 0 or not line[start - 1].isspace():
            continue
        if not _marker_is_capitalised(line, start) or not _ends_sentence_before(line, start):
            continue
        if _inside_quote_at(line, start):
            continue
        return start
    return None


def _clean_notes(text: str) -> str:
    text = "\n".join(line.strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _split_end_notes(lines: list[str]) -> tuple[list[str], str]:
    """Cut a trailing end-notes section off the last chapter's lines."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        return lines, ""
    for i in filled[1:]:
        match = _LINE_END_MARKER.match(lines[i])
        if match is not None and _marker_is_capitalised(lines[i], 0):
            notes = "\n".join([lines[i][match.end() :], *lines[i + 1 :]])
            return lines[:i], _clean_notes(notes.strip(" \t*_"))
    last = filled[-1]
    start = _inline_end_notes_start(lines[last])
    if start is None:
        return lines, ""
    marker = _END_MARKER.match(lines[last], start)
    assert marker is not None
    notes = lines[last][marker.end() :]
    return [*lines[:last], lines[last][:start].rstrip()], _clean_notes(notes)


# --------------------------------------------------------------------------- #
# Paragraphs
# --------------------------------------------------------------------------- #

_MAX_WRAP_WIDTH: Final = 100
_MIN_WRAP_WIDTH: Final = 30
_WRAPPED_SHARE: Final = 0.6


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _first_word_length(line: str) -> int:
    words = line.split(None, 1)
    return len(words[0]) if words else 0


def _wrap_width(blocks: list[list[str]]) -> int | None:
    """The column a hard-wrapped text was wrapped at, or None if it is not hard-wrapped.

    A wrapping editor breaks a line only when the next word would not fit, so in
    wrapped text most lines are too long to take the next line's first word.
    """
    widths = [len(line.strip()) for block in blocks for line in block]
    if not widths:
        return None
    width = max(widths)
    if not _MIN_WRAP_WIDTH <= width <= _MAX_WRAP_WIDTH:
        return None
    pairs = [(a.strip(), b) for block in blocks for a, b in zip(block, block[1:])]
    if len(pairs) < 3:
        return None
    full = sum(1 for a, b in pairs if len(a) + 1 + _first_word_length(b) > width)
    return width if full >= _WRAPPED_SHARE * len(pairs) else None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _paragraphs(lines: list[str]) -> list[str]:
    blocks = _blocks(lines)
    width = _wrap_width(blocks)
    paragraphs: list[str] = []
    if width is None:
        paragraphs = [line.strip() for block in blocks for line in block]
    else:
        base_indent = min(_indent(line) for block in blocks for line in block)
        for block in blocks:
            current = [block[0].strip()]
            for previous, line in zip(block, block[1:]):
                starts_new = (
                    len(previous.strip()) + 1 + _first_word_length(line) <= width or _indent(line) > base_indent
                )
                if starts_new:
                    paragraphs.append(" ".join(current))
                    current = []
                current.append(line.strip())
            paragraphs.append(" ".join(current))
    restored: list[str] = []
    for paragraph in paragraphs:
        if _looks_flattened(paragraph):
            restored.extend(_restore_paragraphs(paragraph))
        else:
            restored.append(paragraph)
    return restored


# --------------------------------------------------------------------------- #
# Flattened text: quotation tracking and paragraph restoration
# --------------------------------------------------------------------------- #

_FLATTENED_MIN_CHARS: Final = 1000
_FLATTENED_MIN_SENTENCES: Final = 8
_SENTENCE_END: Final = re.compile(r"[.!?…][\"'”’»)\]]*\s")
_OPEN_QUOTES: Final = "“«„"
_CLOSE_QUOTES: Final = "”»"
_ANY_QUOTE: Final = re.compile(r"[“”«»„\"]")
# Only whitespace after punctuation can end a sentence (or close a quotation
# implicitly), so the scanner skips the runs between ordinary words.
_QUOTE_OR_SPACE: Final = re.compile(r"[“”«»„\"]|(?<=[.!?…—–\-\"'”’»)\]*_])\s+")
_LEFT_OF_OPENER: Final = "([{—–-/"
_RIGHT_OF_CLOSER: Final = ".,;:!?)]}—–-…'’"
_ABBREVIATIONS: Final = frozenset(
    "mr. mrs. ms. mx. dr. st. prof. sr. jr. mt. capt. lt. sgt. col. gen. rev. fr. vs. etc. e.g. i.e. no.".split()
)
_SPEECH_VERBS: Final = (
    "said|says|asked|asks|replied|replies|answered|whispered|shouted|yelled|muttered|murmured|called|cried|"
    "added|continued|snapped|sighed|laughed|admitted|agreed|began|breathed|demanded|echoed|explained|hissed|"
    "insisted|grumbled|interrupted|offered|promised|protested|repeated|screamed|stammered|suggested|teased|"
    "warned|wondered|mumbled|groaned|mused|countered|retorted|blurted|croaked|drawled|gasped|growled|huffed|"
    "joked|pleaded|quipped|remarked|responded|scoffed|sneered|sniffed|sobbed|spat|squeaked|stated|urged|"
    "whimpered|corrected|confirmed|conceded|noted|observed|argued|told|tells|shrugged|smiled|grinned|sang"
)
_NAME_WORD: Final = r"[A-Z][\w'’-]*"
_TAG_AFTER_QUOTE: Final = re.compile(
    rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}[ \t]+(?:\w+ly[ \t]+)?(?:{_SPEECH_VERBS})\b"
)
_SPEAKER_BEFORE_VERB: Final = re.compile(
    rf"(?<![\w'’])({_NAME_WORD}|he|she|they|we|you|it)[ \t]+(?:\w+ly[ \t]+)?(?:{_SPEECH_VERBS})\b"
)
_SPEAKER_AFTER_VERB: Final = re.compile(
    rf"(?<![\w'’])(?:{_SPEECH_VERBS})[ \t]+({_NAME_WORD}|he|she|they|we|you)(?![\w'’])"
)


def _looks_flattened(paragraph: str) -> bool:
    if len(paragraph) <= _FLATTENED_MIN_CHARS or _ANY_QUOTE.search(paragraph) is None:
        return False
    sentences = 0
    for _ in _SENTENCE_END.finditer(paragraph):
        sentences += 1
        if sentences >= _FLATTENED_MIN_SENTENCES:
            return True
    return False


def _straight_quote_opens(text: str, i: int, inside: bool) -> bool:
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    left = before.isspace() or before in _LEFT_OF_OPENER
    right = after.isspace() or after in _RIGHT_OF_CLOSER
    if left != right:
        return left
    return not inside


def _opens_at(text: str, i: int, inside: bool) -> bool:
    char = text[i]
    if char in _OPEN_QUOTES:
        return True
    return char == '"' and _straight_quote_opens(text, i, inside)


class _Run(NamedTuple):
    start: int
    end: int
    inside: bool


@dataclass
class _QuoteMap:
    runs: list[_Run]
    segments: list[tuple[int, int]]  # [opening quote, just past the closing quote)


def _map_quotes(text: str, stop: int | None = None) -> _QuoteMap:
    """Whitespace runs with their quotation state, and the quoted segments.

    An opening quote right after a finished sentence while a quotation is still
    open closes the old one: that is how a speech running over several
    paragraphs reads once the line breaks are lost.
    """
    limit = len(text) if stop is None else stop
    runs: list[_Run] = []
    segments: list[tuple[int, int]] = []
    inside = False
    opened = -1
    for match in _QUOTE_OR_SPACE.finditer(text, 0, limit):
        start = match.start()
        char = text[start]
        if char.isspace():
            end = match.end()
            if inside and end < len(text) and _opens_at(text, end, True) and _ends_sentence_before(text, start):
                segments.append((opened, start))
                inside = False
            runs.append(_Run(start, end, inside))
            continue
        if char in _OPEN_QUOTES or (char == '"' and _straight_quote_opens(text, start, inside)):
            if inside:
                segments.append((opened, start))
            inside, opened = True, start
        elif inside:
            segments.append((opened, start + 1))
            inside = False
    if inside:
        segments.append((opened, limit))
    return _QuoteMap(runs, segments)


def _inside_quote_at(text: str, pos: int) -> bool:
    quotes = _map_quotes(text, pos)
    return bool(quotes.segments) and quotes.segments[-1][1] >= pos and quotes.segments[-1][0] < pos


def _is_sentence_boundary(text: str, run: _Run) -> bool:
    if run.inside or run.end >= len(text):
        return False
    j = run.start - 1
    closed_quote = False
    while j >= 0 and text[j] in _CLOSERS:
        closed_quote = closed_quote or text[j] in "\"”»"
        j -= 1
    if j < 0:
        return False
    core = text[j]
    following = text[run.end]
    if core in "—–-":
        # Interrupted speech ("I—" "No.") ends a turn only when a new quote starts.
        return closed_quote and _opens_at(text, run.end, False)
    if core not in _TERMINAL:
        return False
    if not (following.isupper() or following.isdigit() or following in "“«„‘(['*_\""):
        return False
    if core == ".":
        k = j
        while k > 0 and not text[k - 1].isspace():
            k -= 1
        token = text[k : j + 1].lstrip("\"“'‘([").lower()
        if token in _ABBREVIATIONS:
            return False
        if len(token) == 2 and text[j - 1].isupper() and text[j - 1] not in "IA":
            return False  # an initial, as in "J. Smith"
    if closed_quote and core != "." and _TAG_AFTER_QUOTE.match(text, run.end):
        return False  # '"Run!" Alice shouted.' is one sentence; after '."' a capital starts a new one
    return True


def _is_dialogue(text: str, segment: tuple[int, int]) -> bool:
    start, end = segment
    content = text[start + 1 : end].rstrip("\"”»").strip()
    if not content:
        return False
    # Scare quotes ("the 'plan'") are short and unpunctuated; speech is not.
    return content[-1] in ".,!?…—–-" or len(content.split()) >= 4


def _speaker(outside: str) -> str | None:
    found = [m for m in (_SPEAKER_BEFORE_VERB.search(outside), _SPEAKER_AFTER_VERB.search(outside)) if m]
    if not found:
        return None
    first = min(found, key=lambda m: m.start())
    return first.group(1).split()[-1].lower()


@dataclass
class _Sentence:
    start: int
    end: int
    dialogue: bool
    speaker: str | None
    ends_in_quote: bool = False


def _sentences(text: str, quotes: _QuoteMap) -> list[tuple[_Sentence, _Run | None]]:
    """Sentences with the whitespace run that precedes each (None for the first)."""
    spans: list[tuple[int, int, _Run | None]] = []
    start = 0
    before: _Run | None = None
    for run in quotes.runs:
        if _is_sentence_boundary(text, run):
            spans.append((start, run.start, before))
            start, before = run.end, run
    spans.append((start, len(text), before))
    result: list[tuple[_Sentence, _Run | None]] = []
    segments = quotes.segments
    k = 0
    for start, end, preceding in spans:
        while k < len(segments) and segments[k][1] <= start:
            k += 1
        outside: list[str] = []
        cursor, dialogue, m = start, False, k
        while m < len(segments) and segments[m][0] < end:
            seg_start, seg_end = segments[m]
            if seg_start >= cursor:
                outside.append(text[cursor:seg_start])
            dialogue = dialogue or _is_dialogue(text, segments[m])
            cursor = max(cursor, min(seg_end, end))
            m += 1
        tail = text[cursor:end]
        outside.append(tail)
        speaker = _speaker(" … ".join(outside)) if dialogue else None
        ends_in_quote = m > k and not tail.strip(_TERMINAL + " \t,;:")
        result.append((_Sentence(start, end, dialogue, speaker, ends_in_quote), preceding))
    return result


_PRONOUNS: Final = frozenset({"he", "she", "they", "we", "you", "it", "i"})


def _introduces_speaker(text: str, paragraph_start: int, sentence: _Sentence) -> bool:
    """Speech after narration, tagged with a name the narration never mentions."""
    speaker = sentence.speaker
    if speaker is None or speaker in _PRONOUNS:
        return False
    narration = text[paragraph_start : sentence.start].lower()
    return re.search(rf"(?<![\w'’]){re.escape(speaker)}(?![\w'’])", narration) is None


def _restore_paragraphs(text: str) -> list[str]:
    quotes = _map_quotes(text)
    breaks: list[_Run] = []
    previous: _Sentence | None = None
    paragraph_speaker: str | None = None
    paragraph_start = 0
    for sentence, run in _sentences(text, quotes):
        if previous is not None and run is not None:
            if not sentence.dialogue:
                new_paragraph = previous.dialogue  # narration resumes after dialogue
            elif not previous.dialogue:
                # An action beat then speech is one paragraph, unless the speech is
                # tagged with someone the beat was not about.
                new_paragraph = _introduces_speaker(text, paragraph_start, sentence)
            elif sentence.speaker is not None and paragraph_speaker is not None:
                new_paragraph = sentence.speaker != paragraph_speaker
            elif sentence.speaker is None and previous.speaker is not None:
                # '"Hi," Alice said. "How are you?"' is Alice going on; but after
                # '"Admiral," he said, "and friend."' the next quote is a reply.
                new_paragraph = previous.ends_in_quote
            else:
                new_paragraph = True  # untagged speech after speech: the other person answers
            if new_paragraph:
                breaks.append(run)
                paragraph_speaker = None
                paragraph_start = run.end
        if sentence.speaker is not None:
            paragraph_speaker = sentence.speaker
        previous = sentence
    paragraphs: list[str] = []
    start = 0
    for run in breaks:
        paragraphs.append(text[start : run.start].strip())
        start = run.end
    paragraphs.append(text[start:].strip())
    return [paragraph for paragraph in paragraphs if paragraph]


# --------------------------------------------------------------------------- #
# Prompts and cross-posts
# --------------------------------------------------------------------------- #

_PROMPT_WITH_COLON: Final = re.compile(r"\bprompt\b[^:\n.!?]{0,60}:", re.IGNORECASE)
_FOR_THE_PROMPT: Final = re.compile(r"\bfor[ \t]+(?:the|a|this|my|your)?[ \t]*prompt\b[ \t]*", re.IGNORECASE)
_NAME_TOKEN: Final = r"[^\W\d_][\w'’.-]*"
_PAIRING: Final = re.compile(
    rf"{_NAME_TOKEN}(?:[ \t]+{_NAME_TOKEN}){{0,3}}"
    rf"(?:[ \t]*/[ \t]*|[ \t]+&[ \t]+|&){_NAME_TOKEN}(?:[ \t]+{_NAME_TOKEN}){{0,3}}"
    rf"(?:(?:[ \t]*/[ \t]*|[ \t]+&[ \t]+|&){_NAME_TOKEN}(?:[ \t]+{_NAME_TOKEN}){{0,3}})*"
)
_PAIRING_SEPARATOR: Final = re.compile(r"[ \t]*(/|&)[ \t]*")
# Capitalised words that start sentences rather than names.
_NOT_NAMES: Final = frozenset(
    "the a an in which for and with prompt written fic story this that where when au "
    "request requested ship pairing my your".split()
)
_MATCHING_QUOTES: Final = {'"': '"', "“": "”", "'": "'", "‘": "’", "«": "»"}


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in _MATCHING_QUOTES:
        closing = text.find(_MATCHING_QUOTES[text[0]], 1)
        if closing > 0 and not text[closing + 1 :].strip(" .!?,;"):
            return text[1:closing].strip()
    return text


def _rest_of_prompt(text: str, pos: int) -> str:
    line_end = text.find("\n", pos)
    rest = text[pos:] if line_end < 0 else text[pos:line_end]
    if rest.strip():
        return rest.strip()
    # "The prompt:" on a line of its own: the prompt is the next paragraph.
    following = text[pos:].lstrip("\n \t")
    paragraph_end = following.find("\n\n")
    return (following if paragraph_end < 0 else following[:paragraph_end]).strip()


def _find_prompt(texts: Iterable[str]) -> str | None:
    for text in texts:
        match = _PROMPT_WITH_COLON.search(text)
        if match is not None:
            prompt = _unquote(_rest_of_prompt(text, match.end()))
            if prompt:
                return prompt
        match = _FOR_THE_PROMPT.search(text)
        if match is not None:
            rest = _rest_of_prompt(text, match.end())
            if rest[:1] in _MATCHING_QUOTES:
                closing = rest.find(_MATCHING_QUOTES[rest[0]], 1)
                if closing > 1:
                    return rest[1:closing].strip()
            prompt = _unquote(rest)
            if prompt:
                return prompt
    return None


def _is_name_word(word: str) -> bool:
    return len(word) >= 2 and word[0].isupper() and word.lower().strip(".") not in _NOT_NAMES


def _find_pairing(text: str) -> str | None:
    for match in _PAIRING.finditer(text):
        parts = _PAIRING_SEPARATOR.split(match.group(0))
        names_raw, separators = parts[0::2], parts[1::2]
        names: list[str] = []
        for index, raw in enumerate(names_raw):
            words = raw.split()
            if index == 0:
                kept: list[str] = []
                for word in reversed(words):
                    if not _is_name_word(word):
                        break
                    kept.insert(0, word)
            else:
                kept = []
                for word in words:
                    if not _is_name_word(word):
                        break
                    kept.append(word)
            names.append(" ".join(kept).rstrip(".,;:'’"))
        if len(names) >= 2 and all(names[:2]):
            # Stop at the first name that is not a name ("Alice/Bob/something").
            result = names[0]
            for separator, name in zip(separators, names[1:]):
                if not name:
                    break
                result += "/" + name if separator == "/" else " & " + name
            return result
    return None


_URL: Final = re.compile(r"(?:https?://|www\.)[^\s<>\"'“”‘’()\[\]{}]+", re.IGNORECASE)
_CROSS_POST: Final = re.compile(
    r"\b(?:(?:originally|first)[ \t]+(?:posted|published|written|shared)|cross-?[ \t]?posted"
    r"|I[ \t]+(?:first[ \t]+|originally[ \t]+)?(?:wrote|posted|published)[ \t]+(?:this|it)(?:[ \t]+\w+)?)"
    r"[ \t]+(?:(?:on|at|to|in|from|over)[ \t]+)?(?:on[ \t]+|at[ \t]+)?(?:my[ \t]+)?(?P<site>[\w.-]+)",
    re.IGNORECASE,
)
_SITE_ALIASES: Final = {
    "tumblr": "tumblr",
    "dreamwidth": "Dreamwidth",
    "dw": "Dreamwidth",
    "livejournal": "LiveJournal",
    "lj": "LiveJournal",
    "fanfiction.net": "FanFiction.Net",
    "ff.net": "FanFiction.Net",
    "ffnet": "FanFiction.Net",
    "ffn": "FanFiction.Net",
    "fanfiction": "FanFiction.Net",
    "ao3": "AO3",
    "wattpad": "Wattpad",
}
_SITE_HOSTS: Final = {
    "tumblr.com": "tumblr",
    "dreamwidth.org": "Dreamwidth",
    "livejournal.com": "LiveJournal",
    "fanfiction.net": "FanFiction.Net",
    "archiveofourown.org": "AO3",
    "wattpad.com": "Wattpad",
}
_NOT_SITES: Final = frozenset({"here", "there", "this", "it", "my", "a", "the", "blog", "site", "website", "journal"})


def _find_urls(text: str) -> list[str]:
    urls: list[str] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        if url.lower().startswith("www."):
            url = "https://" + url
        if _url_host(url):
            urls.append(url)
    return urls


def _url_host(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    return host.removeprefix("www.")


def _site_for_host(host: str) -> str:
    for suffix, name in _SITE_HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return name
    return host


def _site_for_word(word: str) -> str | None:
    cleaned = word.strip(".-")
    lowered = cleaned.lower()
    if lowered in _SITE_ALIASES:
        return _SITE_ALIASES[lowered]
    if lowered in _NOT_SITES or not cleaned:
        return None
    if "." in lowered:
        host = _url_host("https://" + lowered)
        return _site_for_host(host) if host else None
    return cleaned if cleaned[0].isupper() else None


def _find_source(texts: list[str], extra_urls: list[str]) -> tuple[str | None, str | None]:
    urls = [url for text in texts for url in _find_urls(text)] + extra_urls
    for text in texts:
        match = _CROSS_POST.search(text)
        if match is None:
            continue
        site = _site_for_word(match.group("site"))
        if site is None:
            if urls:
                host = _url_host(urls[0])
                return (_site_for_host(host) if host else None), urls[0]
            continue
        matching = [url for url in urls if (host := _url_host(url)) and _site_for_host(host) == site]
        return site, (matching[0] if matching else None)
    if urls:
        host = _url_host(urls[0])
        if host:
            return _site_for_host(host), urls[0]
    return None, None


def _fill_prompt_and_source(work: ParsedWork, extra_urls: list[str] | None = None) -> None:
    texts = [*work.header.get("prompt", []), work.notes, work.end_notes, work.summary]
    texts = [text for text in texts if text]
    header_prompt = "\n".join(work.header.get("prompt", []))
    work.prompt_text = header_prompt or _find_prompt(texts)
    if work.prompt_text:
        work.prompt_relationship = _find_pairing(work.prompt_text)
    source_texts = [text for text in (work.notes, work.end_notes, *work.header.get("source", []), work.summary) if text]
    work.source_site, work.source_url = _find_source(source_texts, extra_urls or [])


# --------------------------------------------------------------------------- #
# Plain text
# --------------------------------------------------------------------------- #


def _join_notes(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)


def _parse_text(text: str) -> ParsedWork:
    text = _normalise_newlines(text).lstrip("\ufeff")
    lines = text.split("\n")
    header, body_start = _parse_header(lines)
    body = lines[body_start:]
    if not any(line.strip() for line in body) and any(len(line) > _FLATTENED_MIN_CHARS for line in lines[:body_start]):
        # A flattened file whose first words are "Title: ..." is one giant header
        # line; keeping it all as story loses nothing, rejecting it loses the upload.
        header, body = _Header(), lines
    headings = _heading_positions(body)
    preface: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    if headings:
        preface = body[: headings[0][0]]
        for (index, title), following in zip(headings, [*headings[1:], (len(body), "")]):
            sections.append((title, body[index + 1 : following[0]]))
    else:
        sections.append(("", body))
    end_notes = ""
    last_title, last_lines = sections[-1]
    last_lines, end_notes = _split_end_notes(last_lines)
    sections[-1] = (last_title, last_lines)
    chapters = [ParsedChapter(title, paragraphs, "") for title, lines_ in sections if (paragraphs := _paragraphs(lines_))]
    if not chapters:
        raise ImportRejected(MSG_NO_STORY)
    preface_text = "\n\n".join(_paragraphs(preface))
    work = ParsedWork(
        title=header.title,
        summary=header.summary,
        notes=_join_notes(header.notes, preface_text),
        end_notes=_join_notes(header.end_notes, end_notes),
        chapters=chapters,
        header=header.fields,
    )
    _fill_prompt_and_source(work)
    return work


def parse_text(text: str) -> ParsedWork:
    """Parse a plain-text story. Raises ImportRejected when there is no story in it."""
    try:
        return _parse_text(text)
    except ImportRejected:
        raise
    except Exception as error:  # noqa: BLE001 - users must get a sentence, not a traceback
        # A parser bug, not the user's file: logged with its traceback for us to fix.
        logger.exception("import parser failed")
        raise ImportRejected(MSG_UNREADABLE) from error


# --------------------------------------------------------------------------- #
# HTML
# --------------------------------------------------------------------------- #

_VOID_TAGS: Final = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
_BLOCK_TAGS: Final = frozenset(
    "address article aside blockquote center dd details div dl dt figcaption figure footer form h1 h2 h3 h4 h5 "
    "h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul body html".split()
)
_CLOSES_PARAGRAPH: Final = _BLOCK_TAGS - {"li", "dd", "dt", "td", "th", "tr", "tbody", "thead", "tfoot"}
_INVISIBLE_TAGS: Final = frozenset({"script", "style", "head", "title", "template", "noscript", "meta", "link"})
_CONTAINER_TAGS: Final = frozenset({"div", "section", "article", "main", "body", "html", "center", "#root"})
_HEADING_TAGS: Final = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "p"})
_MAX_DEPTH: Final = 200
_PARAGRAPH_MARK: Final = "\ue000"
_LINE_MARK: Final = "\ue001"
_SUMMARY_CLASS: Final = re.compile(r"summary", re.IGNORECASE)
_NOTES_CLASS: Final = re.compile(r"(?<!foot)notes?(?![a-z])", re.IGNORECASE)
_END_CLASS: Final = re.compile(r"end|after", re.IGNORECASE)
_LABEL: Final = re.compile(
    r"\s*(?:summary|end[ \t]*notes?|author'?s?[ \t]+notes?|author’s[ \t]+notes?|a/n|notes?)[ \t]*(?::|\n)\s*",
    re.IGNORECASE,
)


@dataclass(eq=False)
class _Element:
    tag: str
    attrs: list[tuple[str, str | None]]
    children: list[_Element | str] = field(default_factory=list)

    def attr(self, name: str) -> str:
        return next((value or "" for key, value in self.attrs if key == name), "")


class _TreeBuilder(HTMLParser):
    """A forgiving tree: unknown end tags are ignored, unclosed tags close at their parent's end."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("#root", [])
        self.stack: list[_Element] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = _Element(tag, attrs)
        if tag in _CLOSES_PARAGRAPH and self.stack[-1].tag == "p":
            self.stack.pop()
        if tag == "li" and self.stack[-1].tag == "li":
            self.stack.pop()
        if tag in _VOID_TAGS:
            self.stack[-1].children.append(element)
            return
        if len(self.stack) >= _MAX_DEPTH:
            return  # keep the content, drop the wrapper: deep junk must not exhaust the stack
        self.stack[-1].children.append(element)
        self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Element(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        # The stdlib asserts on junk such as "<![ x"; a browser shows it as text.
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            self.handle_data(self.rawdata[i : i + 3])
            return i + 3


def _build_tree(text: str) -> _Element:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def _walk(element: _Element) -> Iterator[_Element]:
    stack = [element]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for child in reversed(current.children) if isinstance(child, _Element))


def _find(element: _Element, tag: str) -> _Element | None:
    return next((node for node in _walk(element) if node.tag == tag), None)


def _to_html(node: _Element | str) -> str:
    if isinstance(node, str):
        return html.escape(node, quote=False)
    if node.tag in _INVISIBLE_TAGS or node.tag.startswith("#"):
        return "".join(_to_html(child) for child in node.children) if node.tag.startswith("#") else ""
    attrs = "".join(
        f" {name}" if value is None else f' {name}="{html.escape(value, quote=True)}"' for name, value in node.attrs
    )
    if node.tag in _VOID_TAGS:
        return f"<{node.tag}{attrs}>"
    inner = "".join(_to_html(child) for child in node.children)
    return f"<{node.tag}{attrs}>{inner}</{node.tag}>"


def _collect_text(node: _Element | str, out: list[str]) -> None:
    if isinstance(node, str):
        # Whitespace is collapsed once, over the joined text, in _text_of.
        if _PARAGRAPH_MARK in node or _LINE_MARK in node:
            node = node.replace(_PARAGRAPH_MARK, " ").replace(_LINE_MARK, " ")
        out.append(node)
        return
    if node.tag in _INVISIBLE_TAGS:
        return
    if node.tag == "br":
        out.append(_LINE_MARK)
        return
    block = node.tag in _BLOCK_TAGS
    if block:
        out.append(_PARAGRAPH_MARK)
    for child in node.children:
        _collect_text(child, out)
    if block:
        out.append(_PARAGRAPH_MARK)


def _text_of(nodes: Iterable[_Element | str]) -> str:
    out: list[str] = []
    for node in nodes:
        _collect_text(node, out)
    # Plain splits, not a regex over mark-and-space runs: that would go quadratic
    # on documents made of thousands of empty inline elements.
    joined = re.sub(r"\s+", " ", "".join(out))
    cleaned: list[str] = []
    for paragraph in joined.split(_PARAGRAPH_MARK):
        lines = [line.strip() for line in paragraph.split(_LINE_MARK)]
        text = "\n".join(line for line in lines if line)
        if text:
            cleaned.append(text)
    return "\n\n".join(cleaned)


def _hrefs(element: _Element) -> list[str]:
    return [href for node in _walk(element) if node.tag == "a" and (href := node.attr("href").strip())]


def _strip_label(text: str) -> str:
    match = _LABEL.match(text)
    return text[match.end() :].strip() if match else text.strip()


@dataclass
class _HtmlMeta:
    summary: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    end_notes: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def _pull_marked_metadata(element: _Element, meta: _HtmlMeta) -> None:
    """Remove elements whose class or id names them summary/notes, keeping their text."""
    kept: list[_Element | str] = []
    for child in element.children:
        if isinstance(child, _Element) and child.tag not in {"body", "html"}:
            marks = f"{child.attr('class')} {child.attr('id')}"
            target: list[str] | None = None
            if _SUMMARY_CLASS.search(marks):
                target = meta.summary
            elif _NOTES_CLASS.search(marks):
                target = meta.end_notes if _END_CLASS.search(marks) else meta.notes
            if target is not None:
                text = _strip_label(_text_of([child]))
                if text:
                    target.append(text)
                meta.urls.extend(_hrefs(child))
                continue
            _pull_marked_metadata(child, meta)
        kept.append(child)
    element.children = kept


def _is_short(element: _Element, limit: int) -> bool:
    total = 0
    for node in _walk(element):
        total += sum(len(child) for child in node.children if isinstance(child, str))
        if total > limit:
            return False
    return True


def _heading_of(node: _Element | str) -> _Heading | None:
    if not isinstance(node, _Element) or node.tag not in _HEADING_TAGS:
        return None
    # Cheap length check first: every paragraph of a long story passes through here.
    if not _is_short(node, 4 * _MAX_HEADING_CHARS):
        return None
    text = _text_of([node])
    if "\n" in text:
        return None
    return _chapter_heading(text)


def _ancestors_of_headings(root: _Element) -> set[int]:
    marked: set[int] = set()
    path: list[tuple[_Element, int]] = [(root, 0)]
    # Iterative depth-first walk that knows each node's ancestors.
    while path:
        node, index = path[-1]
        if index >= len(node.children):
            path.pop()
            continue
        path[-1] = (node, index + 1)
        child = node.children[index]
        if isinstance(child, _Element):
            if _heading_of(child) is not None:
                marked.update(id(ancestor) for ancestor, _ in path)
            else:
                path.append((child, 0))
    return marked


def _starts_like_metadata(element: _Element) -> bool:
    for child in element.children:
        if isinstance(child, str):
            if child.strip():
                return False
            continue
        text = _text_of([child])
        if not text:
            continue
        return _header_key(text.split("\n", 1)[0]) is not None
    return False


def _flatten_blocks(element: _Element, dissolve: set[int]) -> list[_Element | str]:
    blocks: list[_Element | str] = []
    for child in element.children:
        if isinstance(child, _Element) and (
            child.tag in {"html", "body"}
            or (child.tag in _CONTAINER_TAGS and (id(child) in dissolve or _starts_like_metadata(child)))
        ):
            blocks.extend(_flatten_blocks(child, dissolve))
        else:
            blocks.append(child)
    return blocks


def _has_media(nodes: list[_Element | str]) -> bool:
    # A chapter may be a single piece of fan art with no words at all.
    return any(
        node.tag in {"img", "video", "audio", "iframe"}
        for block in nodes
        if isinstance(block, _Element)
        for node in _walk(block)
    )


def _html_chapter(title: str, nodes: list[_Element | str]) -> ParsedChapter:
    return ParsedChapter(title, [], "".join(_to_html(node) for node in nodes).strip())


def _parse_html(text: str) -> ParsedWork:
    root = _build_tree(_normalise_newlines(text).lstrip("\ufeff"))
    title_element = _find(root, "title")
    title = _text_of(title_element.children).replace("\n", " ").strip() if title_element else ""
    body = _find(root, "body") or root
    meta = _HtmlMeta()
    _pull_marked_metadata(body, meta)

    first_h1 = _find(body, "h1")
    if first_h1 is not None and _heading_of(first_h1) is None:
        title = title or _text_of([first_h1]).replace("\n", " ")
        # The document heading repeats the title; it is not story text.
        parent = next(node for node in _walk(body) if any(child is first_h1 for child in node.children))
        parent.children = [child for child in parent.children if child is not first_h1]

    blocks = _flatten_blocks(body, _ancestors_of_headings(body))
    blocks = [block for block in blocks if not (isinstance(block, str) and not block.strip())]
    cache: dict[int, str] = {}

    def text_of(block: _Element | str) -> str:
        key = id(block)
        if key not in cache:
            cache[key] = _text_of([block])
        return cache[key]

    header = _Header()
    header_entries: list[_Header] = []
    position = 0
    while position < len(blocks) and _heading_of(blocks[position]) is None:
        block_text = text_of(blocks[position])
        block_lines = block_text.split("\n")
        parsed, end = _parse_header(block_lines)
        if not block_text or end == 0 or end < len(block_lines):
            break  # only blocks made entirely of header lines are header
        header_entries.append(parsed)
        consumed = blocks[position]
        if isinstance(consumed, _Element):
            meta.urls.extend(_hrefs(consumed))
        position += 1
    for entry in header_entries:
        header.title = header.title or entry.title
        header.summary = _join_notes(header.summary, entry.summary)
        header.notes = _join_notes(header.notes, entry.notes)
        header.end_notes = _join_notes(header.end_notes, entry.end_notes)
        for key, values in entry.fields.items():
            header.fields.setdefault(key, []).extend(values)
    blocks = blocks[position:]

    headings = [(index, heading) for index, block in enumerate(blocks) if (heading := _heading_of(block)) is not None]
    if not any(heading.numbered for _, heading in headings):
        headings = []
    preface: list[_Element | str] = []
    sections: list[tuple[str, list[_Element | str]]] = []
    if headings:
        preface = blocks[: headings[0][0]]
        ends = [index for index, _ in headings[1:]] + [len(blocks)]
        for (index, heading), end in zip(headings, ends):
            sections.append((heading.title, blocks[index + 1 : end]))
    else:
        sections.append(("", blocks))

    end_notes_parts: list[str] = []
    last_title, last_blocks = sections[-1]
    content_indexes = [i for i, block in enumerate(last_blocks) if text_of(block)]
    for i in content_indexes[1:]:
        first_line = text_of(last_blocks[i]).split("\n", 1)[0]
        marker = _LINE_END_MARKER.match(first_line)
        if marker is not None and _marker_is_capitalised(first_line, 0):
            end_notes_parts.append(_strip_label("\n\n".join(filter(None, map(text_of, last_blocks[i:])))))
            for tail in last_blocks[i:]:
                if isinstance(tail, _Element):
                    meta.urls.extend(_hrefs(tail))
            sections[-1] = (last_title, last_blocks[:i])
            break

    chapters = [
        _html_chapter(title_, nodes) for title_, nodes in sections if any(map(text_of, nodes)) or _has_media(nodes)
    ]
    if not chapters:
        raise ImportRejected(MSG_HTML_NO_STORY)
    work = ParsedWork(
        title=(header.title or title.strip()) or None,
        summary=_join_notes(header.summary, *meta.summary),
        notes=_join_notes(header.notes, *meta.notes, _text_of(preface)),
        end_notes=_join_notes(header.end_notes, *meta.end_notes, *end_notes_parts),
        chapters=chapters,
        header=header.fields,
    )
    urls = [url for url in meta.urls if url.lower().startswith(("http://", "https://"))]
    _fill_prompt_and_source(work, urls)
    return work


def parse_html(text: str) -> ParsedWork:
    """Parse an HTML story; chapter HTML is returned unsanitized for the caller to clean."""
    try:
        return _parse_html(text)
    except ImportRejected:
        raise
    except Exception as error:  # noqa: BLE001 - users must get a sentence, not a traceback
        # A parser bug, not the user's file: logged with its traceback for us to fix.
        logger.exception("import parser failed")
        raise ImportRejected(MSG_UNREADABLE) from error


# --------------------------------------------------------------------------- #
# Files
# --------------------------------------------------------------------------- #

_HTML_SUFFIXES: Final = (".html", ".htm", ".xhtml")


def parse_file(filename: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedWork:
    """Check, decode and parse an upload; .html/.htm go to the HTML parser."""
    if len(data) > max_bytes:
        raise ImportRejected(_too_large_message(max_bytes))
    if not data.strip():
        raise ImportRejected(MSG_EMPTY)
    text, encoding = decode_bytes(data)
    if not text.strip().strip("\ufeff").strip():
        raise ImportRejected(MSG_EMPTY)
    if filename.lower().endswith(_HTML_SUFFIXES):
        work = parse_html(text)
    else:
        work = parse_text(text)
    work.encoding = encoding
    return work
