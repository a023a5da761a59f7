"""The plain-text/HTML import parser: pure functions, no Django, no database."""

from __future__ import annotations

import importlib.util
import random
import re
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chapbook.lib.textimport import (
    MSG_UNREADABLE,
    ImportRejected,
    ParsedWork,
    decode_bytes,
    parse_file,
    parse_html,
    parse_text,
)

CORPUS = Path(__file__).resolve().parent / "importer_corpus"
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _load_generator()


def load(name: str) -> ParsedWork:
    return parse_file(name, (CORPUS / name).read_bytes())


def all_paragraphs(work: ParsedWork) -> list[str]:
    return [paragraph for chapter in work.chapters for paragraph in chapter.paragraphs]


def story_tokens(work: ParsedWork) -> list[str]:
    return [token for paragraph in all_paragraphs(work) for token in paragraph.split()]


def test_committed_corpus_matches_its_generator() -> None:
    for name, data in GENERATOR.corpus().items():
        assert (CORPUS / name).read_bytes() == data, f"{name} is stale: rerun make_corpus.py"


# --------------------------------------------------------------------------- #
# Encodings and line ends
# --------------------------------------------------------------------------- #

CAFE_FILES = ["utf8.txt", "utf8_bom.txt", "utf16le_bom.txt", "utf16be_bom.txt", "cp1252.txt"]


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("utf8.txt", "utf-8"),
        ("utf8_bom.txt", "utf-8-sig"),
        ("utf16le_bom.txt", "utf-16"),
        ("utf16be_bom.txt", "utf-16"),
        ("cp1252.txt", "cp1252"),
        ("crlf.txt", "utf-8"),
        ("cr_only.txt", "utf-8"),
    ],
)
def test_it_detects_the_encoding_of_each_file(name: str, encoding: str) -> None:
    assert load(name).encoding == encoding


@pytest.mark.parametrize("name", CAFE_FILES)
def test_it_decodes_accents_and_curly_quotes_without_mojibake(name: str) -> None:
    text = "\n".join(all_paragraphs(load(name)))
    for expected in ("café", "naïve", "Zoë", "NAÏVE", "It’s", "“One", "please,”", "joke—years", "coffee…"):
        assert expected in text
    for mojibake in ("Ã", "â€", "\ufffd", "\ufeff", "ï»¿"):
        assert mojibake not in text


def test_every_encoding_of_the_same_story_gives_the_same_paragraphs() -> None:
    results = {name: all_paragraphs(load(name)) for name in CAFE_FILES}
    assert len({tuple(paragraphs) for paragraphs in results.values()}) == 1
    assert len(results["utf8.txt"]) == 5


@pytest.mark.parametrize("data", [b"one\r\ntwo\r\n", b"one\rtwo\r", b"one\ntwo\n"])
def test_decode_bytes_normalises_every_line_end_to_lf(data: bytes) -> None:
    assert decode_bytes(data) == ("one\ntwo\n", "utf-8")


def test_crlf_and_cr_only_files_parse_exactly_like_lf() -> None:
    expected = parse_text(GENERATOR.LINE_ENDS_STORY)
    for name in ("crlf.txt", "cr_only.txt"):
        work = load(name)
        assert all_paragraphs(work) == all_paragraphs(expected)
        assert not any("\r" in paragraph for paragraph in all_paragraphs(work))


def test_decode_bytes_refuses_bytes_that_are_neither_utf8_nor_cp1252() -> None:
    # 0x81 and 0x8D are invalid UTF-8 starts and undefined in cp1252.
    with pytest.raises(ImportRejected):
        decode_bytes(b"The end\x81\x8d of it")


def test_decode_bytes_refuses_nul_bytes_without_a_utf16_bom() -> None:
    with pytest.raises(ImportRejected):
        decode_bytes("hello".encode("utf-16-le"))


def test_decode_bytes_reads_utf16_only_with_its_bom() -> None:
    assert decode_bytes("\ufeffhello".encode("utf-16-be")) == ("hello", "utf-16")


# --------------------------------------------------------------------------- #
# Paragraphs
# --------------------------------------------------------------------------- #


