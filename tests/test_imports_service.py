"""import_file: a story file becomes one work, or nothing at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import override_settings

from chapbook.imports.services import ImportFailed, import_file, paragraphs_to_html
from chapbook.people.models import Pseud, User
from chapbook.tags.models import DEFAULT_IMPORT_RATING, DEFAULT_IMPORT_WARNING
from chapbook.works.models import Work

CORPUS = Path(__file__).parent / "importer_corpus"


def corpus(name: str) -> bytes:
    path = CORPUS / name
    return path.read_bytes()


def story(text: str) -> bytes:
    return text.encode("utf-8")


ONE_PARAGRAPH = "The gulls argued over the harbour wall while the tide came in.\n"


def import_as(user: User, name: str, data: bytes | None = None, **options: object) -> Work:
    options.setdefault("fandoms", ["Original Work"])
    work, _ = import_file(by=user, filename=name, data=corpus(name) if data is None else data, **options)  # type: ignore[arg-type]
    return work


def chapter_html(work: Work) -> str:
    return "\n".join(chapter.html for chapter in work.chapters.order_by("position"))


def words(html: str) -> list[str]:
    return re.sub(r"<[^>]+>", " ", html).split()


def names(tags: list) -> list[str]:
    return sorted(tag.name for tag in tags)


# Encodings and text layout


@pytest.mark.parametrize("name", ["utf8_bom.txt", "utf16le_bom.txt", "utf16be_bom.txt", "cp1252.txt"])
def test_it_imports_every_encoding_with_the_same_words(author: User, name: str) -> None:
    expected = import_as(author, "utf8.txt")
    work = import_as(author, name)
    html = chapter_html(work)
    assert "café" in html and "’" in html and "naïve" in html
    assert "Ã" not in html and "\ufeff" not in html
    assert words(html) == words(chapter_html(expected))
    assert work.word_count == expected.word_count


def test_it_gives_a_flattened_story_its_paragraphs_back(author: User) -> None:
    work = import_as(author, "flattened.txt")
    assert chapter_html(work).count("<p>") > 10


def test_it_escapes_text_paragraphs_and_keeps_single_line_breaks() -> None:
    html = paragraphs_to_html(["Dear diary,\nno <b>bold</b> here", "  ", "Second."])
    assert html == "<p>Dear diary,<br>\nno &lt;b&gt;bold&lt;/b&gt; here</p>\n<p>Second.</p>"


def test_it_moves_notes_on_the_last_line_to_the_end_notes(author: User) -> None:
    work = import_as(author, "notes_last_line.txt")
    assert "thanks for reading!" in work.end_notes
    html = chapter_html(work)
    assert "thanks for reading" not in html
    assert "under the first stars." in html


def test_it_splits_chapters_and_keeps_the_preface_as_notes(author: User) -> None:
    work = import_as(author, "chapters.txt")
    chapters = list(work.chapters.order_by("position"))
    assert [c.title for c in chapters] == ["Salt", "Iron", "Glass"]
    assert work.chapter_count == 3
    assert "Thank you to R." in work.notes
    assert "wanted to write about bridges" in work.end_notes
    assert "bridges. Thank you" not in chapters[-1].html


# Metadata found in the file


def test_it_stores_the_prompt_and_tags_its_relationship(author: User) -> None:
    work = import_as(author, "prompt_anon.txt")
    assert "shipwrecked on purpose" in work.prompt_text
    assert work.prompt_relationship == "Wren Calloway/Aster Fane"
    assert names(work.relationships) == ["Wren Calloway/Aster Fane"]


def test_it_does_not_tag_the_prompt_relationship_twice(author: User) -> None:
    work = import_as(author, "prompt_plain.txt", relationships=["dana & priya"])
    assert work.prompt_relationship == "Dana & Priya"
    assert names(work.relationships) == ["dana & priya"]


def test_it_stores_where_the_work_was_first_posted(author: User) -> None:
    work = import_as(author, "source_url.txt")
    assert work.source_url == "https://smallhours.dreamwidth.org/1234.html"
    assert work.source_site == "Dreamwidth"


def test_it_uses_the_tags_title_and_summary_in_the_header(author: User) -> None:
    work = import_as(author, "header_block.txt", fandoms=[])
    assert work.title == "The Cartographer's Daughter"
    assert names(work.fandoms) == ["Original Work"]
    assert names(work.ratings) == ["General Audiences"]
    assert names(work.warnings) == ["No Archive Warnings Apply"]
    assert names(work.relationships) == ["Ines Varga/Hollis Brand"]
    assert names(work.characters) == ["Hollis Brand", "Ines Varga", "The Harbourmaster"]
    assert names(work.freeforms) == ["Maps", "Rain", "Slow Burn"]
    assert "Ines maps the coast." in work.summary
    assert "Be gentle!" in work.notes
    assert "Fandom:" not in chapter_html(work)


def test_options_add_to_the_header_tags_and_a_rating_option_replaces_the_header_rating(author: User) -> None:
    work = import_as(
        author,
        "header_block.txt",
        fandoms=["Lighthouse Keepers"],
        rating="Mature",
        warnings=["Graphic Depictions Of Violence"],
        tags=["Fluff"],
    )
    assert names(work.fandoms) == ["Lighthouse Keepers", "Original Work"]
    assert names(work.ratings) == ["Mature"]
    assert names(work.warnings) == ["Graphic Depictions Of Violence", "No Archive Warnings Apply"]
    assert names(work.freeforms) == ["Fluff", "Maps", "Rain", "Slow Burn"]


def test_it_understands_common_spellings_of_ratings_warnings_and_languages(author: User) -> None:
    data = story("Fandom: Original Work\nRating: teen\nWarnings: none\nLanguage: French\n\n" + ONE_PARAGRAPH)
    work = import_as(author, "spellings.txt", data, fandoms=[])
    assert names(work.ratings) == ["Teen And Up Audiences"]
    assert names(work.warnings) == ["No Archive Warnings Apply"]
    assert work.language == "fr"


def test_it_imports_as_not_rated_and_creator_chose_not_to_warn_by_default(author: User) -> None:
    work = import_as(author, "utf8.txt")
    assert names(work.ratings) == [DEFAULT_IMPORT_RATING] == ["Not Rated"]
    assert names(work.warnings) == [DEFAULT_IMPORT_WARNING] == ["Creator Chose Not To Use Archive Warnings"]
    assert work.language == "en"


def test_it_takes_the_title_from_the_option_then_the_file_then_the_file_name(author: User) -> None:
    assert import_as(author, "the_quiet_harbour.txt", story(ONE_PARAGRAPH)).title == "the quiet harbour"
    assert import_as(author, "The-Quiet_Harbour.TXT", story(ONE_PARAGRAPH)).title == "The Quiet Harbour"
    assert import_as(author, "header_block.txt").title == "The Cartographer's Daughter"
    assert import_as(author, "header_block.txt", title="  Charts  ").title == "Charts"


def test_it_sanitizes_an_html_file(author: User) -> None:
    work, removed = import_file(by=author, filename="story.html", data=corpus("story.html"), fandoms=["Original Work"])
    html = chapter_html(work)
    assert work.title == "The Glassblower’s Apprentice"
    assert "<script" not in html and "alert(" not in html
    assert "<em>Sometimes</em>" in html
    assert "Pip breaks things." in work.summary
    assert work.prompt_relationship == "Pip & Master Orrin"


def test_it_imports_html_chapters_and_end_notes(author: User) -> None:
    work = import_as(author, "story_chapters.html")
    assert [c.title for c in work.chapters.order_by("position")] == ["North", "South"]
    assert "Thank you for reading about Tollen!" in work.end_notes
    assert work.source_url == "https://weathervane.dreamwidth.org/42.html"


def test_it_saves_a_draft_when_asked(author: User) -> None:
    work = import_as(author, "utf8.txt", draft=True)
    assert work.draft and work.published_at is None


# Who is credited


def test_it_credits_the_importing_user_default_pseud(author: User) -> None:
    work = import_as(author, "utf8.txt")
    assert work.creators == [author.default_pseud]


def test_it_credits_another_of_the_importing_users_pseuds(author: User) -> None:
    second = Pseud.objects.create(user=author, name="Quill")
    assert import_as(author, "utf8.txt", pseud_name="quill").creators == [second]


def test_it_refuses_a_pseud_the_importing_user_does_not_have(author: User, reader: User) -> None:
    with pytest.raises(ImportFailed, match="not one of your pseuds"):
        import_as(author, "utf8.txt", pseud_name="bob")


@pytest.mark.django_db
def test_it_creates_a_user_and_pseud_for_a_new_pseud_name() -> None:
    work, _ = import_file(filename="utf8.txt", data=corpus("utf8.txt"), pseud_name="quillfeather", fandoms=["Original Work"])
    user = User.objects.get(username="quillfeather")
    assert not user.has_usable_password()
    assert [(p.name, p.is_default) for p in user.pseuds.all()] == [("quillfeather", True)]
    assert work.creators == [user.default_pseud]


def test_it_uses_an_existing_users_pseud_whatever_its_case(author: User) -> None:
    work, _ = import_file(filename="utf8.txt", data=corpus("utf8.txt"), pseud_name="Alice", fandoms=["Original Work"])
    assert work.creators == [author.default_pseud]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_it_gives_an_existing_user_without_pseuds_their_default_pseud() -> None:
    user = User.objects.create_user(username="admin")
    work, _ = import_file(filename="utf8.txt", data=corpus("utf8.txt"), pseud_name="admin", fandoms=["Original Work"])
    assert work.creators == [user.default_pseud]


@pytest.mark.django_db
def test_it_refuses_a_new_pseud_name_that_cannot_be_a_username() -> None:
    with pytest.raises(ImportFailed, match="cannot be created"):
        import_file(filename="utf8.txt", data=corpus("utf8.txt"), pseud_name="Jane Doe", fandoms=["Original Work"])
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_needs_someone_to_credit() -> None:
    with pytest.raises(ImportFailed, match="pseud"):
        import_file(filename="utf8.txt", data=corpus("utf8.txt"), fandoms=["Original Work"])


# Rejections leave nothing behind


@pytest.mark.django_db
def test_it_rejects_a_file_without_a_fandom_and_creates_nothing() -> None:
    with pytest.raises(ImportFailed, match="No fandom") as caught:
        import_file(filename="utf8.txt", data=corpus("utf8.txt"), pseud_name="quillfeather")
    assert caught.value.field == "fandoms"
    assert not Work.objects.exists()
    assert not User.objects.filter(username="quillfeather").exists()


@pytest.mark.django_db
def test_a_file_the_archive_refuses_to_post_creates_no_user() -> None:
    with pytest.raises(ImportFailed) as caught:
        import_file(
            filename="utf8.txt",
            data=corpus("utf8.txt"),
            pseud_name="quillfeather",
            fandoms=["Original Work"],
            relationships=["Just Zoë"],
        )
    assert caught.value.message.startswith("relationships: “Just Zoë” is not a relationship")
    assert not Work.objects.exists()
    assert not User.objects.filter(username="quillfeather").exists()


@override_settings(IMPORT_MAX_BYTES=100)
def test_it_rejects_a_file_over_the_size_limit(author: User) -> None:
    with pytest.raises(ImportFailed, match="too large"):
        import_as(author, "utf8.txt")
    assert not Work.objects.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [("empty.txt", "empty"), ("whitespace_only.txt", "empty"), ("binary.bin", "does not look like a text")],
)
def test_it_rejects_files_with_no_story_in_them(author: User, name: str, message: str) -> None:
    with pytest.raises(ImportFailed, match=message):
        import_as(author, name)
    assert not Work.objects.exists()


def test_it_rejects_an_unknown_rating_or_warning_given_as_an_option(author: User) -> None:
    with pytest.raises(ImportFailed, match="Unknown rating “Spicy”: use one of Not Rated, General Audiences"):
        import_as(author, "utf8.txt", rating="Spicy")
    with pytest.raises(ImportFailed, match="Unknown archive warning “Spiders”") as caught:
        import_as(author, "utf8.txt", warnings=["Spiders"])
    assert caught.value.field == "warnings"
    assert not Work.objects.exists()


def test_it_rejects_an_unknown_rating_in_the_file_unless_an_option_replaces_it(author: User) -> None:
    data = story(f"Rating: PG-13\n\n{ONE_PARAGRAPH}")
    with pytest.raises(ImportFailed, match="Unknown rating “PG-13”"):
        import_as(author, "odd.txt", data)
    assert names(import_as(author, "odd.txt", data, rating="Teen And Up Audiences").ratings) == ["Teen And Up Audiences"]


def test_it_keeps_the_files_content_warnings_and_loose_pairings_as_tags(author: User) -> None:
    data = story(
        "Warnings: None, Spiders\nCategory: Gen, Romance\nPairing: Ines, Ines/Hollis, none\n\n" + ONE_PARAGRAPH
    )
    work = import_as(author, "loose.txt", data)
    assert names(work.warnings) == ["No Archive Warnings Apply"]
    assert names(work.categories) == ["Gen"]
    assert names(work.freeforms) == ["Romance", "Spiders"]
    assert names(work.relationships) == ["Ines/Hollis"]
    assert names(work.characters) == ["Ines"]
