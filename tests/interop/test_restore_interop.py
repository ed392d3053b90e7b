"""A restore update made in Python, applied by a real Yjs client (Node ``yjs``).

``tests/interop/restore.mjs`` loads the current document into a ``Y.Doc``, applies the update,
and prints its ``default`` fragment (``toString()``, ``toJSON()`` and the tree y-prosemirror
reads) next to the target's as the same Yjs reads it. It can also anchor a relative position
(a comment anchor) in a block before the update and resolve it after.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from typing import Any

import pytest
from pycrdt import Doc, Text, XmlFragment

from content import build_template
from crdt import Document, restore_update, to_markdown
from tests.crdt.test_blocks import (
    BOLD,
    EDITOR_CLIENT,
    UNCHANGED,
    edited_assap,
    merged,
    p,
    texts,
    write,
)
from tests.interop.node import HARNESS_DIR, scaled

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]

SCRIPT = HARNESS_DIR / "restore.mjs"


def restore_in_node(
    current: Document,
    target: Document,
    *,
    anchor: tuple[int, int] | None = None,
    text_roots: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Make the restore update in Python and apply it in Node; return what Node printed."""
    update = restore_update(current, target)
    request = {
        "current": base64.b64encode(current.full_state()).decode(),
        "update": base64.b64encode(update).decode(),
        "target": base64.b64encode(target.full_state()).decode(),
        "anchor": None if anchor is None else {"block": anchor[0], "offset": anchor[1]},
        "texts": list(text_roots),
    }
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(request).encode(),
        capture_output=True,
        cwd=HARNESS_DIR,
        timeout=scaled(30),
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    output: dict[str, Any] = json.loads(result.stdout)
    return output


def assert_same_fragment(output: dict[str, Any]) -> None:
    restored, target = output["restored"], output["target"]
    assert restored["string"] == target["string"]
    assert restored["json"] == target["json"]
    assert restored["tree"] == target["tree"]


@pytest.mark.parametrize(
    ("current_name", "target_name"),
    [("training-course", "research-proposal"), ("blank", "assap-plan"), ("assap-plan", "blank")],
)
def test_node_sees_the_target_after_a_restore_between_templates(
    current_name: str, target_name: str
) -> None:
    output = restore_in_node(
        Document([build_template(current_name)]), Document([build_template(target_name)])
    )
    assert_same_fragment(output)
    assert (output["target"]["string"] == "") == (target_name == "blank")


def test_node_sees_the_target_and_an_anchor_in_an_unchanged_block_survives() -> None:
    current, target, _ = edited_assap()
    assert to_markdown(current) != to_markdown(target)
    output = restore_in_node(current, target, anchor=(UNCHANGED, 2))
    assert_same_fragment(output)
    assert "XYZ" not in output["restored"]["string"]
    assert output["anchor"] == {"before": 2, "after": 2, "same_type": True}


def test_an_anchor_in_a_changed_block_goes_with_it() -> None:
    """The control for the test above: the check notices a replaced block."""
    current, target, _ = edited_assap()
    output = restore_in_node(current, target, anchor=(2, 4))
    assert_same_fragment(output)
    assert output["anchor"]["same_type"] is False


def test_node_sees_formatting_unicode_and_a_text_root_restored() -> None:
    target_doc: Doc[Any] = Doc(client_id=EDITOR_CLIENT + 1)
    root = target_doc.get("default", type=XmlFragment)
    with target_doc.transaction():
        write(root, p("héllo ", ("😀 bold", BOLD), " end"))
        write(root, p("second"))
    target_doc.get("notes", type=Text).insert(0, "notes 😀 here", {"italic": {}})
    target = Document([target_doc.get_update()])
    editor: Doc[Any] = Doc(client_id=EDITOR_CLIENT)
    editor.apply_update(target_doc.get_update())
    with editor.transaction():
        [text] = texts(editor.get("default", type=XmlFragment).children[0])
        text.format(0, 3, {"italic": {}})
        notes = editor.get("notes", type=Text)
        notes.insert(len("notes 😀".encode()), "X", {"bold": {}})
        del notes[0:1]
    current = Document()
    current.ydoc.get("notes", type=Text)
    current.apply_update(editor.get_update())
    output = restore_in_node(current, target, anchor=(1, 3), text_roots=("notes",))
    assert_same_fragment(output)
    assert output["anchor"] == {"before": 3, "after": 3, "same_type": True}

    def delta(view: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
        return merged([(op["insert"], op.get("attributes")) for op in view["texts"]["notes"]])

    assert delta(output["restored"]) == delta(output["target"])
    assert delta(output["target"]) == [("notes 😀 here", {"italic": {}})]