def test_it_splits_paragraphs_at_blank_lines() -> None:
    paragraphs = all_paragraphs(load("utf8.txt"))
    assert paragraphs[0].startswith("Zoë had worked")
    assert paragraphs[-1].endswith("the whole café turned around.")
    assert len(paragraphs) == 5


def test_it_makes_every_line_a_paragraph_when_there_are_no_blank_lines() -> None:
    expected = GENERATOR.SINGLE_NEWLINES_STORY.strip().split("\n")
    assert all_paragraphs(load("single_newlines.txt")) == expected


def test_it_rejoins_hard_wrapped_lines_into_paragraphs() -> None:
    assert all_paragraphs(load("hard_wrapped.txt")) == GENERATOR.HARD_WRAPPED_PARAGRAPHS


def test_it_restores_paragraphs_in_a_story_flattened_onto_one_line() -> None:
    raw = (CORPUS / "flattened.txt").read_text("utf-8")
    assert "\n" not in raw.strip() and len(raw.split()) >= 800
    work = load("flattened.txt")
    assert story_tokens(work) == raw.split()
    assert len(all_paragraphs(work)) >= 20


def test_it_restores_paragraphs_at_speaker_change() -> None:
    paragraphs = all_paragraphs(load("flattened.txt"))
    assert '"Did he?"' in paragraphs
    assert '"Probably."' in paragraphs
    assert '"I was seven. You were six. You cried because the light was too loud."' in paragraphs
    assert '"That won\'t mean anything to him," Teodor said, reading over her shoulder.' in paragraphs


def test_it_restores_a_paragraph_where_narration_resumes_after_dialogue() -> None:
    paragraphs = all_paragraphs(load("flattened.txt"))
    assert any(paragraph.startswith("She meant it as a joke") for paragraph in paragraphs)
    assert any(paragraph.startswith("The narrow window on the landing") for paragraph in paragraphs)


def test_it_restores_curly_quoted_dialogue_and_keeps_honorifics_intact() -> None:
    raw = (CORPUS / "flattened_curly.txt").read_text("utf-8")
    paragraphs = all_paragraphs(load("flattened_curly.txt"))
    assert story_tokens(load("flattened_curly.txt")) == raw.split()
    assert "“Then you’ll have to fill in a form about it.”" in paragraphs
    assert any(p.startswith("“Twenty-one minutes past,” Mr. Abernethy said slowly.") for p in paragraphs)


@pytest.mark.parametrize("name", ["flattened.txt", "flattened_curly.txt"])
def test_it_never_breaks_a_flattened_story_inside_a_quotation(name: str) -> None:
    for paragraph in all_paragraphs(load(name)):
        assert paragraph.count('"') % 2 == 0, paragraph
        assert paragraph.count("“") == paragraph.count("”"), paragraph


def test_it_keeps_a_capitalised_dialogue_tag_with_its_exclamation() -> None:
    filler = "The kettle sang on the stove while the rain came down. " * 12
    text = filler + '"Run!" Alice shouted. "The bridge is going!" ' + filler + '"Go," Bob said.'
    paragraphs = parse_text(text).chapters[0].paragraphs
    assert any(paragraph.startswith('"Run!" Alice shouted.') for paragraph in paragraphs)
    assert " ".join(paragraphs).split() == text.split()


def test_it_leaves_ordinary_length_lines_with_dialogue_alone() -> None:
    line = '"Hello," Alice said. She sat down. "Tea?" "Please," said Bob.'
    assert parse_text(line).chapters[0].paragraphs == [line]


# --------------------------------------------------------------------------- #
# End notes
# --------------------------------------------------------------------------- #


def test_notes_on_the_last_line_become_end_notes_and_leave_the_story() -> None:
    work = load("notes_last_line.txt")
    assert work.end_notes == "thanks for reading! This was for my sister, who still hates tomatoes."
    assert all_paragraphs(work)[-1] == "Mirela locked the greenhouse and walked home under the first stars."
    for paragraph in all_paragraphs(work):
        assert "Notes:" not in paragraph and "thanks for reading" not in paragraph


