"""Comment anchors agree with Node ``yjs``, both ways, without a server.

``tests/interop/anchors.mjs`` runs a ``Y.Doc``: it builds text, makes anchors with
``Y.createRelativePositionFromTypeIndex`` + ``Y.encodeRelativePosition``, edits, and resolves
anchors with ``Y.createAbsolutePositionFromRelativePosition``. Python reads the same updates
with :mod:`crdt.anchors`. Indexes are UTF-16 code units on both sides; every document has an
emoji before the anchored word.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from typing import Any

import pytest
from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

from crdt import Anchor, AnchorError, Document, Resolved, anchor_range, quote, resolve
from tests.interop.node import HARNESS_DIR, scaled

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]

SCRIPT = HARNESS_DIR / "anchors.mjs"
ROOT: dict[str, Any] = {"root": "text"}
PARAGRAPH: dict[str, Any] = {"paragraph": 1}


def run_node(update: bytes | None, ops: list[dict[str, Any]]) -> list[Any]:
    """Run ``ops`` in a fresh Node ``Y.Doc`` started from ``update``; their results."""
    node = shutil.which("node")
    assert node is not None
    payload = {"update": base64.b64encode(update).decode() if update else None, "ops": ops}
    result = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(payload).encode(),
        capture_output=True,
        cwd=HARNESS_DIR,
        timeout=scaled(30),
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    results: list[Any] = json.loads(result.stdout)["results"]
    return results


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, index: int, length: int) -> str:
    raw = text.encode("utf-16-le")
    return raw[2 * index : 2 * (index + length)].decode("utf-16-le")


def as_resolved(result: dict[str, int] | None) -> Resolved:
    if result is None:
        return Resolved(None, None, True)
    return Resolved(result["index"], result["length"], False)


def python_type(document: Document, target: dict[str, Any]) -> Text | XmlText:
    if "root" in target:
        root = document.ydoc.get(target["root"], type=Text)
        assert isinstance(root, Text)
        return root
    paragraph = document.ydoc.get("default", type=XmlFragment).children[target["paragraph"]]
    assert isinstance(paragraph, XmlElement)
    text = paragraph.children[0]
    assert isinstance(text, XmlText)
    return text


BUILD: list[dict[str, Any]] = [
    {"op": "paragraph", "text": "Title 🎉"},
    {"op": "paragraph", "text": "A 😀 plan for the quick extension of cover"},
    {"op": "insert", "target": ROOT, "index": 0, "text": "a😀b quick fox"},
]


def make_anchor(target: dict[str, Any], index: int, length: int) -> tuple[Anchor, bytes]:
    """Node builds the document and anchors ``[index, index + length)`` of ``target``."""
    made, update = run_node(
        None,
        [
            *BUILD,
            {"op": "anchor", "target": target, "index": index, "length": length},
            {"op": "update"},
        ],
    )[len(BUILD) :]
    return Anchor.from_base64(made["start"], made["end"]), base64.b64decode(update)


def node_resolve(anchor: Anchor) -> dict[str, Any]:
    start, end = anchor.to_base64()
    return {"op": "resolve", "start": start, "end": end}


@pytest.mark.parametrize(("target", "before"), [(ROOT, "a😀b "), (PARAGRAPH, "A 😀 plan for the ")])
def test_an_anchor_made_in_node_resolves_the_same_in_python(
    target: dict[str, Any], before: str
) -> None:
    start = utf16(before)
    anchor, update0 = make_anchor(target, start, 5)
    original = Document([update0])

    # Python makes the same bytes as Node for the same range, and reads the same word.
    assert anchor_range(python_type(original, target), start, 5) == anchor
    assert resolve(original, anchor) == Resolved(start, 5, False)
    quoted = quote(original, anchor)
    assert quoted == "quick"

    shifted = start + utf16("🎈 very ") - 2
    *_, update1, node_after, text_after = run_node(
        update0,
        [
            {"op": "insert", "target": target, "index": 0, "text": "🎈 very "},
            {
                "op": "insert",
                "target": target,
                "index": start + utf16("🎈 very ") + 2,
                "text": "ii",
            },
            {"op": "delete", "target": target, "index": 2, "length": 2},
            {"op": "delete", "target": target, "index": shifted + 2, "length": 1},
            {"op": "update"},
            node_resolve(anchor),
            {"op": "text", "target": target},
        ],
    )
    moved = as_resolved(node_after)
    assert moved == Resolved(shifted, 6, False)
    edited = Document([base64.b64decode(update1)])
    assert resolve(edited, anchor) == moved
    assert quote(edited, anchor) == utf16_slice(text_after, shifted, 6) == "quiick"

    *_, update2, node_gone = run_node(
        base64.b64decode(update1),
        [
            {"op": "delete", "target": target, "index": shifted, "length": 6},
            {"op": "update"},
            node_resolve(anchor),
        ],
    )
    assert node_gone is None
    gone = Document([base64.b64decode(update2)])
    assert resolve(gone, anchor) == Resolved(None, None, True)
    with pytest.raises(AnchorError):
        quote(gone, anchor)
    assert quoted == "quick"  # what a detached thread shows, taken at creation


def test_deleting_the_paragraph_detaches_its_anchors() -> None:
    anchor, update0 = make_anchor(PARAGRAPH, utf16("A 😀 plan for the "), 5)
    update1, node_gone = run_node(
        update0,
        [{"op": "delete_paragraph", "paragraph": 1}, {"op": "update"}, node_resolve(anchor)],
    )[1:]
    assert node_gone is None
    assert resolve(Document([base64.b64decode(update1)]), anchor).detached


def build_in_python() -> tuple[Doc[Any], Text, XmlText]:
    doc: Doc[Any] = Doc()
    text = doc.get("text", type=Text)
    text += "🎉 hello world"
    fragment = doc.get("default", type=XmlFragment)
    fragment.children.append(XmlElement("paragraph", contents=[XmlText("Title")]))
    paragraph = fragment.children.append(
        XmlElement("paragraph", contents=[XmlText("é😀 alpha beta")])
    )
    body = paragraph.children[0]
    assert isinstance(body, XmlText)
    return doc, text, body


@pytest.mark.parametrize(
    ("target", "before", "word"), [(ROOT, "🎉 hello ", "world"), (PARAGRAPH, "é😀 alpha ", "beta")]
)
def test_an_anchor_made_in_python_resolves_the_same_in_node(
    target: dict[str, Any], before: str, word: str
) -> None:
    doc, text, body = build_in_python()
    start = utf16(before)
    anchor = anchor_range(text if target is ROOT else body, start, len(word))
    update0 = doc.get_update()
    assert quote(Document([update0]), anchor) == word

    shifted = start + utf16("💡💡 ")
    results = run_node(
        update0,
        [
            node_resolve(anchor),
            {"op": "insert", "target": target, "index": 0, "text": "💡💡 "},
            {"op": "insert", "target": target, "index": shifted + 1, "text": "😀"},
            {"op": "insert", "target": target, "index": shifted + 3 + len(word), "text": "!"},
            {"op": "update"},
            node_resolve(anchor),
            {"op": "text", "target": target},
        ],
    )
    at_start, *_, update1, node_after, text_after = results
    assert as_resolved(at_start) == Resolved(start, len(word), False)
    moved = as_resolved(node_after)
    assert moved == Resolved(shifted, len(word) + 2, False)
    edited = Document([base64.b64decode(update1)])
    assert resolve(edited, anchor) == moved
    assert quote(edited, anchor) == utf16_slice(text_after, shifted, len(word) + 2)
    assert quote(edited, anchor) == word[0] + "😀" + word[1:]

    *_, update2, node_gone = run_node(
        base64.b64decode(update1),
        [
            {"op": "delete", "target": target, "index": shifted - 1, "length": len(word) + 3},
            {"op": "update"},
            node_resolve(anchor),
        ],
    )
    assert node_gone is None
    assert resolve(Document([base64.b64decode(update2)]), anchor).detached
