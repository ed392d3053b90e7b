"""The template files: what the Markdown convention turns into, and what it refuses."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path, PurePosixPath

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from content import TEMPLATES, Template, TemplateFileError, build_template
from content.templates import _load
from content.templates._markdown import parse
from content.templates._prosemirror import Node, Run, to_update
from crdt import EMPTY_UPDATE

ENGLISH_DIGESTS = {
    "blank": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "assap-plan": "c3af82e59bdee731572eed33d2c53c7858cddfde0211a098895927609c086a96",
    "training-course": "f4ecdf213f554c58bc7e8722a00107641ea4ec57714fb74bac3c34435c98ad71",
    "research-proposal": "f198580c6b7bad21a448879b48f5a4d8aad87ef339fca348cb4a558b30c2156c",
}
"""SHA-256 of each English template's update as the Python-built templates wrote it, before
the text moved into data files: the files must give exactly the same document."""


@pytest.mark.parametrize("name", list(ENGLISH_DIGESTS))
def test_english_templates_are_byte_for_byte_what_they_were(name: str) -> None:
    update = build_template(name)
    assert hashlib.sha256(update).hexdigest() == ENGLISH_DIGESTS[name]


# -- the Markdown convention ----------------------------------------------------------------------

FRONT = '+++\ntitle = "T"\ndescription = "D"\n+++\n'


def nodes(markdown: str) -> tuple[Node, ...]:
    parsed = parse(FRONT + markdown, "xx/test.md")
    assert (parsed.title, parsed.description) == ("T", "D")
    return parsed.nodes


def cell(tag: str, *runs: Run, colspan: int = 1) -> Node:
    return Node(tag, (("colspan", colspan), ("rowspan", 1)), (Node("paragraph", text=runs),))


def test_blocks_marks_and_line_breaks() -> None:
    assert nodes(
        "## Two\n\n**Label:** text that goes\non, *with **both** marks*\n\n- one\n-\n"
    ) == (
        Node("heading", (("level", 2),), text=(Run("Two"),)),
        Node(
            "paragraph",
            text=(
                Run("Label:", ("bold",)),
                Run(" text that goes on, "),
                Run("with ", ("italic",)),
                Run("both", ("bold", "italic")),
                Run(" marks", ("italic",)),
            ),
        ),
        Node(
            "bulletList",
            children=(
                Node("listItem", children=(Node("paragraph", text=(Run("one"),)),)),
                Node("listItem", children=(Node("paragraph"),)),
            ),
        ),
    )


def test_tables_header_cells_and_spans() -> None:
    (table,) = nodes(
        "| A | B | C |\n| --- | --- | --- |\n| **Group** | < | < |\n| **Row** | *x* | |\n"
    )
    assert table == Node(
        "table",
        children=(
            Node("tableRow", children=tuple(cell("tableHeader", Run(t)) for t in "ABC")),
            Node("tableRow", children=(cell("tableHeader", Run("Group"), colspan=3),)),
            Node(
                "tableRow",
                children=(
                    cell("tableHeader", Run("Row")),
                    cell("tableCell", Run("x", ("italic",))),
                    cell("tableCell"),
                ),
            ),
        ),
    )


def test_a_document_ends_with_one_empty_paragraph() -> None:
    doc: Doc[XmlFragment] = Doc()
    doc.apply_update(to_update(nodes("| A |\n| --- |\n")))
    last = list(doc.get("default", type=XmlFragment).children)[-1]
    assert isinstance(last, XmlElement) and last.tag == "paragraph"
    assert not list(last.children)
    assert to_update(()) == EMPTY_UPDATE


@pytest.mark.parametrize(
    ("markdown", "what", "line"),
    [
        ("text\n\n1. first\n", "ordered list", 7),
        ("> quoted\n", "blockquote", 5),
        ("```\ncode\n```\n", "fence", 5),
        ("a [link](http://example.org)\n", "link", 5),
        ("\n\nan `x`\n", "code inline", 7),
        ("<b>html</b>\n", None, None),
        ("| A |\n| --- |\n| < |\n", "cannot start with '<'", 7),
        ("line  \nbreak\n", "hardbreak", 5),
        ("- - nested at once\n", "a list item starts with a line of text", 5),
    ],
)
def test_what_a_template_cannot_hold_is_refused_with_its_line(
    markdown: str, what: str | None, line: int | None
) -> None:
    if what is None:
        # HTML is off: it stays text, so nothing an author wrote is lost or run.
        (paragraph,) = nodes(markdown)
        assert paragraph.text == (Run("<b>html</b>"),)
        return
    with pytest.raises(TemplateFileError, match=f"xx/test.md, line {line}: .*{what}"):
        nodes(markdown)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# No front matter\n", "line 1: a template starts with '\\+\\+\\+'"),
        ("+++\ntitle = 'T'\n", "no closing"),
        ("+++\ntitle = \n+++\n", "not valid TOML"),
        ("+++\ntitle = 'T'\n+++\n", "needs a description"),
        (
            "+++\ntitle = 'T'\ndescription = 'D'\nlang = 'x'\n+++\n",
            "unknown front matter keys lang",
        ),
    ],
)
def test_a_bad_front_matter_is_refused(text: str, message: str) -> None:
    with pytest.raises(TemplateFileError, match=f"^xx/test.md.*{message}"):
        parse(text, "xx/test.md")


def write_catalog(folder: Path, languages: list[str], templates: list[str]) -> None:
    (folder / "catalog.toml").write_text(f"languages = {languages!r}\ntemplates = {templates!r}\n")
    for language in languages:
        (folder / language).mkdir()
        for template in templates:
            (folder / language / f"{template}.md").write_text(FRONT.replace("T", language))


def test_the_catalog_names_every_template_in_every_language(tmp_path: Path) -> None:
    write_catalog(tmp_path, ["en", "fr"], ["a", "b"])
    languages, found = _load(tmp_path)
    assert languages == ("en", "fr")
    assert list(found) == ["a", "b", "a-fr", "b-fr"]
    assert found["b-fr"][0] == Template("b-fr", "fr", "D", "fr", "b")


def test_a_missing_translation_is_an_error(tmp_path: Path) -> None:
    write_catalog(tmp_path, ["en", "fr"], ["a", "b"])
    (tmp_path / "fr" / "b.md").unlink()
    with pytest.raises(TemplateFileError, match="fr/b.md: missing"):
        _load(tmp_path)


def test_a_file_outside_the_catalog_is_an_error(tmp_path: Path) -> None:
    write_catalog(tmp_path, ["en"], ["a"])
    (tmp_path / "en" / "c.md").write_text(FRONT)
    with pytest.raises(TemplateFileError, match="en/: c.md not listed in catalog.toml"):
        _load(tmp_path)


def test_marks_land_on_their_characters_after_accents_and_emoji() -> None:
    doc: Doc[XmlFragment] = Doc()
    doc.apply_update(to_update(nodes("Dépenses 😀 *santé* et **financement**…\n")))
    paragraph = list(doc.get("default", type=XmlFragment).children)[0]
    assert isinstance(paragraph, XmlElement)
    (text,) = list(paragraph.children)
    assert isinstance(text, XmlText)
    assert [(chunk, dict(marks or {})) for chunk, marks in text.diff()] == [
        ("Dépenses 😀 ", {}),
        ("santé", {"italic": {}}),
        (" et ", {}),
        ("financement", {"bold": {}}),
        ("…", {}),
    ]


def test_the_wheel_ships_every_file_the_loader_reads() -> None:
    root = Path(__file__).parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["content"]
    folder = root / "content"
    read = [folder / "templates" / "catalog.toml"] + [
        folder / "templates" / t.language / f"{t.kind}.md" for t in TEMPLATES.values()
    ]
    for path in read:
        assert path.is_file()
        relative = PurePosixPath(path.relative_to(folder).as_posix())
        assert any(relative.match(glob) for glob in globs), relative
