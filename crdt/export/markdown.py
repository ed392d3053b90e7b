"""Markdown export: the reader's tree rendered as GitHub-flavoured Markdown.

Everything a reader could misread is escaped (a leading ``#``, ``-`` or ``1.``, emphasis
characters, entities, ``|`` even outside tables); link and image addresses go through the
reader's safety check, then are checked again as written out.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from typing import Final

from crdt.export._inline import _MarkFormat, _Piece, _render_inline
from crdt.export._reader import (
    _IMAGE_SCHEMES,
    _INLINE,
    _LISTS,
    _SAFE_SCHEMES,
    _checked,
    _Element,
    _has_code,
    _int_attr,
    _is_inline,
    _is_safe,
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

__all__ = ["to_markdown"]

_MAX_COLUMNS: Final = 100
"""Markdown pads rows to at most this many columns: bounds the output of a hostile table."""

_MD_ORDER: Final = {"link": 0, "bold": 1, "italic": 2, "strike": 3}
_MD_DELIMITERS: Final = {"bold": "**", "italic": "_", "strike": "~~"}
# "|" too: outside a table, a line of text can still read as a table's delimiter row.
_MD_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>~|])")
_MD_ENTITY: Final = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_LINE_START: Final = re.compile(r"^(?:([#+=-])|(\d+)([.)]))", re.MULTILINE)
_MD_CLOSING_HASHES: Final = re.compile(r"(^|\s)(#+)$")
_MD_INTERRUPTS: Final = re.compile(r"(?:-|1\.) \S")
_MD_BREAK: Final = {"block": "\\\n", "heading": " ", "cell": "<br>"}
_MD_URL_UNSAFE: Final = re.compile(r"[\s()<>\\|]")


def _md_escape(text: str) -> str:
    return _MD_ENTITY.sub("\\&", _MD_SPECIAL.sub(r"\\\1", text))


def _md_marks(marks: tuple[_Mark, ...]) -> tuple[_Mark, ...]:
    return tuple(
        m for m in _ordered(marks, _MD_ORDER) if m.name != "link" or _md_url(m.attrs.get("href"))
    )


def _md_url(value: object, schemes: frozenset[str] = _SAFE_SCHEMES) -> str:
    """A link destination: the safe address with what Markdown would misread encoded, and an
    entity's ``&`` escaped so a renderer keeps it literal; checked again as written."""
    url = _safe_url(value, schemes) or ""
    url = _MD_URL_UNSAFE.sub(lambda m: urllib.parse.quote(m.group()), url)
    url = _MD_ENTITY.sub("\\&", url)
    return url if _is_safe(url, schemes) else ""


def _md_code(text: str) -> str:
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_text(span: _Span) -> str:
    return _md_code(span.text) if _has_code(span) else _md_escape(span.text)


def _md_delimiters(mark: _Mark, before: str, after: str) -> tuple[str, str]:
    if mark.name == "link":
        return "[", f"]({_md_url(mark.attrs.get('href'))})"
    delimiter = _MD_DELIMITERS[mark.name]
    if delimiter == "_" and any(c.isalnum() or c == "*" for c in before + after):
        # "_" neither opens nor closes emphasis inside a word, and next to "**" a single run
        # of asterisks ("***") is what flanks a word correctly.
        delimiter = "*"
    return delimiter, delimiter


def _md_cell_text(span: _Span) -> str:
    # In a table even a code span needs its "|" escaped.
    return _md_code(span.text).replace("|", "\\|") if _has_code(span) else _md_escape(span.text)


_MD_INLINE: Final = _MarkFormat(
    marks=_md_marks, delimiters=_md_delimiters, text=_md_text, hoist_spaces=True
)
_MD_CELL_INLINE: Final = _MarkFormat(
    marks=_md_marks, delimiters=_md_delimiters, text=_md_cell_text, hoist_spaces=True
)


