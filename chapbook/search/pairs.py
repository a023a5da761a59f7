"""Word pairs: a common word and the word after it, as one index token (SQLite).

A phrase of common words is the costly search: "for a long moment" must be checked
position by position in every work that has "for", "a", "long" and "moment", which is
nearly all of them, and "a" has a position list as long as a twentieth of all the text.
A pair is far rarer than the common word in it ("for a" is a tenth as frequent as "a").

So in the text SQLite indexes (`grams`), each common word (COMMON_WORDS) is replaced by
the pair of it and the word after it, at the same position: "for a long moment" is
indexed as `for+a+ a+long+ long moment`. A phrase is matched as the same stream, made from
its words the same way (one ending in a common word after a rarer one ends in a prefix,
`… t+*`; after another common word, the pair before it says it follows), so it is exact,
and no common word's position list is read. The common words themselves go
in a column of their own, for a search of one of them alone. Only common words are
paired: pairing every word made indexing six times slower (a new term for nearly every
word) for phrases of rarer words, which were fast already.

The words are the index's own tokens: each run of text between spaces and ASCII
punctuation is passed once through the tokenizer (`stem`), and remembered, so "Reminded"
and "reminded," give the pair that "remind" does, accents and curly quotes folded as
everywhere else. The same code makes the index's streams and the query's phrases, so the
two agree by construction.

PostgreSQL's GIN indexes do not use pairs: with every pair of a work in its GIN-indexed
`words`, a full rebuild at 100,000 works had run 21 minutes, 12 of them building that GIN
index, and was not done (it takes 5 without); see the README. Its phrase index
(`postings`) keeps the places of these same tokens (`paired`), made the same way.
"""

from __future__ import annotations

import re
import threading
from typing import Callable, Iterator, Sequence

# Between runs: whitespace and ASCII punctuation, which the tokenizer treats as
# separators (whatever else a run holds, the tokenizer splits or keeps).
RUN = re.compile(r"[^\s!-/:-@\[-`{-~]+")
# The same separators as bytes for `bytes.translate` (UTF-8 never holds an ASCII byte
# inside another character); `str.split` splits at the whitespace `\s` matches.
_SEPARATORS = bytes.maketrans(b"".join(bytes([c]) for c in range(33, 127) if not chr(c).isalnum()), b" " * 32)
# Joins the two words of a pair, and ends it: a private-use character, which FTS5 counts
# as part of a token and no text a reader types holds (queries drop unprintable
# characters). Ended so, a pair is not stemmed again by FTS5's porter tokenizer, which
# would take suffixes off its second word as if the pair were one English word, and make
# "her+the" and "her+thing" both "her+th".
JOIN = "\ue000"
# Between two chapters of a field, or two of its tags or creators: a token of its own,
# which no query can make, so no phrase runs across ("for a" ending one chapter and
# "long moment" opening the next is not "for a long moment").
BOUNDARY = "\ue001"
# Words so frequent that their position lists are the cost of a phrase (a third of the
# words of English prose): the search parser's stop words and contraction endings, and
# the pronouns, auxiliaries and other function words of fiction. As the tokenizer makes
# them (stems) when first used. Changing the list needs `chapbook reindex --search-only`.
COMMON_WORDS = (
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with s t d ll m re ve he she her his him hers i me my mine you your yours we us our "
    "ours them its said had has have were been being do did does so from up out down over what when who which "
    "would could should can all one some each just about than too very because while through toward across "
    "against under behind before after only didn couldn wouldn won don doesn isn wasn weren"
).split()

Stemmer = Callable[[Sequence[str]], list[tuple[str, ...]]]


