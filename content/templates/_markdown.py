"""Template files: Markdown with a TOML front matter, read into ProseMirror nodes.

A template file is CommonMark with pipe tables (markdown-it-py parses it), after a front matter
in TOML between two ``+++`` lines that holds the menu ``title`` and ``description``. What the
Markdown may hold, and what it becomes:

- ``#`` to ``######`` headings, paragraphs, ``-`` bullet lists (an empty item ``-`` is an empty
  line to fill in), ``**bold**`` and ``*italic*``; a line break inside a paragraph is a space;
- pipe tables: the first row is header cells; in the other rows a cell written wholly in bold
  (``| **Medical care** |``) is a header cell too (its text is not bold), and a cell holding
  only ``<`` widens the cell on its left by one column (``colspan``).

Anything else (links, images, code, quotes, numbered lists, HTML, hard line breaks) is refused
with the file and line, rather than dropped: a template must not lose what its author wrote.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from content.templates._prosemirror import EMPTY_PARAGRAPH, MARKS, Node, Run

__all__ = ["TemplateFile", "TemplateFileError", "parse"]

_FENCE: Final = "+++"
_MERGE_LEFT: Final = "<"
_PARSER: Final = MarkdownIt("commonmark", {"html": False}).enable("table")
_INLINE_MARKS: Final = {"strong": "bold", "em": "italic"}


class TemplateFileError(ValueError):
    """A template file that cannot be read: the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class TemplateFile:
    """What one template file holds: its menu entry and its content."""

    title: str
    description: str
    nodes: tuple[Node, ...]


class _Reader:
    def __init__(self, origin: str, line_offset: int) -> None:
        self.origin = origin
        self.line_offset = line_offset

    def error(self, node: SyntaxTreeNode, message: str) -> TemplateFileError:
        at = node
        while at.map is None and at.parent is not None:
            at = at.parent
        line = f", line {at.map[0] + 1 + self.line_offset}" if at.map else ""
        return TemplateFileError(f"{self.origin}{line}: {message}")

    def blocks(self, nodes: Iterable[SyntaxTreeNode]) -> list[Node]:
        out: list[Node] = []
        for node in nodes:
            if node.type == "heading":
                level = (("level", int(node.tag[1:])),)
                out.append(Node("heading", level, text=self.inline(node.children)))
            elif node.type == "paragraph":
                out.append(Node("paragraph", text=self.inline(node.children)))
            elif node.type == "bullet_list":
                items = []
                for item in node.children:
                    blocks = self.blocks(item.children) or [EMPTY_PARAGRAPH]
                    if blocks[0].tag != "paragraph":
                        # TipTap's listItem holds a paragraph first, then any blocks.
                        raise self.error(item, "a list item starts with a line of text")
                    items.append(Node("listItem", children=tuple(blocks)))
                out.append(Node("bulletList", children=tuple(items)))
            elif node.type == "table":
                out.append(self.table(node))
            else:
                raise self.error(
                    node,
                    f"{node.type.replace('_', ' ')} is not supported in a template: use "
                    "headings, paragraphs, bullet lists and tables",
                )
        return out

    def inline(self, nodes: Sequence[SyntaxTreeNode]) -> tuple[Run, ...]:
        runs: list[Run] = []
        self._runs(nodes, (), runs)
        merged: list[Run] = []
        for run in runs:
            if not run.text:
                continue
            if merged and merged[-1].marks == run.marks:
                merged[-1] = Run(merged[-1].text + run.text, run.marks)
            else:
                merged.append(run)
        return tuple(merged)

    def _runs(
        self, nodes: Sequence[SyntaxTreeNode], marks: tuple[str, ...], out: list[Run]
    ) -> None:
        for node in nodes:
            if node.type == "inline":
                self._runs(node.children, marks, out)
            elif node.type == "text":
                out.append(Run(node.content, marks))
            elif node.type == "softbreak":
                out.append(Run(" ", marks))
            elif node.type in _INLINE_MARKS:
                inner = {*marks, _INLINE_MARKS[node.type]}
                self._runs(node.children, tuple(m for m in MARKS if m in inner), out)
            else:
                raise self.error(
                    node,
                    f"{node.type.replace('_', ' ')} is not supported in a template's text: use "
                    "**bold** and *italic*",
                )

    def table(self, table: SyntaxTreeNode) -> Node:
        rows: list[Node] = []
        for section in table.children:
            for row in section.children:
                cells: list[tuple[str, int, tuple[Run, ...]]] = []
                for cell in row.children:
                    runs = self.inline(cell.children)
                    if cell.type == "td" and runs == (Run(_MERGE_LEFT),):
                        if not cells:
                            raise self.error(row, f"a row cannot start with {_MERGE_LEFT!r}")
                        tag, colspan, text = cells[-1]
                        cells[-1] = (tag, colspan + 1, text)
                        continue
                    tag = "tableHeader" if cell.type == "th" else "tableCell"
                    if cell.type == "td" and runs and all("bold" in r.marks for r in runs):
                        tag = "tableHeader"
                        runs = self._without_bold(runs)
                    cells.append((tag, 1, runs))
                rows.append(
                    Node(
                        "tableRow",
                        children=tuple(
                            Node(
                                tag,
                                (("colspan", colspan), ("rowspan", 1)),
                                (Node("paragraph", text=text),),
                            )
                            for tag, colspan, text in cells
                        ),
                    )
                )
        return Node("table", children=tuple(rows))

    @staticmethod
    def _without_bold(runs: tuple[Run, ...]) -> tuple[Run, ...]:
        return tuple(Run(r.text, tuple(m for m in r.marks if m != "bold")) for r in runs)


def _front_matter(text: str, origin: str) -> tuple[dict[str, object], str, int]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != _FENCE:
        raise TemplateFileError(f"{origin}, line 1: a template starts with {_FENCE!r}")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == _FENCE)
    except StopIteration:
        raise TemplateFileError(f"{origin}: the front matter has no closing {_FENCE!r}") from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise TemplateFileError(f"{origin}: the front matter is not valid TOML: {exc}") from exc
    return meta, "\n".join(lines[end + 1 :]), end + 1


def parse(text: str, origin: str) -> TemplateFile:
    """Read one template file.

    Args:
        text: the file's content.
        origin: how errors name the file (its path inside the package).

    Raises:
        TemplateFileError: the front matter is missing, not TOML, or lacks ``title`` or
            ``description`` (or has other keys), or the Markdown uses something a template
            cannot hold; the message names the file and, where it can, the line.
    """
    meta, body, offset = _front_matter(text, origin)
    fields = {}
    for key in ("title", "description"):
        value = meta.pop(key, None)
        if not isinstance(value, str) or not value.strip():
            raise TemplateFileError(f"{origin}: the front matter needs a {key} (a string)")
        fields[key] = value.strip()
    if meta:
        raise TemplateFileError(
            f"{origin}: unknown front matter keys {', '.join(sorted(meta))}; "
            "expected title and description"
        )
    reader = _Reader(origin, offset)
    nodes = reader.blocks(SyntaxTreeNode(_PARSER.parse(body)).children)
    return TemplateFile(fields["title"], fields["description"], tuple(nodes))
