"""The sanitizer keeps formatting and never lets anything executable through.

Pure tests: no database, no Django.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chapbook.lib.sanitize import (
    COMMENT_TAGS,
    WORK_TAGS,
    Sanitized,
    sanitize_comment_html,
    sanitize_work_html,
    strip_tags,
)

# ------------------------------------------------------------------ the checker

_NEVER_ALLOWED_TAGS = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
        "form", "input", "button", "textarea", "select", "base", "meta", "link", "body", "html", "head",
        "template", "noscript", "xmp", "plaintext", "video", "audio", "source", "marquee", "isindex",
    }
)  # fmt: skip
_URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "cite", "action", "formaction", "background", "poster", "data", "xlink:href",
        "lowsrc", "dynsrc", "codebase", "longdesc", "usemap", "ping", "srcset", "content",
    }
)  # fmt: skip
_EXECUTABLE_SCHEMES = ("javascript:", "vbscript:", "livescript:", "data:", "file:")


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parsed_tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = _TagCollector()
    collector.feed(html)
    collector.close()
    return collector.tags


def _squashed(url: str) -> str:
    # Stricter than a browser on purpose: drop every control and space
    # character anywhere, so no spacing trick can hide a scheme from the check.
    return "".join(char for char in url if ord(char) > 0x20).lower()


def executable_constructs(html: str, allowed_tags: frozenset[str] = WORK_TAGS) -> list[str]:
    """Everything in ``html`` that could run script or restyle the page, as messages."""
    problems: list[str] = []
    if "<script" in html.lower():
        problems.append("literal <script")
    for tag, attrs in parsed_tags(html):
        if tag in _NEVER_ALLOWED_TAGS or tag not in allowed_tags:
            problems.append(f"<{tag}> survived")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"{name} handler on <{tag}>")
            if name in {"style", "srcdoc", "class"}:
                problems.append(f"{name} attribute on <{tag}>")
            if name in _URL_ATTRIBUTES and value is not None:
                url = _squashed(value)
                if url.startswith(_EXECUTABLE_SCHEMES):
                    problems.append(f"{url[:20]!r} in {name} on <{tag}>")
                if tag == "img" and name == "src" and not url.startswith(("http://", "https://")):
                    problems.append(f"non-http image {url[:20]!r}")
    return problems


def test_the_checker_itself_catches_what_it_should() -> None:
    # A checker that never fires would make every test below pass vacuously.
    dirty = '<p onclick="x" style="y">a</p><a href=" java\tscript:1">b</a><img src="data:x"><svg></svg><script>'
    assert len(executable_constructs(dirty)) >= 6


# --------------------------------------------------------- OWASP-inspired payloads

XSS_PAYLOADS: list[str] = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    '<IMG SRC="   javascript:alert(1)">',
    "<img src=`javascript:alert(1)`>",
    '<img src="jav&#x09;ascript:alert(1)">',
    '<img dynsrc="javascript:alert(1)" lowsrc="javascript:alert(1)">',
    '<img src="data:image/png;base64,iVBORw0KGgo=">',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<img """><script>alert(1)</script>">',
    '<img src="x" onerror="alert(1)"',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JAVASCRIPT:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href="jav\tascript:alert(1)">x</a>',
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="javas\x00cript:alert(1)">x</a>',
    '<a href="&#14;javascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>',
    '<a href="&#0000106&#0000097&#0000118&#0000097script:alert(1)">x</a>',
    '<a href="java&#115;cript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    "<A HREF=\"javascript:document.location='http://www.example.com/'\">x</A>",
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="http://ok.example" onmouseover="alert(1)">x</a>',
    "<p/onclick=alert(1)>x</p>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<math href="javascript:alert(1)">x</math>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<body onload=alert(1)>",
    '<style>body{background:url("javascript:alert(1)")}</style>',
    "<style>p{width:expression(alert(1))}</style><p>x</p>",
    '<div style="width: expression(alert(1));">x</div>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<img src="http://ok.example/a.png" style="x:expression(alert(1))">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><input type="submit"></form>',
    '<button formaction="javascript:alert(1)">x</button>',
    '<isindex action="javascript:alert(1)" type="image">',
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>x</details>",
    '<video><source onerror="alert(1)"></video>',
    "<marquee onstart=alert(1)>x</marquee>",
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    '<frameset><frame src="javascript:alert(1)"></frameset>',
    '<q cite="javascript:alert(1)">x</q>',
    '<blockquote cite="vbscript:x">x</blockquote>',
    "<<script>alert(1);//<</script>",
    "<scr<script>ipt>alert(1)</script>",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<template><script>alert(1)</script></template>",
    "<xmp><script>alert(1)</script></xmp>",
    "<div><plaintext><script>alert(1)</script>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
    '<p title="</p><script>alert(1)</script>">x</p>',
    "<textarea><script>alert(1)</script></textarea>",
]