class _Markdown:
    """Renders blocks in one of three modes: ``block``, ``heading`` (one line) or ``cell``."""

    def __init__(self, mode: str = "block") -> None:
        self.mode = mode

    def document(self, nodes: Sequence[_Node]) -> str:
        text = self.joined(nodes)
        return f"{text}\n" if text else ""

    def joined(self, nodes: Sequence[_Node]) -> str:
        """Blocks separated by blank lines; two lists of a kind apart, not merged into one."""
        out: list[str] = []
        previous = ""
        for node in nodes:
            rendered = self.block(node)
            if not rendered:
                continue
            kind = node.tag if isinstance(node, _Element) and node.tag in _LISTS else ""
            if kind and kind == previous:
                out.append("<!-- -->")
            out.append(rendered)
            previous = kind
        return "\n\n".join(out)

    def blocks(self, nodes: Sequence[_Node]) -> list[str]:
        return [out for node in nodes if (out := self.block(node))]

    def block(self, node: _Node) -> str:
        if isinstance(node, _Text):
            return self.inline((node,))
        tag, children = node.tag, node.children
        if tag == "paragraph":
            return self.inline(children)
        if tag == "heading":
            level = _int_attr(node.attrs, "level", 1, 1, 6)
            return f"{'#' * level} {_Markdown('heading').inline(children)}".rstrip()
        if tag in _LISTS:
            return self.listing(node)
        if tag == "blockquote":
            body = self.joined(children)
            return "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
        if tag == "codeBlock":
            return self.code_block(node)
        if tag == "horizontalRule":
            return "---"
        if tag == "table":
            return self.table(node)
        if tag == "hardBreak":
            return ""
        if tag in _INLINE:
            return self.inline((node,))
        if _is_inline(children) and children:
            return self.inline(children)
        return self.joined(children)

    def inline(self, nodes: Sequence[_Node]) -> str:
        pieces: list[_Piece] = []
        for node in nodes:
            if isinstance(node, _Text):
                pieces.extend(_Piece(span.text, span.marks) for span in node.spans)
            elif node.tag == "hardBreak":
                pieces.append(_Piece(_MD_BREAK[self.mode], raw=True))
            elif node.tag == "image":
                alt = node.attrs.get("alt")
                alt = _md_escape(alt.replace("\n", " ") if isinstance(alt, str) else "")
                src = _md_url(node.attrs.get("src"), _IMAGE_SCHEMES)
                pieces.append(_Piece(f"![{alt}]({src})", raw=True))
            else:
                pieces.append(_Piece(_text_content((node,))))
        # A hard break at either end of a paragraph would print as a lone backslash.
        while pieces and pieces[-1].raw and pieces[-1].text == _MD_BREAK["block"]:
            pieces.pop()
        while pieces and pieces[0].raw and pieces[0].text == _MD_BREAK["block"]:
            pieces.pop(0)
        out = _render_inline(pieces, _MD_CELL_INLINE if self.mode == "cell" else _MD_INLINE)
        if self.mode == "heading":
            # A run of "#" at the end of a heading would be read as its closing sequence.
            return _MD_CLOSING_HASHES.sub(r"\1\\\2", out.replace("\n", " ").strip())
        if self.mode == "cell":
            return out.replace("\n", " ")
        # Leading spaces would make an indented code block; a leading "#", "-", "+", "=" or
        # "1." a heading, a list or a setext underline.
        out = "\n".join(line.lstrip() for line in out.strip("\n").split("\n"))
        return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", out)

    def listing(self, node: _Element) -> str:
        start = _int_attr(node.attrs, "start", 1, 0, 999_999_999)
        items: list[str] = []
        for number, item in enumerate(node.children, start):
            if node.tag == "orderedList":
                marker = f"{number}."
            elif isinstance(item, _Element) and item.tag == "taskItem":
                marker = "- [x]" if _checked(item) else "- [ ]"
            else:
                marker = "-"
            is_item = isinstance(item, _Element) and item.tag in {"listItem", "taskItem"}
            body = ""
            for block in item.children if isinstance(item, _Element) and is_item else (item,):
                rendered = self.block(block)
                if rendered and body:
                    # A nested list hugs the paragraph before it when it may interrupt one: a
                    # bullet or "1." item that is not empty.
                    nested = isinstance(block, _Element) and block.tag in _LISTS
                    body += "\n" if nested and _MD_INTERRUPTS.match(rendered) else "\n\n"
                body += rendered
            indent = " " * (len(marker) + 1) if self.mode == "block" else ""
            lines = body.split("\n")
            items.append(
                "\n".join(
                    [f"{marker} {lines[0]}".rstrip()]
                    + [f"{indent}{line}" if line else "" for line in lines[1:]]
                )
            )
        return "\n".join(items)

    def code_block(self, node: _Element) -> str:
        text = _text_content(node.children)
        language = node.attrs.get("language")
        info = (
            language
            if isinstance(language, str) and re.fullmatch(r"[\w+#.-]{1,32}", language)
            else ""
        )
        fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
        if self.mode == "cell":
            return _md_code(text).replace("|", "\\|")
        return f"{fence}{info}\n{text}\n{fence}"

    def table(self, node: _Element) -> str:
        rows = list(_rows(node))
        if not rows:
            return ""
        cell_markdown = _Markdown("cell")
        grid: list[list[str]] = []
        covered: set[tuple[int, int]] = set()
        for r, (_, cells) in enumerate(rows):
            line: list[str] = []
            for cell, colspan, rowspan in cells:
                while (r, len(line)) in covered:
                    line.append("")
                text = "<br>".join(cell_markdown.blocks(cell.children)).replace("\n", "<br>")
                covered.update(
                    (r + dr, len(line) + dc)
                    for dr in range(1, min(rowspan, len(rows) - r))
                    for dc in range(min(colspan, _MAX_COLUMNS - len(line)))
                )
                line.extend([text, *[""] * (colspan - 1)])
            grid.append(line)
        width = min(max(len(line) for line in grid), _MAX_COLUMNS)
        header = grid.pop(0) if rows[0][0] else []
        lines = [header, ["---"] * width, *grid]
        return "\n".join(
            "| " + " | ".join(line + [""] * (width - len(line))) + " |" for line in lines
        )


def to_markdown(source: _Source, *, root: str = "default") -> str:
    """Render the ``XmlFragment`` ``root`` as GitHub-flavoured Markdown.

    Args:
        source: a Yjs v1 update (a whole document), a :class:`Document`, a pycrdt ``Doc``, or
            the fragment itself (``root`` is then unused).
        root: the name of the fragment in the document.

    Returns:
        Blocks separated by blank lines and ending with a newline; ``""`` for an empty
        document. Tables are pipe tables whose header is the first row when it holds only
        header cells, and an empty row otherwise.

    Raises:
        ProtocolError: ``source`` is bytes that do not decode as an update.
    """
    return _Markdown().document(_read(source, root))