def test_end_notes_on_their_own_lines_are_cut_from_the_last_chapter() -> None:
    work = load("chapters.txt")
    assert work.end_notes == "I have always wanted to write about bridges. Thank you for reading!"
    assert work.chapters[-1].paragraphs[-1].startswith("On clear nights")


def test_an_author_note_marker_at_the_end_is_end_notes() -> None:
    work = load("prompt_plain.txt")
    assert work.end_notes.startswith("Written for the prompt")
    assert not any("A/N" in paragraph for paragraph in all_paragraphs(work))


def test_notes_at_the_end_of_a_flattened_story_become_end_notes() -> None:
    raw = (CORPUS / "flattened.txt").read_text("utf-8").strip()
    work = parse_text(raw + " Notes: written on a train, sorry for typos.")
    assert work.end_notes == "written on a train, sorry for typos."
    assert story_tokens(work) == raw.split()


def test_a_notes_label_inside_a_quotation_is_story_text() -> None:
    text = "She read the card. It said:\n\nHe said, “Fine. Notes: none.” She left."
    work = parse_text(text)
    assert work.end_notes == ""
    assert all_paragraphs(work)[-1] == "He said, “Fine. Notes: none.” She left."


def test_a_singular_note_line_in_the_last_chapter_is_story_text() -> None:
    text = "She found the card on the door.\nNote: back at five.\nShe waited until six."
    work = parse_text(text)
    assert work.end_notes == ""
    assert all_paragraphs(work) == text.split("\n")


def test_a_flattened_file_that_starts_with_a_header_keeps_all_its_words() -> None:
    raw = (CORPUS / "flattened.txt").read_text("utf-8").strip()
    text = "Title: Inventory " + raw
    work = parse_text(text)
    assert story_tokens(work) == text.split()


def test_a_lowercase_notes_word_is_story_text() -> None:
    text = "She kept a diary.\n\nIt was full. She kept notes: every bird, every boat."
    work = parse_text(text)
    assert work.end_notes == ""
    assert all_paragraphs(work)[-1].endswith("every bird, every boat.")


def test_a_leading_notes_line_is_beginning_notes_not_end_notes() -> None:
    work = load("header_block.txt")
    assert work.notes == "My first original piece in years. Be gentle!"
    assert work.end_notes == ""


# --------------------------------------------------------------------------- #
# Header block
# --------------------------------------------------------------------------- #


def test_header_block_fills_title_summary_notes_and_fields() -> None:
    work = load("header_block.txt")
    assert work.title == "The Cartographer's Daughter"
    assert work.summary == "Ines maps the coast. Hollis keeps moving it.\nNobody is pleased."
    assert work.header["fandom"] == ["Original Work"]
    assert work.header["rating"] == ["General Audiences"]
    assert work.header["warnings"] == ["No Archive Warnings Apply"]
    assert work.header["relationship"] == ["Ines Varga/Hollis Brand"]
    assert work.header["author"] == ["quillfeather"]
    assert all_paragraphs(work)[0].startswith("Ines had drawn the coastline")


def test_header_values_are_split_on_commas() -> None:
    work = load("header_block.txt")
    assert work.header["characters"] == ["Ines Varga", "Hollis Brand", "The Harbourmaster"]
    assert work.header["additional tags"] == ["Maps", "Slow Burn", "Rain"]


def test_header_values_helper_collects_aliases_in_order() -> None:
    work = parse_text("Pairing: A/B\nRelationships: C/D, E & F\n\nStory.")
    assert work.header_values("relationship", "relationships", "pairing") == ["C/D", "E & F", "A/B"]


def test_header_ends_at_the_first_line_that_is_not_a_header_line() -> None:
    work = parse_text("Title: Quiet\nIt was raining in the valley.\nRating: not a header any more")
    assert work.title == "Quiet"
    assert all_paragraphs(work) == ["It was raining in the valley.", "Rating: not a header any more"]


def test_header_continues_after_a_blank_line_only_with_another_header_line() -> None:
    work = parse_text("Title: Quiet\n\nSummary: Rain.\n\nNotes: Hi.\n\nIt was raining.")
    assert (work.title, work.summary, work.notes) == ("Quiet", "Rain.", "Hi.")
    assert all_paragraphs(work) == ["It was raining."]