def test_there_are_at_least_forty_payloads() -> None:
    assert len(XSS_PAYLOADS) >= 40


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_it_leaves_nothing_executable_in_work_html(payload: str) -> None:
    assert executable_constructs(sanitize_work_html(payload).html) == []


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_it_leaves_nothing_executable_in_comment_html(payload: str) -> None:
    assert executable_constructs(sanitize_comment_html(payload).html, COMMENT_TAGS) == []


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<p style="background:url(javascript:alert(1))">x</p>',
        "<svg onload=alert(1)>",
        '<iframe src="javascript:alert(1)"></iframe>',
    ],
)
def test_it_tells_the_author_something_was_removed_from_a_payload(payload: str) -> None:
    assert sanitize_work_html(payload).removed != []


# ------------------------------------------------------------- formatting kept


def tag_names(html: str) -> list[str]:
    return [tag for tag, _ in parsed_tags(html)]


def assert_kept(html: str) -> str:
    result = sanitize_work_html(html)
    assert result.removed == [], result.removed
    return result.html


def test_it_keeps_paragraphs_and_line_breaks() -> None:
    out = assert_kept("<p>One<br>two</p><p>Three</p><div>Four</div>")
    assert tag_names(out) == ["p", "br", "p", "div"]
    assert strip_tags(out) == "One\ntwo\n\nThree\n\nFour"


@pytest.mark.parametrize(
    "tag", ["em", "strong", "i", "b", "u", "small", "big", "cite", "abbr", "dfn", "q", "code", "kbd", "samp", "var", "tt"]
)
def test_it_keeps_emphasis(tag: str) -> None:
    assert tag_names(assert_kept(f"<p>a <{tag}>b</{tag}> c</p>")) == ["p", tag]


@pytest.mark.parametrize("tag", ["s", "strike", "del", "ins"])
def test_it_keeps_strike_through_and_edits(tag: str) -> None:
    assert tag_names(assert_kept(f"<p><{tag}>gone</{tag}></p>")) == ["p", tag]


def test_it_keeps_subscripts_and_superscripts() -> None:
    assert tag_names(assert_kept("<p>H<sub>2</sub>O, E=mc<sup>2</sup></p>")) == ["p", "sub", "sup"]


@pytest.mark.parametrize("level", range(1, 7))
def test_it_keeps_headings(level: int) -> None:
    assert tag_names(assert_kept(f"<h{level}>Chapter One</h{level}>")) == [f"h{level}"]


def test_it_keeps_lists_with_their_attributes() -> None:
    out = assert_kept(
        '<ul type="square"><li>a</li></ul><ol start="3" reversed><li>b</li></ol><dl><dt>term</dt><dd>def</dd></dl>'
    )
    assert tag_names(out) == ["ul", "li", "ol", "li", "dl", "dt", "dd"]
    assert dict(parsed_tags(out))["ol"]["start"] == "3"


def test_it_keeps_blockquotes_with_http_citations() -> None:
    out = assert_kept('<blockquote cite="https://example.org/src"><p>Quoted</p></blockquote>')
    assert parsed_tags(out)[0] == ("blockquote", {"cite": "https://example.org/src"})


def test_it_keeps_horizontal_rules_and_preformatted_text() -> None:
    out = assert_kept("<p>before</p><hr><pre>  indented\n    code</pre>")
    assert tag_names(out) == ["p", "hr", "pre"]
    assert "  indented\n    code" in out


