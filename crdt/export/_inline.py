"""Inline output shared by both formats: marks nested across runs of text.

A :class:`_MarkFormat` says how one format writes its marks; :func:`_render_inline` keeps a mark
open across the pieces it continues into, and for Markdown moves the spaces at the edges of a
marked piece outside its delimiters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crdt.export._reader import _Mark, _Span


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
