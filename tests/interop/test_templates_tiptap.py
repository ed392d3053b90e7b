"""Opening a template in TipTap writes nothing, and typing in a table cell writes only the text.

``tiptap_open.mjs`` opens each template with TipTap 3's own schema and plugins (StarterKit,
TableKit) and TipTap's Yjs binding code (``@tiptap/y-tiptap``), headless in Node, as the
Collaboration extension does in a browser: render the Y fragment, let the editor's rules run
(StarterKit's trailing node), write the result back. Then it types one character into the
first table cell.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
from typing import Any

import pytest

from content import TEMPLATES, build_template
from tests.interop.node import HARNESS_DIR, scaled

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]


async def _open_in_tiptap(update: bytes) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None
    process = await asyncio.create_subprocess_exec(
        node,
        str(HARNESS_DIR / "tiptap_open.mjs"),
        cwd=HARNESS_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(scaled(30)):
        out, err = await process.communicate(base64.b64encode(update))
    assert process.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.mark.parametrize("name", list(TEMPLATES))
async def test_opening_a_template_in_tiptap_writes_nothing(name: str):
    result = await _open_in_tiptap(build_template(name))
    assert result["valid"]
    assert result["opened"] == {"changes": [], "structs": 0, "inserted": "", "updates": 0}
    if TEMPLATES[name].kind != "blank":
        # One struct: the character. No attribute written on the cell.
        assert result["typed"] == {"changes": [], "structs": 1, "inserted": "x", "updates": 1}
