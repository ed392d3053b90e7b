"""Helpers of the comment tests: anchors into a template's text, threads made over REST.

Templates are deterministic (the same update bytes every time), so an anchor made here over
a fresh copy of the ASSAP template points at the same items as the server's copy.
"""

from __future__ import annotations

from typing import Any

from pycrdt import XmlFragment, XmlText

from content import build_template
from crdt import Document
from crdt.anchors import anchor_range
from tests.api.support import Team

__all__ = ["TEMPLATE", "TITLE", "heading_anchor", "new_thread", "template_document"]

TEMPLATE = "assap-plan"
TITLE = "Adapted Social Security strategy and Action Plan (ASSAP)"
"""The text of the template's first heading."""


def heading_anchor(word: str = "Social Security", template: str = TEMPLATE) -> dict[str, str]:
    """An anchor (as the API takes it) over ``word`` in the first heading of the template."""
    document = Document([build_template(template)])
    fragment = document.ydoc.get("default", type=XmlFragment)
    heading = list(fragment.children)[0]
    text = list(heading.children)[0]
    assert isinstance(text, XmlText)
    index = str(text).index(word)
    start, end = anchor_range(text, index, len(word)).to_base64()
    return {"start": start, "end": end}


async def template_document(team: Team) -> dict[str, str]:
    """A workspace of the team and an ASSAP plan in it."""
    workspace = await team.workspace()
    return {"w": workspace, "d": await team.document(workspace, template=TEMPLATE)}


async def new_thread(
    team: Team, document_id: str, who: str = "owner", body: str = "Which scheme?"
) -> dict[str, Any]:
    """A thread over "Social Security" in the document's first heading, opened by ``who``."""
    thread: dict[str, Any] = await team.api(who).ok(
        "POST",
        f"/api/documents/{document_id}/threads",
        {"anchor": heading_anchor(), "body": body},
        status=201,
    )
    return thread
