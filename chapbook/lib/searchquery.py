"""The reader's search language, parsed into a small tree every backend compiles.

    dragon "silver harbour" -angst title:lantern OR title:lamp creator:alice tag:fluff

Words must all match; `"..."` is an exact phrase; `-word` (or `-"phrase"`) excludes;
`OR` between two terms makes either enough; `title:`, `summary:`, `notes:`, `creator:`
and `tag:` restrict a term to one field. Text is folded the way the index folds it:
case, accents (`café` = `cafe`) and curly quotes (`don’t` = `don't`).

Nothing a reader types is an error. Every other character only separates words, so FTS
syntax (`*`, `^`, `(`, `)`, `:`, `NEAR`) is never more than punctuation or a word; `OR`
(in capitals) with nothing to join, a lone `-` and an unclosed quote (a phrase to the
end) are read as what they can mean. Common English words are dropped outside phrases.
What was read differently from what was typed is said in `Query.notes`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

FIELDS = ("title", "summary", "notes", "creator", "tag")
MAX_QUERY_CHARS = 1000
MAX_TERMS = 32


@dataclass(frozen=True)
class Term:
    # Folded words; more than one means they must appear together, in order (a phrase).
    words: tuple[str, ...]
    # None: any field (title, summary, notes, tags, creators and the chapters' text).
    field: str | None = None


@dataclass(frozen=True)
class Clause:
    # Any one of these terms satisfies the clause ("a OR b" is one clause of two terms).
    any_of: tuple[Term, ...]
    negated: bool = False


@dataclass(frozen=True)
class Query:
    # Every positive clause must match; no negated clause may.
    clauses: tuple[Clause, ...]
    # Messages for the reader about what was read differently from what they typed
    # ("The query was cut to 1,000 characters.", "Only stop words: …").
    notes: tuple[str, ...] = ()

    @property
    def positive(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if not c.negated)

    @property
    def is_empty(self) -> bool:
        """Nothing to search for: no positive clause (a query of only exclusions is empty)."""
        return not self.positive

    def highlight_words(self) -> tuple[str, ...]:
        """The folded words of the positive clauses, for highlighting snippets."""
        return tuple(dict.fromkeys(w for c in self.positive for t in c.any_of for w in t.words))


# How text becomes words, here and in the index: runs of what SQLite's unicode61 tokenizer
# calls token characters (letters, digits, private use) after folding; everything else
# separates words. The index splits `don't` into "don" and "t" (unicode61 and PostgreSQL's
# parser alike), so a run of words joined by an apostrophe, a hyphen, a full stop or an
# underscore is searched as the phrase of its parts: `don't` and `don’t` both find the
# text "don't" (or "don’t") and nothing else that merely has "don" and "t" apart.

# Lucene's English stop set: words so common that searching for them narrows nothing.
# Dropped from plain words, kept inside phrases (where their place still matters).
STOP_WORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
        "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
        "they", "this", "to", "was", "will", "with",
    }
)  # fmt: skip
# What is left of a contraction once the apostrophe splits it ("it's", "we'll", "i'd"):
# a run made only of these and stop words searches for nothing.
CONTRACTION_ENDINGS = frozenset({"s", "t", "d", "ll", "m", "re", "ve"})
MAX_PHRASE_WORDS = 32
FIELD_PREFIXES = {f"{name}:": name for name in FIELDS}

# Quote marks as typed on any keyboard; fold() makes them the straight ones.
_QUOTE_MARKS = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"'}
)
DOUBLE_QUOTES = frozenset('"“”„‟″＂')
# Punctuation that joins words into one ("don't", "Jean-Luc", "U.S.A", "alice_w"): a run
# joined by these is searched as a phrase of its words. Any other punctuation separates.
WORD_JOINERS = frozenset("'-._\u2010\u2011")
# U+2212 as well: some keyboards type a real minus sign for "-".
MINUS_SIGNS = frozenset("-\u2212")

NOTE_CUT = f"The query was cut to {MAX_QUERY_CHARS:,} characters."
NOTE_TERMS = f"Only the first {MAX_TERMS} words and phrases were searched for."
NOTE_PHRASE = f"A phrase was cut to its first {MAX_PHRASE_WORDS} words."
NOTE_NOTHING = "Only common words or punctuation: add a word to search for."
NOTE_ONLY_EXCLUDED = "Only words to leave out: add a word to search for."


def _fold_once(text: str) -> str:
    # lower(), not casefold(): casefold's extra mappings (ß -> ss, final ς -> σ) are not
    # made by the indexes' tokenizers, so a folded "straße" would never find "Straße".
    decomposed = unicodedata.normalize("NFKD", text.translate(_QUOTE_MARKS).lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_QUOTE_MARKS)


def fold(text: str) -> str:
    """Case, accents and quote marks folded, as the index folds the text it stores."""
    # Lowering can produce what decomposes further ("İ" -> "i" + a combining dot) and
    # decomposing what lowers further; a second pass settles every case known, the loop
    # any other.
    for _ in range(4):
        folded = _fold_once(text)
        if folded == text:
            break
        text = folded
    return text


def _is_word_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LN" or category == "Co"


def words_of(text: str) -> list[str]:
    """The folded words of `text`, split as the index splits it."""
    return [word for group in word_groups(text) for word in group]


def word_groups(text: str) -> list[list[str]]:
    """The folded words of `text`, grouped where they were joined inside a word.

    `don't`, `Jean-Luc`, `U.S.A` and `alice_w` are one group of several words each;
    `dragon^2` and `foo,bar` are two groups of one.
    """
    groups: list[list[str]] = []
    group: list[str] = []
    word: list[str] = []
    for ch in fold(text):
        if _is_word_char(ch):
            word.append(ch)
        elif ch in WORD_JOINERS and word:
            # Joins only what is on both sides: after "x-" a space or the end ends the group.
            group.append("".join(word))
            word = []
        else:
            if word:
                group.append("".join(word))
                word = []
            if group:
                groups.append(group)
                group = []
    if word:
        group.append("".join(word))
    if group:
        groups.append(group)
    return groups


@dataclass(frozen=True)
class _Token:
    """One thing the reader typed: a run of text, a quoted phrase, or OR."""

    text: str
    quoted: bool = False
    negated: bool = False
    field: str | None = None
    is_or: bool = False


def _lex(text: str) -> list[_Token]:
    """Split on white space and double quotes; read `-`, `field:` and `OR` at a run's start.

    `-` must touch what it excludes (`well-known` excludes nothing); a field prefix also
    reaches across spaces (`title: lantern`), since that is an easy way to type it.
    """
    tokens: list[_Token] = []
    negated, scope = False, None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            negated = False
            i += 1
            continue
        if ch in DOUBLE_QUOTES:
            # An unbalanced quote runs to the end of the query.
            end = i + 1
            while end < n and text[end] not in DOUBLE_QUOTES:
                end += 1
            tokens.append(_Token(text[i + 1 : end], quoted=True, negated=negated, field=scope))
            negated, scope = False, None
            i = end + 1
            continue
        end = i
        while end < n and not text[end].isspace() and text[end] not in DOUBLE_QUOTES:
            end += 1
        run, i = text[i:end], end
        if run == "OR" and not negated and scope is None:
            tokens.append(_Token("", is_or=True))
            continue
        rest = run.lstrip("".join(MINUS_SIGNS))
        negated = negated or len(rest) < len(run)
        colon = rest.find(":")
        if colon > 0 and fold(rest[: colon + 1]) in FIELD_PREFIXES:
            scope = FIELD_PREFIXES[fold(rest[: colon + 1])]
            rest = rest[colon + 1 :]
        if rest:
            tokens.append(_Token(rest, negated=negated, field=scope))
            negated, scope = False, None
        elif scope is None and not (i < n and text[i] in DOUBLE_QUOTES):
            # A lone "-": nothing to exclude.
            negated = False
    return tokens


def _only_common(words: list[str]) -> bool:
    if len(words) == 1:
        return words[0] in STOP_WORDS
    return all(word in STOP_WORDS or word in CONTRACTION_ENDINGS for word in words)


@dataclass
class _Parts:
    """What `parse` builds, item by item: terms, ORs, and gaps where a word was dropped."""

    items: list[tuple[Term, bool] | str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def add(self, token: _Token) -> None:
        if token.is_or:
            self.items.append("OR")
            return
        groups = [words_of(token.text)] if token.quoted else word_groups(token.text)
        if not any(groups):
            # Only punctuation, or an empty pair of quotes.
            self.items.append("GAP")
        for words in groups:
            if not words:
                continue
            if not token.quoted and _only_common(words):
                self.items.append("GAP")
                continue
            if len(words) > MAX_PHRASE_WORDS:
                words = words[:MAX_PHRASE_WORDS]
                self.note(NOTE_PHRASE)
            self.items.append((Term(tuple(words), token.field), token.negated))

    def clauses(self) -> tuple[Clause, ...]:
        """OR joins the positive terms right beside it; anywhere else it means nothing."""
        clauses: list[Clause] = []
        group: list[Term] = []
        joining = False

        def close() -> None:
            if group:
                clauses.append(Clause(tuple(dict.fromkeys(group))))
                group.clear()

        for item in self.items:
            if item == "OR":
                joining = bool(group)
                continue
            if item == "GAP":
                close()
            elif isinstance(item, tuple):
                term, negated = item
                if negated:
                    close()
                    clauses.append(Clause((term,), negated=True))
                elif joining:
                    group.append(term)
                else:
                    close()
                    group.append(term)
            joining = False
        close()
        # Counted once repeats are gone: a repeated word costs nothing.
        kept: list[Clause] = []
        terms = 0
        for clause in dict.fromkeys(clauses):
            terms += len(clause.any_of)
            if terms > MAX_TERMS:
                self.note(NOTE_TERMS)
                break
            kept.append(clause)
        return tuple(kept)


def parse(text: str) -> Query:
    """Never raises, whatever `text` is."""
    if not isinstance(text, str):
        return Query(clauses=())
    parts = _Parts()
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        parts.note(NOTE_CUT)
    for token in _lex(text):
        parts.add(token)
    query = Query(clauses=parts.clauses())
    if text.strip() and not query.clauses:
        parts.note(NOTE_NOTHING)
    elif query.is_empty and query.clauses:
        parts.note(NOTE_ONLY_EXCLUDED)
    return Query(clauses=query.clauses, notes=tuple(parts.notes))
