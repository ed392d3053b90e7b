"""Folding a snapshot and log entries into a new snapshot: pure, shared by every store.

A snapshot is ``Document.full_state()`` of the document built from the old snapshot and
the entries, so content deleted since is garbage-collected rather than carried forever.
That encoding drops whatever the document holds *pending*: structs whose causal
dependencies it has not seen, and deletions of items it does not have. Such content exists
only in its log entry until the missing update arrives, so an entry is folded only if the
built document integrated all of it; otherwise it stays in the log and is retried by the
next compaction. The same goes for an entry that does not decode at all, and for one that
makes the CRDT engine fail halfway (the document is then rebuilt without it).

Entries are first tried merged into one update and applied at once: Yrs merges each new text
item into its neighbour when a client typed on at the end, and recounts the whole merged
string's length each time, so applying N appends one by one costs N times the length of the
text (4.9 s for 500 appends to 8 MB of text), and all at once costs it once (0.3 s). Only
when that finds a bad or pending entry are the entries applied one by one to sort them out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from pycrdt import get_update

from crdt.document import Document, merge_updates
from crdt.errors import PoisonedUpdate, ProtocolError
from storage.errors import StorageError

__all__ = ["Fold", "fold", "is_integrated"]

logger = logging.getLogger("storage.compaction")

# lib0 varuints carry JavaScript-safe integers: at most 53 bits, 8 groups of 7.
_MAX_VARUINT_BYTES = 8


@dataclass(frozen=True, slots=True)
class Fold:
    """The outcome of :func:`fold`."""

    state: bytes
    """The new snapshot."""
    folded: list[int] = field(default_factory=list)
    """Keys of the entries the snapshot now contains: delete exactly these from the log."""
    kept: list[int] = field(default_factory=list)
    """Keys of the entries that must stay in the log (corrupt, or not integrated yet)."""


def fold(document_id: str, snapshot: bytes | None, entries: Iterable[tuple[int, bytes]]) -> Fold:
    """Build the snapshot of ``snapshot`` plus ``entries``.

    Args:
        document_id: for log messages.
        snapshot: the current snapshot, if any.
        entries: ``(key, update)`` log entries, in any order.

    Returns:
        The new snapshot and how each entry was handled.

    Raises:
        StorageError: the current snapshot does not apply; folding into it would lose it.
    """
    entries = list(entries)
    merged = _fold_merged(snapshot, entries)
    if merged is not None:
        return merged
    poisoned: set[int] = set()
    while True:
        try:
            return _fold_once(document_id, snapshot, entries, poisoned)
        except _Poisoned as restart:
            # The engine failed halfway through this entry: the document may hold part of
            # it, so it cannot become a snapshot. Start over without the entry.
            logger.error(
                "update %d of document %r breaks the CRDT engine; it stays in the log",
                restart.key,
                document_id,
            )
            poisoned.add(restart.key)


def _fold_merged(snapshot: bytes | None, entries: list[tuple[int, bytes]]) -> Fold | None:
    """The fold if every entry decodes, applies cleanly and is integrated; else None."""
    if len(entries) < 2:
        return None
    document = Document()
    try:
        update = merge_updates([update for _, update in entries])
        if snapshot is not None:
            document.apply_update(snapshot)
        document.apply_update(update)
    except ProtocolError:
        return None  # PoisonedUpdate included: the entry-by-entry fold finds the culprit
    except BaseException as exc:
        # Yrs panics on some hostile updates (pyo3's PanicException, see is_integrated).
        if type(exc).__name__ != "PanicException":
            raise
        return None
    # Merging may drop what it cannot place (an entry that breaks the engine when applied
    # alone), and such an entry must stay in the log. So every entry is applied once more,
    # on its own: what the document already holds is skipped (about 2 µs an entry), what
    # merging dropped is applied or refused now, and a refusal sends the entries one by one.
    try:
        for _, update in entries:
            document.apply_update(update)
    except ProtocolError:
        return None
    state_vector = document.state_vector()
    if not all(is_integrated(update, state_vector) for _, update in entries):
        return None
    return Fold(state=document.full_state(), folded=[key for key, _ in entries], kept=[])


class _Poisoned(Exception):
    def __init__(self, key: int) -> None:
        super().__init__(key)
        self.key = key


def _fold_once(
    document_id: str, snapshot: bytes | None, entries: list[tuple[int, bytes]], skip: set[int]
) -> Fold:
    document = Document()
    if snapshot is not None:
        try:
            document.apply_update(snapshot)
        except ProtocolError as exc:
            raise StorageError(f"the snapshot of document {document_id!r} is corrupt") from exc
    applied: list[tuple[int, bytes]] = []
    kept = sorted(skip)
    for key, update in entries:
        if key in skip:
            continue
        try:
            document.apply_update(update)
        except PoisonedUpdate as exc:
            raise _Poisoned(key) from exc
        except ProtocolError:
            # Refused while decoding: the document is unchanged.
            logger.error(
                "update %d of document %r is not a Yjs update; it stays in the log",
                key,
                document_id,
            )
            kept.append(key)
        else:
            applied.append((key, update))
    state_vector = document.state_vector()
    folded: list[int] = []
    for key, update in applied:
        if is_integrated(update, state_vector):
            folded.append(key)
        else:
            logger.warning(
                "update %d of document %r depends on updates not stored yet; it stays in the log",
                key,
                document_id,
            )
            kept.append(key)
    return Fold(state=document.full_state(), folded=folded, kept=kept)


def is_integrated(update: bytes, state_vector: bytes) -> bool:
    """Whether a document at ``state_vector`` holds every struct and deletion of ``update``.

    A state vector counts only the contiguous, integrated clock range of each client, so a
    struct at or past it is pending (or absent), and so is a deletion of an item past it.

    Args:
        update: a Yjs v1 update the document has applied.
        state_vector: the document's encoded state vector.

    Returns:
        False if anything of ``update`` is missing from the document, or cannot be read.
    """
    try:
        # The diff against the document's own state vector keeps the structs it lacks and
        # the whole delete set, which is exactly what is left to check.
        rest = _Reader(get_update(update, state_vector))
        if rest.uint() != 0:
            return False
        clocks = _decode_state_vector(state_vector)
        for _ in range(rest.uint()):
            client = rest.uint()
            for _ in range(rest.uint()):
                clock = rest.uint()
                length = rest.uint()
                if clock + length > clocks.get(client, 0):
                    return False
    except ValueError:
        return False
    except BaseException as exc:
        # Yrs panics on some hostile updates (pyo3's PanicException, a BaseException that
        # cannot be imported by name); such an entry is not folded.
        if type(exc).__name__ != "PanicException":
            raise
        return False
    return True


def _decode_state_vector(state_vector: bytes) -> dict[int, int]:
    reader = _Reader(state_vector)
    clocks: dict[int, int] = {}
    for _ in range(reader.uint()):
        client = reader.uint()
        clocks[client] = reader.uint()
    return clocks


class _Reader:
    """Bounds-checked lib0 varuint cursor; raises ValueError on malformed input."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def uint(self) -> int:
        value = 0
        for index in range(_MAX_VARUINT_BYTES):
            if self._pos >= len(self._data):
                raise ValueError("truncated varuint")
            byte = self._data[self._pos]
            self._pos += 1
            value |= (byte & 0x7F) << (7 * index)
            if byte < 0x80:
                return value
        raise ValueError("varuint longer than 53 bits")