def test_unknown_keys_do_not_make_a_header() -> None:
    work = parse_text("ALICE: Where were you?\nBOB: Out.")
    assert work.title is None and work.header == {}
    assert all_paragraphs(work) == ["ALICE: Where were you?", "BOB: Out."]


# --------------------------------------------------------------------------- #
# Chapters
# --------------------------------------------------------------------------- #


def test_chapter_headings_split_chapters_and_keep_their_titles() -> None:
    work = load("chapters.txt")
    assert work.title == "Three Bridges"
    assert [chapter.title for chapter in work.chapters] == ["Salt", "Iron", "Glass"]
    assert [len(chapter.paragraphs) for chapter in work.chapters] == [2, 2, 2]
    assert all(chapter.html == "" for chapter in work.chapters)


def test_prose_before_the_first_heading_becomes_beginning_notes() -> None:
    work = load("chapters.txt")
    assert work.notes == "This one got away from me a little. Thank you to R. for reading it first."
    assert not any("got away from me" in paragraph for paragraph in all_paragraphs(work))


@pytest.mark.parametrize(
    ("heading", "title"),
    [
        ("Chapter 1", ""),
        ("Chapter 2: The Long Road", "The Long Road"),
        ("Chapter Three - Mirrors", "Mirrors"),
        ("CHAPTER 4", ""),
        ("Chapter 5. Who Goes There?", "Who Goes There?"),
        ("Chapter Twenty-One: Late", "Late"),
        ("Part II: Winter", "Winter"),
        ("## Chapter 6 ##", ""),
        ("**Chapter 7: Bold**", "Bold"),
    ],
)
def test_it_recognises_chapter_heading_variants(heading: str, title: str) -> None:
    work = parse_text(f"Chapter 0\nFirst.\n\n{heading}\nSecond.")
    assert [chapter.title for chapter in work.chapters] == ["", title]
    assert work.chapters[1].paragraphs == ["Second."]


@pytest.mark.parametrize(
    "line",
    ["Chapter 12 of the manual was missing.", "Part of her wanted to stay.", "Chapters 1 and 2 were fine."],
)
def test_sentences_that_mention_chapters_are_not_headings(line: str) -> None:
    work = parse_text(f"It began.\n{line}\nIt ended.")
    assert len(work.chapters) == 1
    assert all_paragraphs(work) == ["It began.", line, "It ended."]


def test_without_headings_the_whole_body_is_chapter_one() -> None:
    work = load("utf8.txt")
    assert len(work.chapters) == 1 and work.chapters[0].title == ""
    assert work.notes == ""


def test_a_table_of_contents_does_not_create_empty_chapters() -> None:
    text = "Chapter 1: Up\nChapter 2: Down\n\nChapter 1: Up\nWe climbed.\n\nChapter 2: Down\nWe fell."
    work = parse_text(text)
    assert [(c.title, c.paragraphs) for c in work.chapters] == [("Up", ["We climbed."]), ("Down", ["We fell."])]


def test_an_epilogue_is_a_chapter_only_alongside_numbered_chapters() -> None:
    assert len(parse_text("Prologue\nIt began.\n\nEpilogue\nIt ended.").chapters) == 1
    work = parse_text("Chapter 1\nIt began.\n\nEpilogue\nIt ended.")
    assert [chapter.title for chapter in work.chapters] == ["", "Epilogue"]


# --------------------------------------------------------------------------- #
# Prompts
# --------------------------------------------------------------------------- #


def test_an_anonymous_prompt_and_its_pairing_are_extracted() -> None:
    work = load("prompt_anon.txt")
    assert work.prompt_text is not None and "keeps getting shipwrecked on purpose" in work.prompt_text
    assert work.prompt_relationship == "Wren Calloway/Aster Fane"
    assert "The prompt (left anonymously):" in work.notes  # notes keep their text


def test_a_written_for_the_prompt_note_gives_the_quoted_prompt() -> None:
    work = load("prompt_plain.txt")
    assert work.prompt_text == "Dana & Priya, a power cut, one candle left"
    assert work.prompt_relationship == "Dana & Priya"


