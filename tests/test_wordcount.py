"""Word counts follow AO3's rules, counted on visible text only. Pure tests."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapbook.lib.sanitize import WORK_TAGS, sanitize_work_html
from chapbook.lib.wordcount import count_words, count_words_in_text


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("", 0),
        ("The quick brown fox", 4),
        ("  spaced   out\n\twords  ", 3),
        ("<p>Don't stop—now</p>", 3),
    ],
)
def test_it_counts_plain_words(html: str, expected: int) -> None:
    assert count_words(html) == expected


def test_it_does_not_count_markup() -> None:
    html = '<p class="x" title="many words in a title"><a href="https://example.org/a-b-c">one</a> <em>two</em></p>'
    assert count_words(html) == 2


def test_it_counts_headings_and_every_block() -> None:
    assert count_words("<h1>Chapter One</h1><p>It began.</p><ul><li>first</li><li>second</li></ul>") == 6


def test_it_separates_words_at_block_boundaries_but_not_inline_tags() -> None:
    assert count_words("<p>end</p><p>start</p>") == 2
    assert count_words("line<br>break") == 2
    assert count_words("wo<em>rd</em>") == 1


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("Tom&nbsp;Jerry", 2),
        ("fish &amp; chips", 2),
        ("&lt;three&gt;", 1),
        ("caf&eacute; au lait", 3),
    ],
)
def test_it_decodes_entities_and_treats_nbsp_as_space(html: str, expected: int) -> None:
    assert count_words(html) == expected


@pytest.mark.parametrize(
    "word", ["don't", "it’s", "‘tis", "one-sided", "mother-in-law", "rock'n'roll", "well‐known"]
)
def test_it_counts_contractions_and_hyphenated_words_as_one(word: str) -> None:
    assert count_words(word) == 1


@pytest.mark.parametrize("text", ["stop—now", "stop--now", "stop – now", "stop - now", "stop...now", "stop/now"])
def test_it_counts_words_joined_by_dashes_or_punctuation_separately(text: str) -> None:
    assert count_words(text) == 2


@pytest.mark.parametrize(("text", "expected"), [("42", 1), ("1984 was a year", 4), ("3.14", 2), ("1,000,000", 3)])
def test_it_counts_digit_runs_as_words_like_ao3(text: str, expected: int) -> None:
    assert count_words(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我爱你", 3),  # Han: one word per character
        ("ひらがな", 4),
        ("カタカナ", 4),
        ("สวัสดี", 6),  # Thai, character by character as on AO3
        ("Love 我爱你 you", 5),  # mixed scripts: each counted its own way
        ("東京、大阪。", 4),  # CJK punctuation is not a word
    ],
)
def test_it_counts_each_cjk_or_thai_character_as_a_word(text: str, expected: int) -> None:
    assert count_words(text) == expected


@pytest.mark.parametrize("text", ["naïve café", "nai\u0308ve cafe\u0301", "हिन्दी भाषा", "Привет мир"])
def test_it_keeps_accents_and_combining_marks_inside_words(text: str) -> None:
    assert count_words(text) == 2


def test_it_ignores_script_and_style_content() -> None:
    assert count_words("<style>p { color: red }</style><p>visible</p><script>var hidden = 1</script>") == 1


def test_it_ignores_punctuation_and_symbols_on_their_own() -> None:
    assert count_words("* * * — ... !!! ♥") == 0


def test_count_words_in_text_does_not_parse_markup() -> None:
    assert count_words_in_text("a <b> c") == 3


_WRAPPERS = sorted(WORK_TAGS - {"br", "hr", "img", "col"})
_WORD = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=10)
_WRAPPED_WORD = st.tuples(_WORD, st.lists(st.sampled_from(_WRAPPERS), max_size=3)).map(
    lambda parts: "".join(f"<{tag}>" for tag in parts[1]) + parts[0] + "".join(f"</{tag}>" for tag in reversed(parts[1]))
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_WRAPPED_WORD, max_size=30), st.sampled_from([" ", "\n", "&nbsp;", " \n\t "]))
def test_wrapping_words_in_tags_never_changes_their_count(words: list[str], separator: str) -> None:
    html = separator.join(words)
    assert count_words(html) == len(words)
    assert count_words(sanitize_work_html(html).html) == len(words)
