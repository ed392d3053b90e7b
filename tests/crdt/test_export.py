"""Markdown and HTML export of the ``default`` XmlFragment, on hand-built TipTap documents."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from content import build_template
from crdt import Document, ProtocolError, to_html, to_markdown
from crdt.export import MAX_DEPTH

# -- building documents ---------------------------------------------------------------------------

Marks = Mapping[str, object]


@dataclass
class El:
    tag: str
    children: list[El | Tx]
    attrs: dict[str, object] = field(default_factory=dict)


@dataclass
class Tx:
    runs: list[tuple[str, Marks]]


def el(tag: str, *children: El | Tx, **attrs: object) -> El:
    return El(tag, list(children), attrs)


def tx(*runs: str | tuple[str, Marks]) -> Tx:
    return Tx([(run, {}) if isinstance(run, str) else run for run in runs])


def p(*runs: str | tuple[str, Marks] | El) -> El:
    """A paragraph: strings and (text, marks) pairs become one XmlText, elements stay."""
    children: list[El | Tx] = []
    for run in runs:
        if isinstance(run, El):
            children.append(run)
        elif children and isinstance(children[-1], Tx):
            children[-1].runs.append((run, {}) if isinstance(run, str) else run)
        else:
            children.append(tx(run))
    return El("paragraph", children)


BOLD: Marks = {"bold": {}}
ITALIC: Marks = {"italic": {}}


def write(parent: XmlFragment | XmlElement, node: El | Tx) -> None:
    if isinstance(node, Tx):
        text = parent.children.append(XmlText())
        offset = 0
        for chunk, marks in node.runs:
            # Explicit attributes, even empty: the chunk has exactly these marks.
            text.insert(offset, chunk, dict(marks))
            offset += len(chunk)
        return
    element = parent.children.append(XmlElement(node.tag))
    for key, value in node.attrs.items():
        element.attributes[key] = value
    for child in node.children:
        write(element, child)


def build(*nodes: El | Tx, root: str = "default") -> bytes:
    doc: Doc[XmlFragment] = Doc()
    fragment = doc.get(root, type=XmlFragment)
    with doc.transaction():
        for node in nodes:
            write(fragment, node)
    return doc.get_update()


def md(*nodes: El | Tx) -> str:
    return to_markdown(build(*nodes))


def html(*nodes: El | Tx) -> str:
    return to_html(build(*nodes))


# -- sources --------------------------------------------------------------------------------------


def test_every_kind_of_source_gives_the_same_output() -> None:
    update = build(el("heading", tx("Title"), level=2), p("body"))
    document = Document([update])
    doc: Doc[XmlFragment] = Doc()
    doc.apply_update(update)
    fragment = doc.get("default", type=XmlFragment)
    expected = "## Title\n\nbody\n"
    for source in (update, document, document.ydoc, doc, fragment):
        assert to_markdown(source) == expected
        assert to_html(source) == "<h2>Title</h2>\n<p>body</p>\n"


def test_another_root() -> None:
    update = build(p("elsewhere"), root="notes")
    assert to_markdown(update) == ""
    assert to_markdown(update, root="notes") == "elsewhere\n"


def test_empty_documents() -> None:
    for source in (b"\x00\x00", Document(), build()):
        assert to_markdown(source) == ""
        assert to_html(source) == ""


def test_invalid_bytes_raise_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        to_markdown(b"\xff\xff\xff")
    with pytest.raises(ProtocolError):
        to_html(b"\x01")


# -- blocks ---------------------------------------------------------------------------------------


def test_headings() -> None:
    nodes = [el("heading", tx(f"H{level}"), level=level) for level in range(1, 7)]
    assert md(*nodes) == "\n\n".join(f"{'#' * n} H{n}" for n in range(1, 7)) + "\n"
    assert html(*nodes) == "".join(f"<h{n}>H{n}</h{n}>\n" for n in range(1, 7))


@pytest.mark.parametrize(
    ("level", "hashes"),
    [(2.0, "##"), ("3", "###"), (9, "######"), (0, "#"), ("x", "#"), (True, "#"), (None, "#")],
)
def test_heading_levels_as_other_editors_store_them(level: object, hashes: str) -> None:
    attrs = {} if level is None else {"level": level}
    assert md(el("heading", tx("T"), **attrs)) == f"{hashes} T\n"
    assert html(el("heading", tx("T"), **attrs)) == f"<h{len(hashes)}>T</h{len(hashes)}>\n"


def test_heading_from_a_javascript_client() -> None:
    # Yjs writes the integer 2; pycrdt reads every number back as a float.
    doc: Doc[XmlFragment] = Doc()
    heading = doc.get("default", type=XmlFragment).children.append(XmlElement("heading"))
    heading.attributes["level"] = 2
    assert isinstance(heading.attributes["level"], float)
    heading.children.append(XmlText("Two"))
    assert to_markdown(doc) == "## Two\n"


def test_paragraphs_and_hard_breaks() -> None:
    nodes = [p("one", el("hardBreak"), "two"), p(), p(el("hardBreak"), "three", el("hardBreak"))]
    assert md(*nodes) == "one\\\ntwo\n\nthree\n"
    assert html(*nodes) == "<p>one<br>two</p>\n<p></p>\n<p><br>three<br></p>\n"


def test_nested_lists_with_no_paragraph_first() -> None:
    innermost = el("bulletList", el("listItem", p("\n<")))
    nodes = [p("1"), el("bulletList", el("listItem", el("bulletList", el("listItem", innermost))))]
    # Not "- - -", which would read as a thematic break.
    assert md(*nodes) == "1\n\n- - - \\<\n"


def test_nested_bullet_lists() -> None:
    nodes = el(
        "bulletList",
        el("listItem", p("a"), el("bulletList", el("listItem", p("b")), el("listItem", p("c")))),
        el("listItem", p("d"), p("second paragraph")),
    )
    assert md(nodes) == "- a\n  - b\n  - c\n- d\n\n  second paragraph\n"
    assert html(nodes) == (
        "<ul>\n<li><p>a</p>\n<ul>\n<li><p>b</p></li>\n<li><p>c</p></li>\n</ul></li>\n"
        "<li><p>d</p>\n<p>second paragraph</p></li>\n</ul>\n"
    )


def test_ordered_lists() -> None:
    inner = el("orderedList", el("listItem", p("x")))
    nodes = el(
        "orderedList", el("listItem", p("first"), inner), el("listItem", p("second")), start=9
    )
    assert md(nodes) == "9. first\n   1. x\n10. second\n"
    assert html(nodes).startswith('<ol start="9">\n<li><p>first</p>\n<ol>\n<li><p>x</p></li>')


def test_task_lists() -> None:
    nodes = el(
        "taskList",
        el("taskItem", p("done"), checked=True),
        el("taskItem", p("to do"), checked=False),
    )
    assert md(nodes) == "- [x] done\n- [ ] to do\n"
    assert '<input type="checkbox" disabled checked> <p>done</p>' in html(nodes)


def test_blockquote() -> None:
    nodes = el("blockquote", p("a"), p("b"))
    assert md(nodes) == "> a\n>\n> b\n"
    assert html(nodes) == "<blockquote>\n<p>a</p>\n<p>b</p>\n</blockquote>\n"


def test_code_block() -> None:
    nodes = el("codeBlock", tx("print('```')\n<b>"), language="python")
    assert md(nodes) == "````python\nprint('```')\n<b>\n````\n"
    assert html(nodes) == (
        '<pre><code class="language-python">print(&#x27;```&#x27;)\n&lt;b&gt;</code></pre>\n'
    )


def test_code_block_language_is_checked() -> None:
    nodes = el("codeBlock", tx("x"), language='"><script>')
    assert md(nodes) == "```\nx\n```\n"
    assert html(nodes) == "<pre><code>x</code></pre>\n"


def test_horizontal_rule_and_image() -> None:
    nodes = [
        el("horizontalRule"),
        el("image", src="https://example.org/a chart.png", alt="a [chart]"),
    ]
    assert md(*nodes) == "---\n\n![a \\[chart\\]](https://example.org/a%20chart.png)\n"
    assert html(*nodes) == (
        '<hr>\n<p><img src="https://example.org/a chart.png" alt="a [chart]"></p>\n'
    )


# -- marks ----------------------------------------------------------------------------------------


def test_every_mark() -> None:
    nodes = p(
        "plain ",
        ("bold", BOLD),
        " ",
        ("it", ITALIC),
        " ",
        ("x = 1", {"code": {}}),
        " ",
        ("gone", {"strike": {}}),
        " ",
        ("site", {"link": {"href": "https://example.org/a b", "target": "_blank"}}),
        " ",
        ("under", {"underline": {}}),
    )
    assert (
        md(nodes)
        == "plain **bold** _it_ `x = 1` ~~gone~~ [site](https://example.org/a%20b) under\n"
    )
    assert html(nodes) == (
        "<p>plain <strong>bold</strong> <em>it</em> <code>x = 1</code> <s>gone</s> "
        '<a href="https://example.org/a b">site</a> <u>under</u></p>\n'
    )


def test_marks_nest_across_chunks() -> None:
    nodes = p(("a", BOLD), ("b", {"bold": {}, "italic": {}}), (" c", ITALIC), "d")
    assert md(nodes) == "**a*b*** *c*d\n"
    assert html(nodes) == "<p><strong>a<em>b</em></strong><em> c</em>d</p>\n"


def test_emphasis_inside_a_word_uses_asterisks() -> None:
    assert md(p("un", ("believ", ITALIC), "able")) == "un*believ*able\n"
    assert md(p(("Bold", BOLD), "face")) == "**Bold**face\n"


def test_spaces_move_outside_the_delimiters() -> None:
    assert md(p(("bold ", BOLD), "next")) == "**bold** next\n"
    assert md(p("a", (" ", BOLD), "b")) == "a b\n"
    assert md(p(("a", BOLD), (" ", BOLD), ("b", BOLD))) == "**a b**\n"


def test_code_mark_with_backticks() -> None:
    assert md(p(("a`b", {"code": {}}))) == "``a`b``\n"
    assert md(p(("`x`", {"code": {}}))) == "`` `x` ``\n"
    assert md(p(("*x*", {"bold": {}, "code": {}}))) == "**`*x*`**\n"


def test_unsafe_links_lose_their_address() -> None:
    for href in ("javascript:alert(1)", " JaVa\tScRiPt:alert(1)", "data:text/html,x", 3):
        nodes = p(("click", {"link": {"href": href}}))
        assert md(nodes) == "click\n"
        assert html(nodes) == "<p><a>click</a></p>\n"
    for href in ("/relative", "#anchor", "mailto:a@example.org", "HTTPS://EXAMPLE.ORG"):
        assert f'href="{href}"' in html(p(("ok", {"link": {"href": href}})))


def test_hashed_and_unknown_marks() -> None:
    # y-prosemirror stores a mark that may overlap itself as "name--<hash>".
    nodes = p(("c", {"bold--AbCd1234": {}}), ("d", {"comment--xYz9876+": {"id": 1}, "x": True}))
    assert md(nodes) == "**c**d\n"
    assert html(nodes) == "<p><strong>c</strong>d</p>\n"


def test_mark_values_other_editors_write() -> None:
    nodes = p(("t", {"bold": True, "italic": None, "strike": False}))
    assert md(nodes) == "**t**\n"


# -- tables ---------------------------------------------------------------------------------------


def cell(tag: str, text: str, **attrs: object) -> El:
    return el(tag, p(text), **attrs)


def test_table_with_header_row() -> None:
    nodes = el(
        "table",
        el("tableRow", cell("tableHeader", "Name"), cell("tableHeader", "Note")),
        el("tableRow", cell("tableCell", "a|b"), cell("tableCell", "x")),
        el("tableRow", cell("tableHeader", "Group", colspan=2)),
    )
    assert md(nodes) == ("| Name | Note |\n| --- | --- |\n| a\\|b | x |\n| Group |  |\n")
    assert html(nodes) == (
        "<table>\n<thead>\n<tr><th><p>Name</p></th><th><p>Note</p></th></tr>\n</thead>\n"
        "<tbody>\n<tr><td><p>a|b</p></td><td><p>x</p></td></tr>\n"
        '<tr><th colspan="2"><p>Group</p></th></tr>\n</tbody>\n</table>\n'
    )


def test_table_without_header_row_gets_an_empty_one() -> None:
    nodes = el("table", el("tableRow", cell("tableCell", "a"), cell("tableCell", "b")))
    assert md(nodes) == "|  |  |\n| --- | --- |\n| a | b |\n"
    assert "<thead>" not in html(nodes)


def test_table_rowspan_keeps_columns_aligned() -> None:
    nodes = el(
        "table",
        el("tableRow", cell("tableCell", "A", rowspan=2), cell("tableCell", "B")),
        el("tableRow", cell("tableCell", "C")),
    )
    assert md(nodes) == "|  |  |\n| --- | --- |\n| A | B |\n|  | C |\n"
    assert '<td rowspan="2"><p>A</p></td>' in html(nodes)


def test_table_cells_with_blocks_and_marks() -> None:
    nodes = el(
        "table",
        el(
            "tableRow",
            el(
                "tableCell",
                p(("bold", BOLD), el("hardBreak"), "line"),
                el("bulletList", el("listItem", p("i")), el("listItem", p("j"))),
                el("codeBlock", tx("a | b")),
            ),
        ),
    )
    assert md(nodes) == "|  |\n| --- |\n| **bold**<br>line<br>- i<br>- j<br>`a \\| b` |\n"


def test_table_spans_are_bounded() -> None:
    nodes = el("table", el("tableRow", cell("tableCell", "x", colspan=10**9, rowspan=10**9)))
    out = md(nodes)
    assert out.count("|") < 500
    assert 'colspan="100"' in html(nodes)


# -- unknown structures and escaping --------------------------------------------------------------


def test_unknown_nodes_render_their_content() -> None:
    nodes: list[El | Tx] = [
        el("callout", p("inside"), el("details", el("summary", tx("more")))),
        p("a ", el("mention", id="u1", label="ann"), el("weird", tx("z")), " b"),
        tx("loose ", ("text", BOLD)),
    ]
    assert md(*nodes) == "inside\n\nmore\n\na @annz b\n\nloose **text**\n"
    assert html(*nodes) == (
        "<p>inside</p>\n<p>more</p>\n<p>a @annz b</p>\n<p>loose <strong>text</strong></p>\n"
    )


def test_embeds_in_text_are_skipped() -> None:
    doc: Doc[XmlFragment] = Doc()
    paragraph = doc.get("default", type=XmlFragment).children.append(XmlElement("paragraph"))
    text = paragraph.children.append(XmlText("ab"))
    text.insert_embed(1, {"formula": "x"})
    assert to_markdown(doc) == "ab\n"


def test_deep_nesting_does_not_raise() -> None:
    doc: Doc[XmlFragment] = Doc()
    parent: XmlFragment | XmlElement = doc.get("default", type=XmlFragment)
    with doc.transaction():
        for _ in range(MAX_DEPTH * 4):
            parent = parent.children.append(XmlElement("blockquote"))
        parent.children.append(XmlElement("paragraph")).children.append(XmlText("bottom"))
    assert "bottom" in to_markdown(doc)
    assert "bottom" in to_html(doc)


def test_html_escapes_text_and_attributes() -> None:
    nodes = [
        p("<script>alert('x')</script> & \"q\""),
        p(("x", {"link": {"href": 'https://e.org/"><script>alert(1)</script>'}})),
        el("script", tx("alert(2)")),
        el("image", src="https://e.org/x.png", alt='"><script>'),
    ]
    out = html(*nodes)
    assert "<script" not in out
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;" in out
    assert 'href="https://e.org/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in out
    assert 'alt="&quot;&gt;&lt;script&gt;"' in out


def test_markdown_escapes_text() -> None:
    nodes = [
        p("*stars* and _under_ [x](y) <b> `tick` ~~s~~ \\ &amp; & a|b"),
        p("# not a heading"),
        p("1. not a list"),
        p("- nor this"),
        p("    not code"),
        p("line", el("hardBreak"), "+ still text"),
        el("heading", tx("Issue #")),
    ]
    assert md(*nodes) == (
        "\\*stars\\* and \\_under\\_ \\[x\\](y) \\<b\\> \\`tick\\` \\~\\~s\\~\\~ "
        "\\\\ \\&amp; & a\\|b"
        "\n\n\\# not a heading\n\n1\\. not a list\n\n\\- nor this\n\nnot code"
        "\n\nline\\\n\\+ still text\n\n# Issue \\#\n"
    )


def test_templates_export() -> None:
    markdown = to_markdown(build_template("assap-plan"))
    assert markdown.startswith("# Adapted Social Security strategy and Action Plan (ASSAP)")
    assert "\n### 4.2 Coverage-gap matrix\n" in markdown
    assert "| Branch | Formal private sector | Public sector |" in markdown
    assert "\n| Guarantee 2: basic income security for children |  |" in markdown
    assert "**Demography:** population" in markdown
    page = to_html(build_template("assap-plan"))
    assert page.count('<th colspan="8">') == 4
    assert page.count("<table>") == 8
    for name in ("training-course", "research-proposal"):
        assert to_markdown(build_template(name)).count("\n## ") >= 8


# -- never raises ---------------------------------------------------------------------------------

TAGS = [
    "paragraph",
    "heading",
    "bulletList",
    "orderedList",
    "taskList",
    "listItem",
    "taskItem",
    "blockquote",
    "codeBlock",
    "table",
    "tableRow",
    "tableHeader",
    "tableCell",
    "callout",
    "script",
]
ATOMS = ["hardBreak", "horizontalRule", "image", "mention"]
ALPHABET = "ab <>&\"'|*_`#\n-1.\\[]~!="
attr_values = st.one_of(
    st.integers(-3, 12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(ALPHABET, max_size=6),
    st.sampled_from(["javascript:x", "https://e.org/<x>", "2", "python"]),
    st.dictionaries(st.sampled_from(["a", "href"]), st.text(ALPHABET, max_size=4), max_size=2),
)
attrs = st.dictionaries(
    st.sampled_from(["level", "start", "colspan", "rowspan", "checked", "language", "src", "alt"]),
    attr_values,
    max_size=3,
)
mark_sets = st.dictionaries(
    st.sampled_from(["bold", "italic", "code", "strike", "underline", "link", "x--AbCd1234"]),
    st.one_of(
        st.just({}),
        st.fixed_dictionaries({"href": st.sampled_from(["https://e.org", "javascript:x", "a b"])}),
        st.just(True),
    ),
    max_size=3,
)
texts = st.builds(
    Tx,
    st.lists(
        st.tuples(st.text(ALPHABET, min_size=1, max_size=8), mark_sets), min_size=1, max_size=4
    ),
)
atoms = st.builds(lambda tag, a: El(tag, [], a), st.sampled_from(ATOMS), attrs)
trees = st.recursive(
    texts | atoms,
    lambda children: st.builds(
        lambda tag, kids, a: El(tag, kids, a),
        st.sampled_from(TAGS),
        st.lists(children, max_size=4),
        attrs,
    ),
    max_leaves=24,
)
HTML_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "input", "blockquote", "pre",
    "code", "hr", "br", "img", "table", "thead", "tbody", "tr", "th", "td", "strong", "em", "s",
    "u", "a", "mark", "sub", "sup",
}  # fmt: skip


def words(node: El | Tx) -> list[str]:
    if isinstance(node, Tx):
        return [w for chunk, _ in node.runs for w in re.findall(r"[ab]+", chunk)]
    return [w for child in node.children for w in words(child)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(trees, max_size=4))
def test_export_never_raises(nodes: list[El | Tx]) -> None:
    update = build(*nodes)
    markdown = to_markdown(update)
    page = to_html(update)
    assert isinstance(markdown, str)
    assert set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", page)) <= HTML_TAGS
    for node in nodes:
        for word in words(node):
            assert word in markdown
            assert word in page


# -- a CommonMark parser reads the Markdown back --------------------------------------------------


class Reader(HTMLParser):
    """Each non-space character of an HTML page with the formatting tags around it."""

    FORMATTING = frozenset({"strong", "em", "s", "code", "a"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.chars: list[tuple[str, frozenset[str]]] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in self.FORMATTING:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.FORMATTING and tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag)]

    def handle_data(self, data: str) -> None:
        self.chars.extend((c, frozenset(self.open)) for c in data if not c.isspace())


def read_back(page: str) -> list[tuple[str, frozenset[str]]]:
    reader = Reader()
    reader.feed(page)
    reader.close()
    return reader.chars


def commonmark(markdown: str) -> str:
    return str(MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown))


plain = st.builds(
    lambda chunks: Tx([(c, {}) for c in chunks]),
    st.lists(st.text(ALPHABET, min_size=1, max_size=10), min_size=1, max_size=3),
)


def blocks(children: st.SearchStrategy[El]) -> st.SearchStrategy[El]:
    items = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        st.builds(lambda kids: El("blockquote", kids), items),
        st.builds(lambda kids: El("bulletList", [El("listItem", kids)]), items),
        st.builds(lambda kids: El("orderedList", [El("listItem", kids)], {"start": 7}), items),
    )


textblocks = st.one_of(
    st.builds(lambda t: El("paragraph", [t]), plain),
    st.builds(lambda t, n: El("heading", [t], {"level": n}), plain, st.integers(1, 6)),
    st.builds(lambda t: El("codeBlock", [t]), plain),
    st.builds(
        lambda rows: El(
            "table",
            [
                El("tableRow", [El("tableCell", [El("paragraph", [t])]) for t in row])
                for row in rows
            ],
        ),
        st.lists(st.lists(plain, min_size=2, max_size=2), min_size=1, max_size=3),
    ),
)
documents = st.lists(st.recursive(textblocks, blocks, max_leaves=6), min_size=1, max_size=3)


def text_of(node: El | Tx) -> str:
    if isinstance(node, Tx):
        return "".join(chunk for chunk, _ in node.runs)
    return "".join(text_of(child) for child in node.children)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_commonmark_reads_back_every_character(nodes: list[El]) -> None:
    """Escaping holds: no text turns into structure, whatever its punctuation."""
    rendered = commonmark(to_markdown(build(*nodes)))
    expected = "".join("".join(text_of(node).split()) for node in nodes)
    assert "".join(c for c, _ in read_back(rendered)) == expected


MD_TAGS = {"bold": "strong", "italic": "em", "strike": "s", "code": "code", "link": "a"}


def mark_runs(
    words: st.SearchStrategy[str], names: list[str]
) -> st.SearchStrategy[list[tuple[str, Marks]]]:
    return st.lists(
        st.tuples(
            words,
            st.dictionaries(st.sampled_from(names), st.just({"href": "https://e.org"}), max_size=3),
        ),
        min_size=1,
        max_size=6,
    )


def assert_marks_read_back(runs: list[tuple[str, Marks]]) -> None:
    update = build(El("paragraph", [Tx(runs)]))
    markdown = to_markdown(update)
    expected = [
        (c, frozenset(MD_TAGS[name] for name in marks))
        for chunk, marks in runs
        for c in chunk
        if not c.isspace()
    ]
    assert read_back(commonmark(markdown)) == expected, markdown
    assert read_back(to_html(update)) == expected


@settings(max_examples=300, deadline=None)
@given(mark_runs(st.text("ab ", min_size=1, max_size=5).map(lambda w: f" {w} "), list(MD_TAGS)))
def test_commonmark_reads_back_every_mark(runs: list[tuple[str, Marks]]) -> None:
    assert_marks_read_back(runs)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.text("ab ", min_size=1, max_size=5), st.sampled_from([{}, BOLD, ITALIC])),
        min_size=1,
        max_size=6,
    )
)
def test_commonmark_reads_back_emphasis_inside_words(runs: list[tuple[str, Marks]]) -> None:
    """Bold or italic may start and end inside a word. (Markdown cannot nest two delimiters
    there reliably: ``a**~~b~~**`` is not strikethrough in bold.)"""
    assert_marks_read_back(runs)


def test_a_root_of_another_type_renders_empty() -> None:
    for root in (Map({"a": 1}), Text("hi"), Array([1])):
        doc: Doc[Map[int] | Text | Array[int]] = Doc({"default": root})
        update = doc.get_update()
        assert to_markdown(update) == ""
        assert to_html(update) == ""