@pytest.mark.parametrize(
    ("notes", "prompt", "pairing"),
    [
        ("Prompt: Alice/Bob, snowed in", "Alice/Bob, snowed in", "Alice/Bob"),
        ("Written for the prompt: The Captain & Mara Lind share a tent.", "The Captain & Mara Lind share a tent.", "Captain & Mara Lind"),
        ("This was for the prompt “rain on a tin roof” at the meme.", "rain on a tin roof", None),
        ("The prompt was:\nJo/Sam/Lee, a road trip.", "Jo/Sam/Lee, a road trip.", "Jo/Sam/Lee"),
        ("A/N: no prompt here, just vibes.", None, None),
    ],
)
def test_prompts_and_pairings_in_notes(notes: str, prompt: str | None, pairing: str | None) -> None:
    work = parse_text(f"Notes: {notes}\n\nThe story.")
    assert (work.prompt_text, work.prompt_relationship) == (prompt, pairing)


def test_a_prompt_header_line_is_the_prompt() -> None:
    work = parse_text("Prompt: Rosa & Ilse, a lighthouse\n\nThe story.")
    assert (work.prompt_text, work.prompt_relationship) == ("Rosa & Ilse, a lighthouse", "Rosa & Ilse")


# --------------------------------------------------------------------------- #
# Cross-posts
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("name", "site", "url"),
    [
        ("source_tumblr.txt", "tumblr", None),
        ("source_url.txt", "Dreamwidth", "https://smallhours.dreamwidth.org/1234.html"),
        ("source_bare_url.txt", "inkwell.example.com", "https://inkwell.example.com/june-stories"),
        ("story_chapters.html", "Dreamwidth", "https://weathervane.dreamwidth.org/42.html"),
        ("utf8.txt", None, None),
    ],
)
def test_cross_post_source_is_extracted(name: str, site: str | None, url: str | None) -> None:
    work = load(name)
    assert (work.source_site, work.source_url) == (site, url)


@pytest.mark.parametrize(
    ("notes", "site", "url"),
    [
        ("Cross-posted from dreamwidth.", "Dreamwidth", None),
        ("Originally posted on LiveJournal in 2009!", "LiveJournal", None),
        ("originally posted on fanfiction.net, lightly edited", "FanFiction.Net", None),
        ("Originally posted on tumblr: https://fern.tumblr.com/post/7", "tumblr", "https://fern.tumblr.com/post/7"),
        ("I wrote this on my tumblr last winter.", "tumblr", None),
        ("Originally posted here (www.example.org/fic).", "example.org", "https://www.example.org/fic"),
        ("Thanks to my beta!", None, None),
    ],
)
def test_cross_post_phrases_name_the_site(notes: str, site: str | None, url: str | None) -> None:
    work = parse_text(f"Notes: {notes}\n\nThe story.")
    assert (work.source_site, work.source_url) == (site, url)


# --------------------------------------------------------------------------- #
# HTML
# --------------------------------------------------------------------------- #


def test_html_import_takes_title_summary_notes_and_body() -> None:
    work = load("story.html")
    assert work.title == "The Glassblower’s Apprentice"
    assert work.summary == "Pip breaks things. The glassblower makes them again."
    assert work.notes.startswith("Written for the prompt")
    assert work.prompt_relationship == "Pip & Master Orrin"
    [chapter] = work.chapters
    assert chapter.paragraphs == []
    assert "<em>Sometimes</em> a burn teaches" in chapter.html
    assert "a bowl &amp; a lid" in chapter.html
    assert "<h1>" not in chapter.html and "Pip breaks things" not in chapter.html
    assert "<style>" not in chapter.html


def test_html_import_splits_chapters_at_chapter_headings() -> None:
    work = load("story_chapters.html")
    assert work.title == "Weathervane"
    assert work.summary == "A town that argues with the wind, and the girl who takes the wind's side."
    assert work.notes.startswith("Cross-posted from dreamwidth")
    assert work.end_notes == "Thank you for reading about Tollen!"
    assert [chapter.title for chapter in work.chapters] == ["North", "South"]
    assert work.chapters[0].html.startswith("<p>In Tollen the weathervane")
    assert "hacksaw" in work.chapters[1].html and "Thank you" not in work.chapters[1].html


