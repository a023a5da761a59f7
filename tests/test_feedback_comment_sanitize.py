"""`sanitize_comment`: what a comment may contain, for any input at all.

Pure tests: no database. Property tests throw random text and random tag soup at it.
"""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chapbook.lib.sanitize import COMMENT_BODY_TAGS, sanitize_comment, url_scheme

ALLOWED_ATTRIBUTES = {"a": {"href", "rel"}}
LINK_REL = "nofollow ugc noopener"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def problems(html: str) -> list[str]:
    """Every tag or attribute in `html` that a comment must never contain."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    found: list[str] = []
    for tag, attrs in collector.tags:
        if tag not in COMMENT_BODY_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name not in ALLOWED_ATTRIBUTES.get(tag, set()):
                found.append(f"{name} on <{tag}>")
            elif name == "rel" and value != LINK_REL:
                found.append(f"rel={value!r}")
            elif name == "href" and value is not None and url_scheme(value) not in {None, "http", "https", "mailto"}:
                found.append(f"href={value[:30]!r}")
        if tag == "a" and "href" in attrs and attrs.get("rel") != LINK_REL:
            found.append("link without rel")
    return found


TAGS = sorted(COMMENT_BODY_TAGS | {"img", "h1", "h3", "table", "tr", "td", "div", "span", "script", "style",
                                     "iframe", "svg", "math", "form", "input", "textarea", "center", "hr", "dl", "dd"})
ATTRIBUTES = ["href", "src", "style", "class", "onclick", "onerror", "rel", "id", "name", "title", "align", "cite"]
VALUES = ["https://example.org", "javascript:alert(1)", "jav\tascript:alert(1)", "data:text/html,x", "/works/1",
          "#top", "mailto:a@example.org", "color:red", "x\" onmouseover=\"alert(1)", "vbscript:x", ""]


@st.composite
def tag_soup(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["open", "close", "text", "newline"]))
        if kind == "open":
            tag = draw(st.sampled_from(TAGS))
            attrs = draw(st.lists(st.tuples(st.sampled_from(ATTRIBUTES), st.sampled_from(VALUES)), max_size=3))
            attributes = "".join(f' {name}="{value}"' for name, value in attrs)
            parts.append(f"<{tag}{attributes}{draw(st.sampled_from(['', '/']))}>")
        elif kind == "close":
            parts.append(f"</{draw(st.sampled_from(TAGS))}>")
        elif kind == "newline":
            parts.append(draw(st.sampled_from(["\n", "\r\n", "\n\n", "\r\n\r\n"])))
        else:
            parts.append(draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=12)))
    return "".join(parts)


@given(st.text())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@example("<a href='javascript:alert(1)'>x</a>")
@example("\x00<scr\x00ipt>")
@example("<<img src=x onerror=alert(1)>>")
def test_it_never_raises_or_lets_anything_disallowed_through_random_text(text: str) -> None:
    assert problems(sanitize_comment(text)) == []


@given(tag_soup())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@example('<table><tr><td>a</td><td>b</td></tr></table>')
@example('<p style="color:red" class="x" onclick="y()">hi</p>')
def test_it_never_lets_a_disallowed_tag_or_attribute_through_tag_soup(html: str) -> None:
    assert problems(sanitize_comment(html)) == []


@given(st.one_of(st.text(), tag_soup()))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@example("<table><td>a</td></table>")
@example("a\n\nb")
def test_it_changes_nothing_when_run_on_its_own_output(text: str) -> None:
    """What is stored is stable: editing a comment without changing it stores the same HTML."""
    once = sanitize_comment(text)
    assert sanitize_comment(once) == once


def test_it_turns_plain_text_into_paragraphs_and_line_breaks() -> None:
    assert sanitize_comment("One\r\ntwo\r\n\r\n\r\nThree") == "<p>One<br>two</p><p>Three</p>"
    assert sanitize_comment("I <em>loved</em> it\n\nso much") == "<p>I <em>loved</em> it</p><p>so much</p>"
    assert sanitize_comment("  \n ") == ""


def test_it_keeps_the_comment_allow_list_and_drops_the_rest() -> None:
    html = sanitize_comment(
        "<blockquote>quoted</blockquote><ul><li>one</li></ul><ol><li>two</li></ol>"
        "<pre><code>x = 1</code></pre><p><strong>bold</strong> <em>em</em> <s>gone</s></p>"
        "<h2>Shouting</h2><img src='https://example.org/i.png'><table><tr><td>cell</td></tr></table>"
    )
    assert html == (
        "<blockquote>quoted</blockquote><ul><li>one</li></ul><ol><li>two</li></ol>"
        "<pre><code>x = 1</code></pre><p><strong>bold</strong> <em>em</em> <s>gone</s></p>"
        "Shouting<br>cell <br>"
    )


def test_it_marks_every_link_as_user_content() -> None:
    assert sanitize_comment('<a href="https://example.org" rel="me" target="_blank">x</a>') == (
        '<p><a href="https://example.org" rel="nofollow ugc noopener">x</a></p>'
    )
    assert sanitize_comment('<a href="javascript:alert(1)">x</a>') == '<p><a rel="nofollow ugc noopener">x</a></p>'
