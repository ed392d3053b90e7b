"""The export's shared reader: what TipTap (y-prosemirror) stored in ``default``, as a plain tree.

Both renderers (:mod:`crdt.export.markdown`, :mod:`crdt.export.html`) start from the tree this
module reads, and share its helpers: attribute parsing, table rows, text content, and the check
that decides which link and image addresses a reader may follow (:func:`_safe_url`). Elements
nested deeper than :data:`MAX_DEPTH` are read as plain text, without recursion.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.document import Document

MAX_DEPTH: Final = 48
"""How deep elements are rendered with their structure; deeper ones become plain text."""

_MAX_SPAN: Final = 100
"""The largest ``colspan`` or ``rowspan`` honoured."""

_Source = bytes | Document | Doc[Any] | XmlFragment

# -- reading the tree -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Mark:
    name: str
    attrs: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Span:
    text: str
    marks: tuple[_Mark, ...] = ()


@dataclass(frozen=True, slots=True)
class _Text:
    spans: tuple[_Span, ...]


@dataclass(frozen=True, slots=True)
class _Element:
    tag: str
    attrs: Mapping[str, object]
    children: tuple[_Node, ...]


_Node = _Text | _Element

# y-prosemirror stores a mark that may overlap itself (a comment) as "name--<8 characters>".
_HASHED_MARK: Final = re.compile(r"(.*)--[a-zA-Z0-9+/=]{8}")


def _read_marks(attrs: Mapping[str, object] | None) -> tuple[_Mark, ...]:
    marks: list[_Mark] = []
    for key, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        hashed = _HASHED_MARK.fullmatch(key)
        name = hashed.group(1) if hashed else key
        marks.append(_Mark(name, dict(value) if isinstance(value, Mapping) else {}))
    return tuple(marks)


def _read_text(text: XmlText) -> _Text:
    return _Text(
        tuple(
            _Span(value, _read_marks(attrs))
            for value, attrs in text.diff()
            if isinstance(value, str) and value
        )
    )


def _plain(node: XmlElement | XmlFragment) -> str:
    """The text under ``node``, without recursion: hostile documents may nest deeply."""
    parts: list[str] = []
    stack: list[XmlElement | XmlFragment | XmlText] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, XmlText):
            parts.extend(span.text for span in _read_text(current).spans)
        else:
            stack.extend(reversed(list(current.children)))
    return " ".join(part for part in parts if part)


def _read_children(parent: XmlElement | XmlFragment, depth: int) -> tuple[_Node, ...]:
    nodes: list[_Node] = []
    for child in parent.children:
        if isinstance(child, XmlText):
            nodes.append(_read_text(child))
        elif depth >= MAX_DEPTH:
            nodes.append(_Text((_Span(_plain(child)),)))
        else:
            tag = (child.tag or "") if isinstance(child, XmlElement) else ""
            # XmlAttributesView.__iter__ is typed as returning an Iterable, not an Iterator.
            attrs = dict(child.attributes.__iter__()) if isinstance(child, XmlElement) else {}
            nodes.append(_Element(tag, attrs, _read_children(child, depth + 1)))
    return tuple(nodes)


def _read(source: _Source, root: str) -> tuple[_Node, ...]:
    if isinstance(source, XmlFragment):
        fragment = source
    else:
        if isinstance(source, bytes):
            doc = Document([source]).ydoc
        elif isinstance(source, Document):
            doc = source.ydoc
        else:
            doc = source
        fragment = doc.get(root, type=XmlFragment)
    with fragment.doc.transaction():
        return _read_children(fragment, 0)


# -- shared by both renderers: addresses, attributes, text ------------------------------------

_INLINE: Final = frozenset({"hardBreak", "image", "mention"})
_LISTS: Final = frozenset({"bulletList", "orderedList", "taskList"})
_SAFE_SCHEMES: Final = frozenset({"http", "https", "mailto"})
_IMAGE_SCHEMES: Final = frozenset({"http", "https"})
# What the WHATWG URL parser removes before it reads a scheme: C0 controls and spaces at
# either end, tabs and newlines anywhere. Nothing else: U+00A0 and the other Unicode spaces
# stay, and ``str.strip()`` (which removes them) must not decide what a browser reads.
_C0_OR_SPACE: Final = "".join(map(chr, range(0x21)))
_TAB_OR_NEWLINE: Final = re.compile(r"[\t\n\r]")
# Up to the first colon, when it comes before any "/", "?" or "#": the part a reader could
# take for a scheme.
_SCHEME_PART: Final = re.compile(r"([^:/?#]*):")
_MAX_DECODINGS: Final = 4


def _scheme_allowed(url: str, schemes: frozenset[str]) -> bool:
    """Whether ``url``, exactly as a browser will read it, is relative or of ``schemes``.

    Stricter than a browser on purpose: anything before a first colon that precedes ``/?#``
    must be an allowed scheme, so an address that some reader might take for another scheme
    ("\u00a0javascript:", "a b:c") is refused rather than guessed at.
    """
    cleaned = _TAB_OR_NEWLINE.sub("", url.strip(_C0_OR_SPACE))
    scheme = _SCHEME_PART.match(cleaned)
    return scheme is None or scheme.group(1).lower() in schemes


def _is_safe(url: str, schemes: frozenset[str]) -> bool:
    """Whether ``url`` is safe as written and after every HTML entity decoding a renderer may
    apply (CommonMark decodes entities in link destinations: ``javascript&#58;``)."""
    for _ in range(_MAX_DECODINGS):
        if not _scheme_allowed(url, schemes):
            return False
        decoded = html.unescape(url)
        if decoded == url:
            return True
        url = decoded
    # Still decoding after that many rounds: nobody writes a link like that in good faith.
    return False


def _safe_url(value: object, schemes: frozenset[str] = _SAFE_SCHEMES) -> str | None:
    """The address to emit for ``value``, or None if it is not one a reader may follow.

    The address is returned as a browser reads it (surrounding C0 controls and spaces, and
    tabs and newlines, removed), and the decision is made on exactly that string: relative,
    or of one of ``schemes``, however often its HTML entities are decoded.
    """
    if not isinstance(value, str):
        return None
    url = _TAB_OR_NEWLINE.sub("", value.strip(_C0_OR_SPACE))
    if not url or not _is_safe(url, schemes):
        return None
    return url


def _int_attr(attrs: Mapping[str, object], key: str, default: int, low: int, high: int) -> int:
    """An integer attribute: Yjs numbers read back as floats, some editors write strings."""
    value = attrs.get(key)
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdecimal():
        number = int(value.strip()[:12])
    return default if number is None else min(max(number, low), high)


def _text_content(nodes: Sequence[_Node]) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, _Text):
            parts.extend(span.text for span in node.spans)
        elif node.tag == "hardBreak":
            parts.append("\n")
        elif node.tag == "mention":
            parts.append(_mention(node))
        else:
            parts.append(_text_content(node.children))
    return "".join(parts)