def test_html_without_story_text_is_rejected() -> None:
    with pytest.raises(ImportRejected, match="no story text"):
        parse_html("<html><head><title>Only a title</title></head><body><h1>Only a title</h1></body></html>")


def test_deeply_nested_html_does_not_crash() -> None:
    work = parse_html("<div>" * 5000 + "<p>Still here.</p>" + "</div>" * 5000)
    assert "Still here." in work.chapters[0].html


def test_html_end_notes_paragraph_leaves_the_last_chapter() -> None:
    work = parse_html("<p>It rained.</p><p>It stopped.</p><p>Notes: thanks!</p>")
    assert work.end_notes == "thanks!"
    assert work.chapters[0].html == "<p>It rained.</p><p>It stopped.</p>"


# --------------------------------------------------------------------------- #
# Rejections
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", ["empty.txt", "whitespace_only.txt"])
def test_empty_files_are_rejected_with_a_clear_message(name: str) -> None:
    with pytest.raises(ImportRejected, match="empty"):
        load(name)


def test_binary_files_are_rejected_with_a_clear_message() -> None:
    with pytest.raises(ImportRejected, match=r"does not look like a text or HTML document"):
        load("binary.bin")


def test_text_full_of_control_characters_is_rejected() -> None:
    with pytest.raises(ImportRejected):
        parse_file("story.txt", b"Once upon a \x01\x02\x03\x04 time\x05\x06\x07 there was\x08\x0e\x0f")


def test_files_over_the_size_limit_are_rejected_and_the_message_states_the_limit() -> None:
    with pytest.raises(ImportRejected, match=r"The limit is 5 MB\."):
        parse_file("big.txt", b"a" * (5 * 1024 * 1024 + 1))
    with pytest.raises(ImportRejected, match=r"The limit is 0\.5 MB\."):
        parse_file("big.txt", b"a " * 300_000, max_bytes=512 * 1024)


def test_a_file_with_only_a_header_is_rejected() -> None:
    with pytest.raises(ImportRejected, match="no story text"):
        parse_text("Title: Nothing Yet\nSummary: Coming soon.\n")


@pytest.mark.parametrize("name", ["empty.txt", "whitespace_only.txt", "binary.bin"])
def test_rejection_messages_are_plain_sentences(name: str) -> None:
    with pytest.raises(ImportRejected) as caught:
        load(name)
    message = str(caught.value)
    assert message[0].isupper() and message.endswith(".") and "Error" not in message


# --------------------------------------------------------------------------- #
# Properties
# --------------------------------------------------------------------------- #

NAMES = ["Alice", "Bob", "Carol", "Dev", "Emeka", "Fatima", "Mr. Okafor", "Dr. Lind"]
WORDS = (
    "the old mill river lantern quietly across over a bright cold door window bread "
    "slowly never again tomorrow rain it's wasn't anyone's twelve o'clock well—maybe "
    "etc. e.g. storm field"
).split()
SPEECH = ["said", "asked", "whispered", "replied", "shouted"]
LAYOUTS = ["flattened", "blank", "single", "mixed"]


def _sentence(rng: random.Random, curly: bool) -> str:
    opening, closing = ("“", "”") if curly else ('"', '"')
    name, verb = rng.choice(NAMES), rng.choice(SPEECH)
    words = " ".join(rng.choices(WORDS, k=rng.randint(2, 9))).capitalize()
    more = " ".join(rng.choices(WORDS, k=rng.randint(2, 9)))
    end = rng.choice([".", "!", "?", "…"])
    forms = [
        f"{name} {more}{end}",
        f"{opening}{words},{closing} {name} {verb}.",
        f"{opening}{words}{end}{closing}",
        f"{name} {verb}, {opening}{words}{end}{closing}",
        f"{opening}{words},{closing} {verb} {name}, {opening}{more}{end}{closing}",
        f"{opening}{words}{rng.choice('!?')}{closing} {name} {verb}.",
    ]
    return rng.choice(forms)


