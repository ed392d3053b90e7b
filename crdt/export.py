"""Export a document to Markdown or HTML: what TipTap (y-prosemirror) stored in ``default``.

The ``XmlFragment`` is first read into a plain tree, then rendered. Nodes are ProseMirror's, by
TipTap's names: ``paragraph``, ``heading`` (``level``), ``bulletList``, ``orderedList``
(``start``), ``taskList``/``taskItem`` (``checked``), ``listItem``, ``blockquote``,
``codeBlock`` (``language``), ``horizontalRule``, ``hardBreak``, ``image`` (``src``, ``alt``),
``mention`` (``label``), ``table``/``tableRow``/``tableHeader``/``tableCell`` (``colspan``,
``rowspan``). Marks are the formatting attributes of the text: ``bold``, ``italic``,
``strike``, ``code``, ``link`` (``href``), and in HTML also ``underline``, ``highlight``,
``subscript``, ``superscript``.

Any other element is rendered through its content, so that no text is lost and no structure
makes the export fail; embedded values inside a text (which y-prosemirror never writes) are
skipped. Links whose address is not relative or of the scheme http, https or mailto, and images
whose address is not relative, http or https, lose their address: the check is made on the
address exactly as emitted and as any HTML entity decoding reads it (see :func:`_safe_url`).
Elements nested deeper than :data:`MAX_DEPTH` are rendered as plain text.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.document import Document

__all__ = ["MAX_DEPTH", "to_html", "to_markdown"]

MAX_DEPTH: Final = 48
"""How deep elements are rendered with their structure; deeper ones become plain text."""

_MAX_SPAN: Final = 100
"""The largest ``colspan`` or ``rowspan`` honoured."""

_MAX_COLUMNS: Final = 100
"""Markdown pads rows to at most this many columns: bounds the output of a hostile table."""

_Source = bytes | Document | Doc[Any] | XmlFragment

# -- reading --------------------------------------------------------------------------------------


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


# -- shared by both renderers ---------------------------------------------------------------------

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


@dataclass(frozen=True, slots=True)
class _Piece:
    """A run of inline output: text with its marks, or already rendered output (``raw``)."""

    text: str
    marks: tuple[_Mark, ...] = ()
    raw: bool = False


def _common_prefix(active: Sequence[_Mark], marks: Sequence[_Mark]) -> int:
    keep = 0
    while keep < min(len(active), len(marks)) and active[keep] == marks[keep]:
        keep += 1
    return keep


@dataclass(frozen=True, slots=True)
class _MarkFormat:
    """How one format writes marks.

    ``marks`` picks and orders, outside in, the marks the format nests. ``delimiters`` gives
    the opening and closing output of a mark from the characters just before its opening and
    just after its closing.
    """

    marks: Callable[[tuple[_Mark, ...]], tuple[_Mark, ...]]
    delimiters: Callable[[_Mark, str, str], tuple[str, str]]
    text: Callable[[_Span], str]
    hoist_spaces: bool


def _closing_characters(
    pieces: Sequence[_Piece], marks_of: Sequence[tuple[_Mark, ...]], hoist_spaces: bool
) -> list[list[tuple[_Mark, str]]]:
    """For each piece and each of its marks, the first character after the mark closes.

    Computed backwards in one pass. With ``hoist_spaces`` a piece of spaces alone does not
    close a mark: the rendering carries marks across it.
    """
    result: list[list[tuple[_Mark, str]]] = [[] for _ in pieces]
    following: list[tuple[_Mark, str]] = []
    first = ""
    for index in range(len(pieces) - 1, -1, -1):
        piece = pieces[index]
        if hoist_spaces and not piece.raw and not piece.text.strip():
            first = piece.text[:1]
            continue
        # Spaces that end a piece are written after the delimiters that close there.
        trail = piece.text[len(piece.text.rstrip()) :][:1] if hoist_spaces and not piece.raw else ""
        result[index] = [
            (mark, next((char for other, char in following if other == mark), trail or first))
            for mark in marks_of[index]
        ]
        following, first = result[index], piece.text[:1]
    return result


def _render_inline(pieces: Sequence[_Piece], fmt: _MarkFormat) -> str:
    """Nest marks across pieces, keeping open a mark that continues into the next piece.

    With ``hoist_spaces`` (Markdown) the spaces at the edges of a marked piece move outside
    its delimiters, where Markdown needs them to recognise emphasis.
    """
    marks_of = [() if piece.raw else fmt.marks(piece.marks) for piece in pieces]
    closes_before = _closing_characters(pieces, marks_of, fmt.hoist_spaces)
    out: list[str] = []
    active: list[tuple[_Mark, str]] = []
    pending = ""

    def close_to(keep: int) -> None:
        out.extend(closing for _, closing in reversed(active[keep:]))
        del active[keep:]

    def kept(marks: tuple[_Mark, ...]) -> int:
        return _common_prefix([mark for mark, _ in active], marks)

    for index, piece in enumerate(pieces):
        marks = marks_of[index]
        if piece.raw:
            close_to(0)
            out.append(pending + piece.text)
            pending = ""
            continue
        core, lead, trail = piece.text, "", ""
        if fmt.hoist_spaces:
            core = piece.text.strip()
            if not core:
                # Spaces alone stay outside any delimiter: the next piece decides the marks.
                pending += piece.text
                continue
            lead = piece.text[: len(piece.text) - len(piece.text.lstrip())]
            trail = piece.text[len(piece.text.rstrip()) :]
        close_to(kept(marks))
        out.append(pending + lead)
        for mark in marks[len(active) :]:
            before = next((chunk[-1] for chunk in reversed(out) if chunk), "")
            after = next(char for other, char in closes_before[index] if other == mark)
            opening, closing = fmt.delimiters(mark, before, after)
            out.append(opening)
            active.append((mark, closing))
        out.append(fmt.text(_Span(core, piece.marks)))
        pending = trail
    close_to(0)
    out.append(pending)
    return "".join(out)


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


# -- Markdown -------------------------------------------------------------------------------------

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


# -- HTML -----------------------------------------------------------------------------------------

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


# -- the API --------------------------------------------------------------------------------------


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


def to_html(source: _Source, *, root: str = "default") -> str:
    """Render the ``XmlFragment`` ``root`` as an HTML fragment (no ``<html>`` or ``<body>``).

    Every text and attribute is escaped. Arguments as for :func:`to_markdown`.

    Raises:
        ProtocolError: ``source`` is bytes that do not decode as an update.
    """
    return _html_blocks(_read(source, root))
