"""The search language: what each thing a reader may type means, and that nothing they type is an error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapbook.lib.searchquery import (
    FIELDS,
    MAX_PHRASE_WORDS,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    NOTE_CUT,
    NOTE_NOTHING,
    NOTE_ONLY_EXCLUDED,
    NOTE_TERMS,
    Clause,
    Query,
    Term,
    fold,
    parse,
    words_of,
)


def read(text: str) -> list[tuple[str, ...]]:
    """The query as short strings, one per clause: "harbour", "-angst", "title:lamp|title:lantern",
    '"silver harbour"' for a phrase."""

    def term(t: Term) -> str:
        words = " ".join(t.words)
        shown = f'"{words}"' if len(t.words) > 1 else words
        return f"{t.field}:{shown}" if t.field else shown

    return [tuple(("-" if c.negated else "") + term(t) for t in c.any_of) for c in parse(text).clauses]


def plain(*words: str) -> Clause:
    return Clause((Term(words),))


# ---------------------------------------------------------------- folding


@pytest.mark.parametrize(
    "typed, folded",
    [
        ("Café", "cafe"),
        ("NAÏVE Résumé", "naive resume"),
        ("Ångström", "angstrom"),
        ("STRASSE Straße", "strasse straße"),  # as the indexes' tokenizers lower it
        ("İstanbul", "istanbul"),
        ("ﬁsh", "fish"),  # a ligature
        ("ＦＵＬＬ", "full"),  # full-width letters
        ("don’t", "don't"),
        ("‘single’ ‚low‛ 2′", "'single' 'low' 2'"),
        ("“double” „low‟ 3″", '"double" "low" 3"'),
    ],
)
def test_fold_lowers_case_strips_accents_and_straightens_quotes(typed: str, folded: str) -> None:
    assert fold(typed) == folded


def test_fold_leaves_scripts_without_case_or_accents_alone() -> None:
    assert fold("日本語のテキスト") == "日本語のテキスト"
    assert fold("ελληνικά") == "ελληνικα"


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


# ---------------------------------------------------------------- each feature


def test_every_word_must_match() -> None:
    assert parse("Dragon harbour").clauses == (plain("dragon"), plain("harbour"))


def test_a_quoted_phrase_is_one_term_of_its_words_in_order() -> None:
    assert read('dragon "Silver  Harbour"') == [("dragon",), ('"silver harbour"',)]


def test_curly_quotes_make_a_phrase_too() -> None:
    assert read("“silver harbour”") == read('"silver harbour"') == [('"silver harbour"',)]


def test_an_unclosed_quote_is_a_phrase_to_the_end() -> None:
    assert read('dragon "silver harbour') == [("dragon",), ('"silver harbour"',)]


def test_minus_excludes_a_word_or_a_phrase() -> None:
    assert read('dragon -angst -"major character death"') == [
        ("dragon",),
        ("-angst",),
        ('-"major character death"',),
    ]


def test_minus_must_touch_what_it_excludes() -> None:
    assert read("dragon - angst") == [("dragon",), ("angst",)]


def test_a_hyphen_inside_a_word_joins_rather_than_excludes() -> None:
    assert read("well-known Jean-Luc") == [('"well known"',), ('"jean luc"',)]


def test_or_between_two_terms_makes_either_enough() -> None:
    assert read("dragon OR wyvern harbour") == [("dragon", "wyvern"), ("harbour",)]
    assert read("a1 OR b2 OR c3") == [("a1", "b2", "c3")]
    assert read('dragon OR "sea serpent"') == [("dragon", '"sea serpent"')]


def test_only_a_capital_or_is_an_operator() -> None:
    # Lowercase "or" is a common word like "and", and dropped.
    assert read("dragon or wyvern") == [("dragon",), ("wyvern",)]


@pytest.mark.parametrize("text", ["OR dragon", "dragon OR", "OR OR dragon OR OR", "dragon OR OR"])
def test_or_with_nothing_on_one_side_is_ignored(text: str) -> None:
    assert read(text) == [("dragon",)]


def test_or_does_not_join_excluded_terms() -> None:
    assert read("dragon OR -angst") == [("dragon",), ("-angst",)]
    assert read("-angst OR dragon") == [("-angst",), ("dragon",)]


def test_or_does_not_reach_over_a_dropped_word() -> None:
    assert read("cat the OR dog") == [("cat",), ("dog",)]


@pytest.mark.parametrize("name", FIELDS)
def test_a_field_prefix_restricts_a_term_to_that_field(name: str) -> None:
    assert read(f"{name}:lantern") == [(f"{name}:lantern",)]


def test_a_field_prefix_applies_to_a_phrase_and_may_be_excluded_or_joined() -> None:
    assert read('title:"silver harbour" -tag:angst TITLE:lamp OR title:lantern') == [
        ('title:"silver harbour"',),
        ("-tag:angst",),
        ("title:lamp", "title:lantern"),
    ]


def test_a_field_prefix_reaches_across_a_space() -> None:
    assert read("title: lantern") == [("title:lantern",)]


def test_an_unknown_prefix_is_just_two_words() -> None:
    assert read("colour:blue") == [("colour",), ("blue",)]


def test_a_prefix_with_nothing_after_it_is_ignored() -> None:
    assert read("dragon title:") == [("dragon",)]


def test_common_words_are_dropped_outside_phrases_and_kept_inside() -> None:
    assert read("the dragon of the harbour") == [("dragon",), ("harbour",)]
    assert read('"the dragon of the harbour"') == [('"the dragon of the harbour"',)]


def test_repeated_terms_are_searched_once() -> None:
    assert read("dragon Dragon DRAGON") == [("dragon",)]


# ---------------------------------------------------------------- apostrophes


def test_an_apostrophe_joins_a_word_into_the_phrase_the_index_sees() -> None:
    # The index splits "don't" into "don" and "t", as SQLite's unicode61 and PostgreSQL do.
    assert read("don't") == [('"don t"',)]


@pytest.mark.parametrize("typed", ["don’t", "don‘t", "don‛t", "don′t", "DON'T"])
def test_every_apostrophe_is_the_same_apostrophe(typed: str) -> None:
    assert parse(typed) == parse("don't")


def test_words_split_the_way_the_index_splits_them() -> None:
    assert words_of("Don’t go—the café's “open”!") == ["don", "t", "go", "the", "cafe", "s", "open"]


def test_a_contraction_of_common_words_is_a_common_word() -> None:
    assert read("it's dragon") == [("dragon",)]
    assert read("dragon's") == [('"dragon s"',)]


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "text, expected",
    [
        ("dragon*", [("dragon",)]),
        ("dragon^2", [("dragon",), ("2",)]),
        ("(dragon OR wyvern)", [("dragon", "wyvern")]),
        ("NEAR(dragon harbour)", [("near",), ("dragon",), ("harbour",)]),
        ("dragon AND harbour", [("dragon",), ("harbour",)]),
        ("col:dragon", [("col",), ("dragon",)]),
        ("{title}: dragon", [("title",), ("dragon",)]),
        ("dragon\x00harbour", [("dragon",), ("harbour",)]),
        ("'; DROP TABLE works; --", [("drop",), ("table",), ("works",)]),
    ],
)
def test_search_syntax_characters_are_only_punctuation(text: str, expected: list[tuple[str, ...]]) -> None:
    assert read(text) == expected


@pytest.mark.parametrize("text", ["the of and", "***", '""', "-", "OR", "?! ... ---", "it's", "(", "title:"])
def test_a_query_with_nothing_to_search_for_is_empty_and_says_why(text: str) -> None:
    query = parse(text)

    assert query.is_empty
    assert query.notes == (NOTE_NOTHING,)


def test_a_query_of_only_exclusions_is_empty_and_says_why() -> None:
    query = parse("-angst -tag:fluff")

    assert query.is_empty
    assert query.notes == (NOTE_ONLY_EXCLUDED,)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_a_blank_query_is_empty_without_a_note(text: str) -> None:
    assert parse(text) == Query(clauses=())


def test_a_long_query_is_cut_and_says_so() -> None:
    query = parse("dragon " * 2000)

    assert query.clauses == (plain("dragon"),)
    assert query.notes == (NOTE_CUT,)


def test_words_past_the_limit_are_dropped_and_it_says_so() -> None:
    query = parse(" ".join(f"word{n}" for n in range(MAX_TERMS + 5)))

    assert len(query.clauses) == MAX_TERMS
    assert query.clauses[-1] == plain(f"word{MAX_TERMS - 1}")
    assert query.notes == (NOTE_TERMS,)


def test_a_phrase_past_the_limit_is_cut() -> None:
    query = parse('"' + " ".join(f"w{n}" for n in range(100)) + '"')

    [clause] = query.clauses
    assert len(clause.any_of[0].words) == MAX_PHRASE_WORDS


def test_highlight_words_are_the_positive_terms_words() -> None:
    assert parse('Dragon "silver harbour" -angst title:lamp').highlight_words() == (
        "dragon",
        "silver",
        "harbour",
        "lamp",
    )


# ---------------------------------------------------------------- properties

OPERATORS = ['"', "“", "”", "-", "OR", "or", " ", "*", "^", "(", ")", ":", "NEAR", "AND", "NOT", "'", "’",
             "title:", "-tag:", "creator:", "the", "a", "café", "don't", "\x00", "\\", "{", "}", "+", "~"]  # fmt: skip
mixes = st.lists(st.one_of(st.sampled_from(OPERATORS), st.text(max_size=8)), max_size=60).map("".join)


def check_limits(query: Query) -> None:
    terms = [term for clause in query.clauses for term in clause.any_of]
    assert len(terms) <= MAX_TERMS
    assert all(0 < len(term.words) <= MAX_PHRASE_WORDS for term in terms)
    assert all(term.field in (None, *FIELDS) for term in terms)
    assert all(word and word == fold(word) for term in terms for word in term.words)
    assert all(clause.any_of for clause in query.clauses)
    assert all(len(clause.any_of) == 1 for clause in query.clauses if clause.negated)


@given(st.text(max_size=3000))
def test_any_text_parses_within_the_limits(text: str) -> None:
    check_limits(parse(text))


@settings(max_examples=300)
@given(mixes)
def test_any_mix_of_operators_parses_within_the_limits(text: str) -> None:
    query = parse(text)

    check_limits(query)
    if text.strip() and not query.clauses:
        assert query.notes


@given(mixes)
def test_curly_and_straight_quotes_parse_the_same(text: str) -> None:
    straight = text.replace("“", '"').replace("”", '"').replace("’", "'")
    assert parse(text) == parse(straight)


# Generating 1,000 random characters is slow; repeating a random mix reaches the limit at once.
overlong = st.tuples(mixes, st.text(min_size=1, max_size=20)).map(lambda pair: (pair[0] + pair[1]) * (MAX_QUERY_CHARS + 1))


@given(overlong)
def test_any_overlong_text_is_cut_and_says_so(text: str) -> None:
    query = parse(text)

    check_limits(query)
    assert NOTE_CUT in query.notes