def _mention(node: _Element) -> str:
    label = node.attrs.get("label") or node.attrs.get("id")
    return f"@{label}" if isinstance(label, str | int | float) else ""


def _checked(item: _Element) -> bool:
    checked = item.attrs.get("checked")
    return checked is True or checked == "true"


def _is_inline(nodes: Sequence[_Node]) -> bool:
    return all(isinstance(node, _Text) or node.tag in _INLINE for node in nodes)


def _ordered(marks: tuple[_Mark, ...], order: Mapping[str, int]) -> tuple[_Mark, ...]:
    return tuple(sorted((m for m in marks if m.name in order), key=lambda m: order[m.name]))


def _has_code(span: _Span) -> bool:
    return any(mark.name == "code" for mark in span.marks)


def _rows(table: _Element) -> Iterator[tuple[bool, list[tuple[_Element, int, int]]]]:
    """Each row as (all its cells are header cells, [(cell, colspan, rowspan)])."""
    for row in table.children:
        cells: list[_Element] = []
        children = row.children if isinstance(row, _Element) and row.tag == "tableRow" else (row,)
        for cell in children:
            if isinstance(cell, _Element) and cell.tag in {"tableCell", "tableHeader"}:
                cells.append(cell)
            else:
                cells.append(_Element("tableCell", {}, (cell,)))
        spans = [
            (
                cell,
                _int_attr(cell.attrs, "colspan", 1, 1, _MAX_SPAN),
                _int_attr(cell.attrs, "rowspan", 1, 1, _MAX_SPAN),
            )
            for cell in cells
        ]
        yield bool(cells) and all(cell.tag == "tableHeader" for cell in cells), spans
