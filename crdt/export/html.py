"""HTML export: the reader's tree rendered as an HTML fragment, every text and attribute escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Final

from crdt.export._inline import _MarkFormat, _Piece, _render_inline
from crdt.export._reader import (
    _IMAGE_SCHEMES,
    _INLINE,
    _LISTS,
    _checked,
    _Element,
    _has_code,
    _int_attr,
    _is_inline,
    _Mark,
    _Node,
    _ordered,
    _read,
    _rows,
    _safe_url,
    _Source,
    _Span,
    _Text,
    _text_content,
)

__all__ = ["to_html"]

_HTML_TAGS: Final = {
    "link": "a",
    "bold": "strong",
    "italic": "em",
    "strike": "s",
    "underline": "u",
    "highlight": "mark",
    "subscript": "sub",
    "superscript": "sup",
}
_HTML_ORDER: Final = {name: order for order, name in enumerate(_HTML_TAGS)}


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _html_delimiters(mark: _Mark, _before: str, _after: str) -> tuple[str, str]:
    tag = _HTML_TAGS[mark.name]
    if mark.name != "link":
        return f"<{tag}>", f"</{tag}>"
    href = _safe_url(mark.attrs.get("href"))
    return (f'<a href="{_esc(href)}">' if href else "<a>"), "</a>"


def _html_text(span: _Span) -> str:
    text = _esc(span.text)
    return f"<code>{text}</code>" if _has_code(span) else text


_HTML_INLINE: Final = _MarkFormat(
    marks=lambda marks: _ordered(marks, _HTML_ORDER),
    delimiters=_html_delimiters,
    text=_html_text,
    hoist_spaces=False,
)


def _html_blocks(nodes: Sequence[_Node]) -> str:
    return "".join(_html_block(node) for node in nodes)


def _html_block(node: _Node) -> str:
    if isinstance(node, _Text):
        return f"<p>{_html_inline((node,))}</p>\n"
    tag, children = node.tag, node.children
    if tag == "paragraph":
        return f"<p>{_html_inline(children)}</p>\n"
    if tag == "heading":
        level = _int_attr(node.attrs, "level", 1, 1, 6)
        return f"<h{level}>{_html_inline(children)}</h{level}>\n"
    if tag in _LISTS:
        return _html_list(node)
    if tag == "blockquote":
        return f"<blockquote>\n{_html_blocks(children)}</blockquote>\n"
    if tag == "codeBlock":
        language = node.attrs.get("language")
        attr = (
            f' class="language-{_esc(language)}"'
            if isinstance(language, str) and re.fullmatch(r"[\w+#.-]{1,32}", language)
            else ""
        )
        return f"<pre><code{attr}>{_esc(_text_content(children))}</code></pre>\n"
    if tag == "horizontalRule":
        return "<hr>\n"
    if tag == "table":
        return _html_table(node)
    if tag == "hardBreak":
        return ""
    if tag in _INLINE:
        return f"<p>{_html_inline((node,))}</p>\n"
    if _is_inline(children) and children:
        return f"<p>{_html_inline(children)}</p>\n"
    return _html_blocks(children)


def _html_inline(nodes: Sequence[_Node]) -> str:
    pieces: list[_Piece] = []
    for node in nodes:
        if isinstance(node, _Text):
            pieces.extend(_Piece(span.text, span.marks) for span in node.spans)
        elif node.tag == "hardBreak":
            pieces.append(_Piece("<br>", raw=True))
        elif node.tag == "image":
            src = _safe_url(node.attrs.get("src"), _IMAGE_SCHEMES)
            alt = node.attrs.get("alt")
            alt = _esc(alt) if isinstance(alt, str) else ""
            pieces.append(_Piece(f'<img src="{_esc(src or "")}" alt="{alt}">', raw=True))
        else:
            pieces.append(_Piece(_text_content((node,))))
    return _render_inline(pieces, _HTML_INLINE)


def _html_list(node: _Element) -> str:
    start = _int_attr(node.attrs, "start", 1, 0, 999_999_999)
    if node.tag == "orderedList":
        opening, closing = (f'<ol start="{start}">' if start != 1 else "<ol>"), "</ol>"
    else:
        opening, closing = "<ul>", "</ul>"
    items: list[str] = []
    for item in node.children:
        if isinstance(item, _Element) and item.tag in {"listItem", "taskItem"}:
            box = ""
            if item.tag == "taskItem":
                checked = " checked" if _checked(item) else ""
                box = f'<input type="checkbox" disabled{checked}> '
            items.append(f"<li>{box}{_html_blocks(item.children).rstrip()}</li>\n")
        else:
            items.append(f"<li>{_html_block(item).rstrip()}</li>\n")
    return f"{opening}\n{''.join(items)}{closing}\n"


def _html_table(node: _Element) -> str:
    rows = list(_rows(node))
    if not rows:
        return ""

    def row_html(cells: list[tuple[_Element, int, int]]) -> str:
        out: list[str] = []
        for cell, colspan, rowspan in cells:
            tag = "th" if cell.tag == "tableHeader" else "td"
            attrs = (f' colspan="{colspan}"' if colspan > 1 else "") + (
                f' rowspan="{rowspan}"' if rowspan > 1 else ""
            )
            out.append(f"<{tag}{attrs}>{_html_blocks(cell.children).rstrip()}</{tag}>")
        return f"<tr>{''.join(out)}</tr>\n"

    head = f"<thead>\n{row_html(rows[0][1])}</thead>\n" if rows[0][0] else ""
    body_rows = rows[1:] if rows[0][0] else rows
    body = f"<tbody>\n{''.join(row_html(cells) for _, cells in body_rows)}</tbody>\n"
    return f"<table>\n{head}{body if body_rows else ''}</table>\n"


def to_html(source: _Source, *, root: str = "default") -> str:
    """Render the ``XmlFragment`` ``root`` as an HTML fragment (no ``<html>`` or ``<body>``).

    Every text and attribute is escaped. Arguments as for :func:`to_markdown`.

    Raises:
        ProtocolError: ``source`` is bytes that do not decode as an update.
    """
    return _html_blocks(_read(source, root))