def test_it_keeps_tables_with_harmless_attributes() -> None:
    html = (
        '<table summary="chat log" border="1" align="center"><caption>Texts</caption>'
        '<colgroup span="2"><col width="50"></colgroup>'
        '<thead><tr><th scope="col">Who</th><th>What</th></tr></thead>'
        '<tbody><tr><td rowspan="2">Kim</td><td colspan="1">hi</td></tr></tbody>'
        "<tfoot><tr><td>end</td></tr></tfoot></table>"
    )
    out = assert_kept(html)
    tags = dict(parsed_tags(out))
    assert tags["table"] == {"summary": "chat log", "border": "1", "align": "center"}
    assert [attrs for tag, attrs in parsed_tags(out) if tag == "td"][0] == {"rowspan": "2"}
    assert {"caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td"} <= set(tags)


def test_it_forces_nofollow_noopener_on_links() -> None:
    out = assert_kept('<p><a href="https://example.org/" title="t">link</a></p>')
    assert parsed_tags(out)[1] == (
        "a",
        {"href": "https://example.org/", "title": "t", "rel": "nofollow noopener"},
    )


def test_it_replaces_an_authors_own_rel_without_reporting_it() -> None:
    result = sanitize_work_html('<a href="http://example.org" rel="opener">x</a>')
    assert parsed_tags(result.html)[0][1]["rel"] == "nofollow noopener"
    assert result.removed == []


def test_it_keeps_mailto_links() -> None:
    out = assert_kept('<a href="mailto:author@example.org">mail me</a>')
    assert parsed_tags(out)[0][1]["href"] == "mailto:author@example.org"


def test_it_keeps_relative_links_and_footnote_anchors() -> None:
    out = assert_kept('<a href="/works/12">next</a> <a href="#fn1">1</a> <a name="fn1">note</a>')
    assert [attrs.get("href") or attrs.get("name") for _, attrs in parsed_tags(out)] == ["/works/12", "#fn1", "fn1"]


def test_it_keeps_images_with_alt_and_size() -> None:
    out = assert_kept('<img src="https://example.org/a.png" alt="A map" width="200" height="100" title="Map">')
    assert parsed_tags(out) == [
        ("img", {"src": "https://example.org/a.png", "alt": "A map", "width": "200", "height": "100", "title": "Map"})
    ]


def test_it_keeps_centering_and_direction() -> None:
    out = assert_kept('<center>* * *</center><p align="right" dir="rtl" lang="he">שלום</p>')
    assert parsed_tags(out) == [("center", {}), ("p", {"align": "right", "dir": "rtl", "lang": "he"})]


def test_it_keeps_furigana() -> None:
    assert tag_names(assert_kept("<ruby>漢<rp>(</rp><rt>かん</rt><rp>)</rp></ruby>")) == ["ruby", "rp", "rt", "rp"]


# ------------------------------------------------------------ what gets removed


def test_it_strips_script_tags_with_their_content() -> None:
    result = sanitize_work_html("<p>safe</p><script>alert('x')</script>")
    assert result.html == "<p>safe</p>"


def test_it_keeps_the_text_of_unknown_tags() -> None:
    assert sanitize_work_html('<font color="red">red words</font>').html == "red words"


def test_it_strips_class_attributes_so_site_styles_cannot_be_borrowed() -> None:
    result = sanitize_work_html('<p class="flash error">Your account is locked</p>')
    assert result.html == "<p>Your account is locked</p>"
    assert result.removed == ["class attribute on <p>"]


@pytest.mark.parametrize(
    "src",
    ["/static/logo.png", "//evil.example/a.png", "mailto:a@example.org", "data:image/png;base64,AAAA", ""],
)
def test_it_drops_image_sources_that_are_not_absolute_http(src: str) -> None:
    assert parsed_tags(sanitize_work_html(f'<img src="{src}" alt="x">').html) == [("img", {"alt": "x"})]


def test_it_reports_script_onclick_and_javascript_links() -> None:
    result = sanitize_work_html(
        '<p onclick="steal()">Hi</p><script>alert(1)</script><a href=" JavaScript:alert(1)">x</a>'
    )
    assert result.removed == ["onclick attribute on <p>", "<script> element", "javascript: link"]


def test_it_reports_each_removal_once() -> None:
    result = sanitize_work_html("<p onclick=a>1</p><p onclick=b>2</p><script></script><script></script>")
    assert result.removed == ["onclick attribute on <p>", "<script> element"]


