"""Each input format becomes safe HTML. Pure tests."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from chapbook.lib.formats import FORMATS, plain_to_html, render
from chapbook.lib.sanitize import sanitize_comment_html


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.found


def names(html: str) -> list[str]:
    return [tag for tag, _ in tags(html)]


# ---------------------------------------------------------------------- markdown


def test_markdown_renders_emphasis() -> None:
    assert render("*soft* and **loud** and ~~gone~~", "markdown").html == (
        "<p><em>soft</em> and <strong>loud</strong> and <s>gone</s></p>\n"
    )


def test_markdown_renders_lists_headings_and_quotes() -> None:
    result = render("# Title\n\n- one\n- two\n\n1. first\n\n> quoted", "markdown")
    assert names(result.html) == ["h1", "ul", "li", "li", "ol", "li", "blockquote", "p"]
    assert result.removed == []


def test_markdown_renders_tables() -> None:
    result = render("| who | what |\n|-----|------|\n| Kim | hi |", "markdown")
    assert {"table", "thead", "tbody", "tr", "th", "td"} <= set(names(result.html))


def test_markdown_links_get_nofollow_noopener() -> None:
    result = render("[home](https://example.org/)", "markdown")
    assert tags(result.html)[1] == ("a", {"href": "https://example.org/", "rel": "nofollow noopener"})


def test_markdown_javascript_links_never_become_links() -> None:
    result = render("[click](javascript:alert(1)) <a href='javascript:alert(2)'>raw</a>", "markdown")
    assert all(attrs.get("href") is None for tag, attrs in tags(result.html) if tag == "a")
    assert "javascript: link" in result.removed


def test_markdown_raw_script_is_removed_and_reported() -> None:
    result = render("Hello\n\n<script>alert(1)</script>\n\nworld", "markdown")
    assert "script" not in result.html
    assert "alert" not in result.html
    assert result.removed == ["<script> element"]


def test_markdown_keeps_allowed_raw_html() -> None:
    result = render("<center>* * *</center>\n\nText with <u>underline</u>.", "markdown")
    assert names(result.html) == ["center", "p", "u"]
    assert result.removed == []


def test_markdown_images_need_http_sources() -> None:
    result = render("![map](https://example.org/map.png) ![inline](data:image/png;base64,AAAA)", "markdown")
    assert [attrs.get("src") for tag, attrs in tags(result.html) if tag == "img"] == ["https://example.org/map.png", None]
    assert result.removed == ["data: image source"]


# -------------------------------------------------------------------- plain text


def test_text_blank_lines_start_new_paragraphs() -> None:
    assert render("First.\n\nSecond.\n\n\n\nThird.", "text").html == "<p>First.</p>\n<p>Second.</p>\n<p>Third.</p>"


def test_text_single_newlines_become_line_breaks() -> None:
    assert render("Roses are red,\nviolets are blue.", "text").html == "<p>Roses are red,<br>\nviolets are blue.</p>"


def test_text_escapes_angle_brackets_and_ampersands() -> None:
    result = render("<script>alert(1)</script> & <b>not bold</b>", "text")
    assert result.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;not bold&lt;/b&gt;</p>"
    assert result.removed == []


def test_text_treats_windows_newlines_and_whitespace_only_lines_as_breaks() -> None:
    assert plain_to_html("a\r\nb\r\n   \r\nc") == "<p>a<br>\nb</p>\n<p>c</p>"


def test_text_of_only_whitespace_is_empty() -> None:
    assert plain_to_html(" \n\n \t") == ""


# -------------------------------------------------------------------------- html


def test_html_passes_through_the_sanitizer() -> None:
    result = render('<p onclick="x">Hi <em>there</em></p><script>alert(1)</script>', "html")
    assert result.html == "<p>Hi <em>there</em></p>"
    assert result.removed == ["onclick attribute on <p>", "<script> element"]


def test_render_can_use_the_comment_allow_list() -> None:
    result = render("# Big\n\n![x](https://example.org/x.png)", "markdown", sanitizer=sanitize_comment_html)
    assert "h1" not in names(result.html) and "img" not in names(result.html)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_empty_input_as_empty(fmt: str) -> None:
    assert render("", fmt).html.strip() == ""  # type: ignore[arg-type]


def test_unknown_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render("x", "rtf")  # type: ignore[arg-type]
