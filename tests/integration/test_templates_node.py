"""A real Yjs client (Node ``yjs``) reads every template as TipTap's Collaboration extension
would: element names, attribute values with their JavaScript types, and text with its marks.

``tests/interop/templates.mjs`` applies the update to a ``Y.Doc`` and prints the ``default``
XmlFragment as JSON, through the calls y-prosemirror makes (``nodeName``, ``getAttributes()``,
``toDelta()``).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from typing import Any

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from content import TEMPLATES, build_template
from tests.interop.node import HARNESS_DIR, scaled

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]

SCRIPT = HARNESS_DIR / "templates.mjs"

POPULATION_GROUPS = [
    "Formal private sector",
    "Public sector",
    "Self-employed and informal",
    "Rural",
    "Poor",
    "Persons with disabilities",
    "Migrants",
]


def read_in_node(update: bytes) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, str(SCRIPT)],
        input=base64.b64encode(update),
        capture_output=True,
        cwd=HARNESS_DIR,
        timeout=scaled(30),
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    fragment: list[dict[str, Any]] = json.loads(result.stdout)["default"]
    return fragment


def read_in_python(parent: XmlFragment | XmlElement) -> list[dict[str, Any]]:
    """The same JSON as templates.mjs prints, read with pycrdt."""
    nodes: list[dict[str, Any]] = []
    for child in parent.children:
        if isinstance(child, XmlText):
            delta = [
                {"insert": text, "attributes": attrs} if attrs else {"insert": text}
                for text, attrs in child.diff()
            ]
            nodes.append({"text": delta})
        else:
            assert isinstance(child, XmlElement)
            nodes.append(
                {
                    "element": child.tag,
                    "attributes": dict(child.attributes.__iter__()),
                    "children": read_in_python(child),
                }
            )
    return nodes


def text_of(node: dict[str, Any]) -> str:
    if "text" in node:
        return "".join(chunk["insert"] for chunk in node["text"])
    return "".join(text_of(child) for child in node["children"])


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_node_reads_what_python_wrote(name: str) -> None:
    update = build_template(name)
    doc: Doc[XmlFragment] = Doc()
    doc.apply_update(update)
    # Numbers compare equal across the two (pycrdt reads 2.0 where JavaScript reads 2).
    assert read_in_node(update) == read_in_python(doc.get("default", type=XmlFragment))


def test_node_sees_numeric_heading_levels_and_empty_mark_objects() -> None:
    fragment = read_in_node(build_template("assap-plan"))
    headings = [node for node in fragment if node["element"] == "heading"]
    assert headings, "no headings"
    for heading in headings:
        assert set(heading["attributes"]) == {"level"}
        level = heading["attributes"]["level"]
        assert type(level) is int, f"Yjs reads level {level!r}: TipTap's heading wants a number"
        assert level in {1, 2, 3}
    assert [text_of(h) for h in headings if h["attributes"]["level"] == 3] == [
        "4.1 Scheme inventory",
        "4.2 Coverage-gap matrix",
        "4.3 Lessons from past extension",
    ]
    assert [text_of(h) for h in headings if h["attributes"]["level"] == 2][-1] == (
        "12 Communication and risks"
    )
    marks = [
        chunk["attributes"]
        for node in fragment
        if node["element"] == "paragraph"
        for child in node["children"]
        for chunk in child["text"]
        if "attributes" in chunk
    ]
    assert {"bold": {}} in marks
    assert {"italic": {}} in marks


def test_node_sees_the_coverage_gap_matrix() -> None:
    fragment = read_in_node(build_template("assap-plan"))
    start = next(i for i, node in enumerate(fragment) if text_of(node) == "4.2 Coverage-gap matrix")
    table = next(node for node in fragment[start:] if node["element"] == "table")
    rows = [row["children"] for row in table["children"]]
    assert all(row["element"] == "tableRow" for row in table["children"])

    assert [cell["element"] for cell in rows[0]] == ["tableHeader"] * 8
    assert [text_of(cell) for cell in rows[0][1:]] == POPULATION_GROUPS

    groups = [row for row in rows[1:] if len(row) == 1]
    branches = [row for row in rows[1:] if len(row) == 8]
    assert len(groups) == 4 and len(branches) == 10 and len(rows) == 15
    for (cell,) in groups:
        assert cell["element"] == "tableHeader"
        assert cell["attributes"] == {"colspan": 8, "rowspan": 1}
        assert type(cell["attributes"]["colspan"]) is int
        assert text_of(cell).startswith("Guarantee ")
    for row in branches:
        assert row[0]["element"] == "tableHeader"
        assert all(cell["element"] == "tableCell" for cell in row[1:])
        for cell in row[1:]:
            assert cell["children"] == [{"element": "paragraph", "attributes": {}, "children": []}]