def _random_story(seed: int, paragraphs: int, layout: str, curly: bool) -> str:
    """Narration and dialogue in both quote styles, laid out as real uploads are."""
    rng = random.Random(seed)
    texts = [" ".join(_sentence(rng, curly) for _ in range(rng.randint(1, 4))) for _ in range(paragraphs)]
    if layout == "flattened":
        return " ".join(texts)
    if layout == "blank":
        return "\n\n".join(texts)
    if layout == "single":
        return "\n".join(texts)
    return "".join(text + rng.choice([" ", "\n", "\n\n", "\n \n\n"]) for text in texts)


# One seed per story keeps generation cheap: drawing every word through
# hypothesis made these tests fifty times slower without finding more.
stories = st.builds(
    _random_story,
    seed=st.integers(0, 2**32),
    paragraphs=st.integers(1, 30),
    layout=st.sampled_from(LAYOUTS),
    curly=st.booleans(),
)


@FAST
@given(body=stories)
def test_property_every_word_survives_in_order(body: str) -> None:
    work = parse_text(body)
    assert story_tokens(work) == body.split()
    assert work.end_notes == "" and work.notes == ""


@FAST
@given(body=stories)
def test_property_restored_paragraphs_never_split_a_quotation(body: str) -> None:
    for paragraph in all_paragraphs(parse_text(body)):
        assert paragraph.count('"') % 2 == 0, paragraph
        assert paragraph.count("“") == paragraph.count("”"), paragraph


@FAST
@given(
    body=stories,
    separator=st.sampled_from([" ", "\n", "\n\n"]),
    marker=st.integers(0, 10**6).map(lambda n: f"zqmarker{n}"),
    label=st.sampled_from(["Notes:", "End Notes:", "Author's Note:", "A/N:"]),
)
def test_property_appended_end_notes_never_reach_the_story(body: str, separator: str, marker: str, label: str) -> None:
    work = parse_text(f"{body}{separator}{label} thanks for reading, {marker}!")
    assert marker in work.end_notes
    assert not any(marker in paragraph for paragraph in all_paragraphs(work))
    assert story_tokens(work) == body.split()


JUNK_PIECES = [
    "Notes:", "End Notes:", "A/N:", "Title: x", "Summary:", "Prompt:", "Chapter 1", "\nChapter 2: Two\n",
    "Part IV", '"', "“", "”", "\n", "\n\n", "\r", "http://", "https://x.tumblr.com/p", "Originally posted on ",
    "<p>", "</p>", "<h2>Chapter 3</h2>", "<div class='notes'>", "</div>", "<br>", "&amp;", "<!--", "<![",
    " ", ".", "!", "Alice/Bob", " & ", "Mr.", "\x00", "\ufeff", "\t",
]
junk_text = st.lists(st.one_of(st.text(max_size=40), st.sampled_from(JUNK_PIECES)), max_size=60).map("".join)


def _only_clean_rejections(parse: object, *args: object) -> None:
    try:
        work = parse(*args)  # type: ignore[operator]
    except ImportRejected as rejection:
        assert str(rejection) != MSG_UNREADABLE, "an internal error was hidden behind a rejection"
        return
    assert work.chapters


@FAST
@given(text=junk_text)
def test_property_parse_text_and_html_raise_nothing_but_import_rejected(text: str) -> None:
    _only_clean_rejections(parse_text, text)
    _only_clean_rejections(parse_html, text)


@FAST
@given(
    data=st.one_of(st.binary(max_size=400), junk_text.map(lambda t: t.encode("utf-8", "surrogatepass"))),
    name=st.sampled_from(["story.txt", "story.html", "STORY.HTM", "noext"]),
)
def test_property_parse_file_raises_nothing_but_import_rejected(data: bytes, name: str) -> None:
    _only_clean_rejections(parse_file, name, data)


def test_flattened_detection_needs_length_so_short_texts_keep_their_lines() -> None:
    text = '"Hi." "Hello." "Bye." "See you." She left. He stayed. It rained. They slept.'
    assert parse_text(text).chapters[0].paragraphs == [text]
    assert re.search(r"\n", text) is None
