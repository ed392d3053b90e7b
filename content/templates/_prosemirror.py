"""A small ProseMirror tree and how it is written into a Yjs document.

The tree is what :mod:`content.templates._markdown` reads out of a template file; :func:`write`
stores it in an ``XmlFragment`` the way TipTap's Collaboration extension (y-prosemirror) does,
so that an editor opens it as if a user had typed it:

- every node is an ``XmlElement`` named after its ProseMirror type: ``heading``, ``paragraph``,
  ``bulletList`` > ``listItem`` > ``paragraph``, ``table`` > ``tableRow`` > ``tableHeader`` |
  ``tableCell`` > ``paragraph``;
- node attributes are element attributes holding the JavaScript value: ``heading.level``,
  ``colspan`` and ``rowspan`` are numbers (a Yjs client reads ``2``, not ``"2"``; pycrdt reads
  every number back as a ``float``). y-prosemirror compares an element's attributes with the
  ProseMirror node's, defaults included, whenever it writes that node back: a table cell
  stored without ``colspan``/``rowspan`` gets ``colspan=1 rowspan=1`` written the first time
  someone types in it. So every cell carries both; attributes whose default is ``null``
  (``colwidth``) are left out, since y-prosemirror removes rather than writes those;
- the text of a textblock is one ``XmlText`` whose formatting attributes are the marks, each
  mapped to the mark's attributes: ``{"bold": {}}``, ``{"italic": {}}``;
- a document that has content ends with an empty paragraph: TipTap's StarterKit (its trailing
  node rule) appends one after a final table, so opening a template that ended with a table
  would write to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

__all__ = ["MARKS", "Node", "Run", "to_update"]

FRAGMENT: Final = "default"
"""The root ``XmlFragment`` TipTap's Collaboration extension edits unless told otherwise."""

CLIENT_ID: Final = 0x47455353
"""The client that writes every template ("GESS" in ASCII).

Fixed so that a template always encodes to the same bytes: applying it twice to a document is
a no-op the second time. A Yjs client that drew the same id renews it when it sees it used.
"""

MARKS: Final = ("bold", "italic")
"""The marks a template may use, in the order they are written."""


@dataclass(frozen=True, slots=True)
class Run:
    """Text with the same marks throughout."""

    text: str
    marks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Node:
    """A ProseMirror node: its type, attributes, child nodes and (for a textblock) its text."""

    tag: str
    attrs: tuple[tuple[str, int], ...] = ()
    children: tuple[Node, ...] = ()
    text: tuple[Run, ...] = ()


EMPTY_PARAGRAPH: Final = Node("paragraph")


def _write(parent: XmlFragment | XmlElement, node: Node) -> None:
    element = parent.children.append(XmlElement(node.tag))
    for key, value in node.attrs:
        element.attributes[key] = value
    if node.text:
        text = element.children.append(XmlText("".join(run.text for run in node.text)))
        # pycrdt counts positions in a text in UTF-8 bytes, not in characters.
        start = 0
        for run in node.text:
            end = start + len(run.text.encode())
            if run.marks:
                text.format(start, end, {mark: {} for mark in run.marks})
            start = end
    for child in node.children:
        _write(element, child)


def to_update(nodes: Sequence[Node]) -> bytes:
    """``nodes`` written into the fragment ``default`` of a new document, as one Yjs v1 update.

    A trailing empty paragraph is added when the last node is not one. The same nodes always
    give the same bytes.
    """
    doc: Doc[XmlFragment] = Doc(client_id=CLIENT_ID)
    fragment = doc.get(FRAGMENT, type=XmlFragment)
    blocks = list(nodes)
    if blocks and blocks[-1] != EMPTY_PARAGRAPH:
        blocks.append(EMPTY_PARAGRAPH)
    with doc.transaction():
        for node in blocks:
            _write(fragment, node)
    return doc.get_update()
