"""Word counts the way readers of AO3-style archives expect them.

The rule mirrors AO3's counter (facts only; the code is our own):

1. Count only the visible text: markup stripped, entities decoded, script-like
   content dropped. Block boundaries separate words; inline tags do not, so
   "wo<em>rd</em>" is one word (AO3 counts per text node and would say two).
2. "--" is a dash between two words; apostrophes (' ‘ ’) and hyphens are
   deleted first, so "don't" and "one-sided" are one word each. We also treat
   the Unicode hyphens U+2010/U+2011 that way; AO3 only knows "-".
3. Scripts written without spaces (Han, Hiragana, Katakana, Thai) count one
   word per character; anything else counts one word per run of word
   characters (letters, combining marks, decimal digits, connector
   punctuation), so "3.14" is two words, as on AO3.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import cache
from typing import Final

from chapbook.lib.sanitize import html_to_text

__all__ = ["count_words", "count_words_in_text"]

_DOUBLE_HYPHEN: Final = "--"
_EM_DASH: Final = "\u2014"
_WORD_JOINERS: Final = re.compile("['\u2018\u2019\\-\u2010\u2011]")

# Code point ranges of the scripts counted per character (from Unicode's
# Scripts.txt, widened to whole blocks; only word characters in them count, so
# punctuation such as the katakana middle dot never becomes a "word").
_PER_CHARACTER_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x0E00, 0x0E7F),  # Thai
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3005, 0x3005),  # 々 ideographic iteration mark
    (0x3007, 0x3007),  # 〇 ideographic zero
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3038, 0x303B),
    (0x3041, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x32D0, 0x32FE),  # circled Katakana
    (0x3300, 0x3357),  # squared Katakana words
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x1AFF0, 0x1B16F),  # Kana supplement and extensions
    (0x20000, 0x3FFFF),  # CJK extensions B onwards (planes 2 and 3)
)

_WORD_CATEGORIES: Final = frozenset({"Nd", "Pc"})  # plus every L* and M*


def _is_word_character(char: str) -> bool:
    # Python's \w would miss combining marks and split Devanagari or decomposed
    # accents mid-word, so build the class from Unicode categories instead.
    category = unicodedata.category(char)
    return category[0] in "LM" or category in _WORD_CATEGORIES


_RANGE_STARTS: Final = tuple(start for start, _ in _PER_CHARACTER_RANGES)


def _is_per_character(code: int) -> bool:
    index = bisect_right(_RANGE_STARTS, code) - 1
    return index >= 0 and code <= _PER_CHARACTER_RANGES[index][1]


def _as_class(codes: list[int]) -> str:
    """A regex character class body for sorted code points, merged into ranges."""
    parts: list[str] = []
    start = previous = codes[0]
    for code in [*codes[1:], -1]:
        if code == previous + 1:
            previous = code
            continue
        first, last = re.escape(chr(start)), re.escape(chr(previous))
        parts.append(first if start == previous else f"{first}-{last}")
        start = previous = code
    return "".join(parts)


_LAST_SCANNED: Final = 0x3FFFF


@cache
def _token_pattern() -> re.Pattern[str]:
    # Built on first use (a few hundred ms over every code point) rather than at
    # import, so importing the sanitizer stack stays cheap for every process.
    # Planes 4 and up hold no letters or marks that prose uses (only tags and variation
    # selectors), and skipping them makes this four times cheaper.
    words = [code for code in range(_LAST_SCANNED + 1) if _is_word_character(chr(code))]
    per_character = [code for code in words if _is_per_character(code)]
    word = [code for code in words if not _is_per_character(code)]
    return re.compile(f"[{_as_class(per_character)}]|[{_as_class(word)}]+")


def count_words_in_text(text: str) -> int:
    """Word count of plain text (no markup handling)."""
    joined = _WORD_JOINERS.sub("", text.replace(_DOUBLE_HYPHEN, _EM_DASH))
    return sum(1 for _ in _token_pattern().finditer(joined))


def count_words(html: str) -> int:
    """Word count of an HTML fragment, counting its visible text only."""
    if not html:
        return 0
    return count_words_in_text(html_to_text(html, decorate=False))