def test_it_reports_image_sources_it_drops() -> None:
    result = sanitize_work_html('<img src="data:image/png;base64,AA"><img src="/a.png"><img src="mailto:x">')
    assert result.removed == ["data: image source", "relative image source", "mailto: image source"]


def test_it_reports_style_and_html_comments() -> None:
    result = sanitize_work_html('<span style="color:red">a</span><!-- note to self -->')
    assert result.removed == ["style attribute on <span>", "HTML comment"]


def test_it_reports_a_dropped_element_but_not_its_insides() -> None:
    result = sanitize_work_html('<svg onload="x"><circle onclick="y"/></svg><p>after</p>')
    assert result.removed == ["<svg> element"]
    assert result.html == "<p>after</p>"


def test_it_reports_nothing_for_clean_input() -> None:
    assert sanitize_work_html("<p>Plain <em>prose</em> &amp; a <a href='https://x.example'>link</a>.</p>").removed == []


@pytest.mark.parametrize("html", ["<![foo[ x", "<![if !supportLists]>- <![endif]>item", "<![CDATA[<b>]]>", "<!ELEMENT br>"])
def test_it_survives_sgml_debris_that_trips_the_stdlib_parser(html: str) -> None:
    result = sanitize_work_html(html)
    assert executable_constructs(result.html) == []
    assert strip_tags(html) == strip_tags(result.html)


def test_it_returns_empty_for_empty_input() -> None:
    assert sanitize_work_html("") == Sanitized("", [])
    assert sanitize_comment_html("") == Sanitized("", [])


# --------------------------------------------------------------------- comments


def test_comment_allow_list_drops_images_tables_and_headings() -> None:
    result = sanitize_comment_html(
        '<h1>Loved it</h1><img src="https://example.org/a.png"><table><tr><td>cell</td></tr></table>'
    )
    assert tag_names(result.html) == ["br", "br"]
    assert {"<h1> element", "<img> element", "<table> element"} <= set(result.removed)


def test_comment_keeps_inline_formatting_quotes_and_links() -> None:
    html = (
        "<p><em>so</em> <strong>good</strong> <s>bad</s><sub>1</sub><sup>2</sup></p>"
        '<blockquote>line</blockquote><a href="https://x.example">x</a>'
    )
    result = sanitize_comment_html(html)
    assert result.removed == []
    assert tag_names(result.html) == ["p", "em", "strong", "s", "sub", "sup", "blockquote", "a"]
    assert parsed_tags(result.html)[-1][1]["rel"] == "nofollow noopener"


def test_comment_keeps_the_words_of_dropped_blocks_apart() -> None:
    result = sanitize_comment_html("<h2>Title</h2><ul><li>first</li><li>second</li></ul>")
    assert strip_tags(result.html) == "Title\nfirst\nsecond"


def test_comment_drops_anchor_names_and_alignment() -> None:
    result = sanitize_comment_html('<p align="center"><a name="x" href="#y">z</a></p>')
    assert parsed_tags(result.html) == [("p", {}), ("a", {"href": "#y", "rel": "nofollow noopener"})]


# --------------------------------------------------------------------- plain text


def test_strip_tags_decodes_entities_and_separates_paragraphs() -> None:
    html = "<p>Tom &amp; Jerry&nbsp;&mdash; &lt;3</p>\n\n<p>Second\n   line</p>"
    assert strip_tags(html) == "Tom & Jerry — <3\n\nSecond line"


def test_strip_tags_turns_br_into_newlines_and_keeps_inline_words_whole() -> None:
    assert strip_tags("<p>wo<em>rd</em><br>next<br><br>gap</p>") == "word\nnext\n\ngap"


def test_strip_tags_drops_script_and_style_text() -> None:
    assert strip_tags("<style>p{}</style><p>seen</p><script>hidden()</script>") == "seen"


def test_strip_tags_lays_out_lists_tables_and_scene_breaks() -> None:
    html = "<ul><li>a</li><li>b</li></ul><hr><ol start='2'><li>c</li></ol><table><tr><td>1</td><td>2</td></tr></table>"
    assert strip_tags(html) == "• a\n• b\n\n* * *\n\n2. c\n\n1\t2"


def test_strip_tags_preserves_preformatted_whitespace() -> None:
    assert strip_tags("<pre>\n  a\n    b</pre>") == "  a\n    b"


# ---------------------------------------------------------------- property tests