class Pairs:
    """Tokens and pairs of texts, with each run's tokens remembered.

    One instance per thread (see `for_thread`): the stemmer uses the thread's database
    connection. The memory is bounded: past MAX_RUNS it starts again.
    """

    MAX_RUNS = 2_000_000

    def __init__(self, stem: Stemmer) -> None:
        self._stem = stem
        self._known: dict[str, str] = {}
        self._common: frozenset[str] | None = None

    @property
    def common(self) -> frozenset[str]:
        """COMMON_WORDS as this tokenizer makes them."""
        if self._common is None:
            self._common = frozenset(token for tokens in self._stem(COMMON_WORDS) for token in tokens)
        return self._common

    def _runs(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text's runs, with every run not yet known stemmed (one call)."""
        runs = self.split(texts)
        known = self._known
        new: set[str] = set()
        for found in runs:
            new.update(set(found).difference(known))
        if new:
            if len(known) + len(new) > self.MAX_RUNS:
                new = set().union(*runs)  # `learn` forgets the others: all of these are learnt again
            self.learn(sorted(new))
        return runs

    @staticmethod
    def split(texts: Sequence[str]) -> list[list[str]]:
        """Each text's runs, as written: the tokenizers fold case themselves, and a run
        is remembered as it is (lower-casing first took a fifth of the time)."""
        # A JOIN typed into a text or a query is a space: only pairs hold one.
        # RUN.findall, as bytes translated and split: three times faster.
        return [text.replace(JOIN, " ").encode().translate(_SEPARATORS).decode().split() for text in texts]

    def learn(self, runs: Sequence[str]) -> list[str]:
        """Stem these runs (one call) and remember them; each run's tokens, space-separated."""
        known = self._known
        if len(known) + len(runs) > self.MAX_RUNS:
            known.clear()
        made = [" ".join(tokens) for tokens in self._stem(runs)]
        known.update(zip(runs, made))
        return made

    def _tokens(self, runs: list[str]) -> list[str]:
        return " ".join(map(self._known.__getitem__, runs)).split()

    def tokens(self, text: str) -> list[str]:
        return self._tokens(self._runs([text])[0])

    def grams(self, fields: Sequence[Sequence[str]]) -> tuple[list[str], str]:
        """Each field as SQLite indexes it, and the common words of them all, for the
        column of common words.

        A field is its parts (chapters, tags): each part's common words are paired with
        the next word of that part, and the parts are joined by BOUNDARY.
        """
        common = self.common
        made = self._made([part for field in fields for part in field])
        streams = []
        found: list[str] = []
        for field in fields:
            stream = []
            for _ in field:
                tokens, made_pairs = next(made)
                stream.append(" ".join(made_pairs))
                found += [t for t in tokens if t in common]
            streams.append(f" {BOUNDARY} ".join(stream))
        return streams, " ".join(found)

    def paired(self, parts: Sequence[str]) -> list[list[str]]:
        """Each part's tokens with its common words paired, one token a word, as the
        PostgreSQL phrase index (`postings`) keeps them."""
        return [made_pairs for _, made_pairs in self._made(parts)]

    def _made(self, parts: Sequence[str]) -> Iterator[tuple[list[str], list[str]]]:
        """Each part's tokens, and the same with its common words paired."""
        common = self.common
        for runs in self._runs(parts):
            tokens = self._tokens(runs)
            # `_pair` written out: its call for each common word was 8% of the time.
            made_pairs = [t + JOIN + n + JOIN if t in common else t for t, n in zip(tokens, tokens[1:])]
            if tokens:
                last = tokens[-1]
                made_pairs.append(last + JOIN if last in common else last)
            yield tokens, made_pairs

    def phrase(self, text: str) -> tuple[list[str], bool] | None:
        """The tokens a phrase is matched as in SQLite's streams, and whether the last is
        a prefix (a common word last after a rarer one: its pair depends on the word
        after the phrase). None for a text with no words."""
        tokens = self.tokens(text)
        if not tokens:
            return None
        common = self.common
        stream = [_pair(t, n) if t in common else t for t, n in zip(tokens, tokens[1:])]
        last = tokens[-1]
        if last not in common:
            return [*stream, last], False
        if len(tokens) > 1 and tokens[-2] in common:
            # The pair before it ("of+the") already says the last word follows; its own
            # prefix (`the+*`, every pair of "the") would only add a read of them all:
            # 32 such phrases ORed took 37 s at 100,000 works.
            return stream, False
        return [*stream, last + JOIN], True


def _pair(word: str, after: str) -> str:
    """A common word and the word after it as one token; the word alone, joined to
    nothing, at the end of its part (the prefix of all its pairs)."""
    return word + JOIN + after + JOIN if after else word + JOIN


_local = threading.local()


def for_thread(stem: Stemmer) -> Pairs:
    """This thread's Pairs (its stemmer runs on the thread's own database connection)."""
    pairs: Pairs | None = getattr(_local, "pairs", None)
    if pairs is None or pairs._stem is not stem:
        pairs = _local.pairs = Pairs(stem)
    return pairs