_SOUP_TAGS = sorted(WORK_TAGS) + [
    "script", "style", "svg", "math", "iframe", "object", "embed", "form", "base", "meta", "body", "noscript",
    "template", "textarea", "title", "xmp", "plaintext", "select", "option", "frameset", "frame", "marquee",
    "details", "video", "source", "input", "button", "mtext", "mglyph", "foreignObject", "desc", "font",
]  # fmt: skip
_SOUP_ATTRIBUTES = [
    "href", "src", "style", "onclick", "onerror", "onload", "class", "title", "alt", "cite", "name", "action",
    "formaction", "srcdoc", "xlink:href", "background", "dir", "lang", "align", "rel", "width", "colspan",
]  # fmt: skip
_SOUP_VALUES = [
    "javascript:alert(1)", " JaVa\tScRiPt:alert(1)", "jav&#x09;ascript:x", "&#106;avascript:x", "java\nscript:x",
    "vbscript:x", "data:text/html,<script>x</script>", "http://ok.example/", "https://ok.example/a.png",
    "/relative", "#frag", "mailto:a@b.example", "expression(alert(1))", "\"><script>alert(1)</script>", "",
]  # fmt: skip


def _attribute_text(name: str, value: str, quote: str) -> str:
    return f" {name}={quote}{value.replace(quote, '') if quote else value}{quote}"


# Pre-built so that drawing an attribute is one cheap choice: generating tag
# soup, not sanitizing it, is what dominates these tests' runtime.
_SOUP_ATTRIBUTE_TEXTS = sorted(
    {_attribute_text(name, value, quote) for name in _SOUP_ATTRIBUTES for value in _SOUP_VALUES for quote in ('"', "'", "")}
)
_START_TAG = st.tuples(
    st.sampled_from(_SOUP_TAGS + [tag.upper() for tag in _SOUP_TAGS]),
    st.lists(st.sampled_from(_SOUP_ATTRIBUTE_TEXTS), max_size=3),
    st.sampled_from(["", "/", " "]),
).map(lambda parts: f"<{parts[0]}{''.join(parts[1])}{parts[2]}>")
_END_TAG = st.sampled_from(_SOUP_TAGS).map(lambda name: f"</{name}>")
_TEXT = st.one_of(
    st.text(alphabet="ab <>&\"'=/;:#!-\n\t", max_size=8),
    st.sampled_from(["&lt;", "&amp;", "&#106;", "&nbsp;", "&#x3C;script&#x3E;", "&", "<", "</", "<!", "<?"]),
)
_MARKUP_DEBRIS = st.sampled_from(
    ["<!--", "-->", "<!-- x -->", "<![CDATA[", "]]>", "<![foo[", "<![if !x]>", "<!DOCTYPE html>", "<!ELEMENT x>", "<?xml ?>"]
)
TAG_SOUP = st.lists(st.one_of(_START_TAG, _END_TAG, _TEXT, _MARKUP_DEBRIS), max_size=25).map("".join)

_PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY_SETTINGS
@given(st.text())
def test_arbitrary_text_never_becomes_executable(text: str) -> None:
    assert executable_constructs(sanitize_work_html(text).html) == []


@_PROPERTY_SETTINGS
@given(TAG_SOUP)
def test_tag_soup_never_becomes_executable(soup: str) -> None:
    assert executable_constructs(sanitize_work_html(soup).html) == []
    assert executable_constructs(sanitize_comment_html(soup).html, COMMENT_TAGS) == []


@_PROPERTY_SETTINGS
@given(st.one_of(st.text(), TAG_SOUP))
@example("<H1><a><H1></a>")  # nested headings: one nh3 pass alone is not a fixed point
def test_sanitizing_twice_changes_nothing(html: str) -> None:
    once = sanitize_work_html(html).html
    assert sanitize_work_html(once).html == once


@_PROPERTY_SETTINGS
@given(st.one_of(st.text(), TAG_SOUP))
def test_sanitizing_a_comment_twice_changes_nothing(html: str) -> None:
    once = sanitize_comment_html(html).html
    assert sanitize_comment_html(once).html == once


@_PROPERTY_SETTINGS
@given(TAG_SOUP)
def test_sanitized_output_has_nothing_left_to_report(soup: str) -> None:
    assert sanitize_work_html(sanitize_work_html(soup).html).removed == []
