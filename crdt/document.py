"""A shared document: a pycrdt ``Doc`` behind a small API that raises only GESS errors.

It is also the one place where pycrdt's errors from integrating an update become GESS errors
(:func:`integrate`): ``ValueError`` (the bytes do not decode) is a :class:`ProtocolError`,
and ``RuntimeError`` or a Yrs panic (it decoded, then failed halfway) a
:class:`PoisonedUpdate`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from pycrdt import Doc, get_state
from pycrdt import merge_updates as _merge_updates

from crdt.errors import PoisonedUpdate, ProtocolError

__all__ = ["EMPTY_UPDATE", "Document", "integrate", "merge_updates", "validate_update"]

logger = logging.getLogger("gess.crdt")

EMPTY_UPDATE = b"\x00\x00"
"""The encoding of an update that changes nothing (no structs, no deletions)."""


def validate_update(update: bytes) -> bytes:
    """Check that bytes decode as a Yjs v1 update; return its state vector.

    Raises:
        ProtocolError: the bytes are not an update.
    """
    try:
        return get_state(update)
    except ValueError as exc:
        raise ProtocolError("invalid document update") from exc


def merge_updates(updates: Sequence[bytes]) -> bytes:
    """Merge updates into one that has the effect of applying them all, in any order.

    Raises:
        ProtocolError: one of the updates cannot be decoded.
    """
    if not updates:
        return EMPTY_UPDATE
    if len(updates) == 1:
        return updates[0]
    try:
        return _merge_updates(*updates)
    except ValueError as exc:
        raise ProtocolError("cannot merge invalid updates") from exc


def integrate(doc: Doc[Any], update: bytes) -> None:
    """Apply a Yjs v1 update to a pycrdt document, in the caller's transaction if one is open.

    Raises:
        PoisonedUpdate: the engine failed halfway (pycrdt's ``RuntimeError``, or a Yrs panic);
            the document may hold part of the update and must be rebuilt before it is read
            again.
        ProtocolError: the update cannot be decoded; the document is unchanged.
    """
    try:
        doc.apply_update(update)
    except ValueError as exc:
        raise ProtocolError("invalid document update") from exc
    except RuntimeError as exc:
        # Integration failed after decoding ("block parent must be deleted or shared ref
        # type"): part of the update may be in the document.
        raise PoisonedUpdate(f"the update could not be applied: {exc}") from exc
    except BaseException as exc:
        # Yrs panics on some hostile updates that decode fine; pyo3 raises its
        # PanicException, a BaseException that cannot be imported by name.
        if type(exc).__name__ != "PanicException":
            raise
        raise PoisonedUpdate("the update could not be applied to this document") from exc


class Document:
    """A Yjs document held in memory.

    Args:
        updates: updates to start from (a snapshot, then log entries), in any order.

    Raises:
        ProtocolError: one of the initial updates cannot be decoded.
    """

    __slots__ = ("_doc",)

    def __init__(self, updates: Iterable[bytes] = ()) -> None:
        self._doc: Doc[Any] = Doc()
        for update in updates:
            self.apply_update(update)

    @property
    def ydoc(self) -> Doc[Any]:
        """The underlying pycrdt document, for reading and local edits."""
        return self._doc

    def apply_update(self, update: bytes) -> None:
        """Apply a Yjs v1 update.

        Raises:
            PoisonedUpdate: the engine failed halfway; the document may hold part of the
                update and must be rebuilt before it is read again.
            ProtocolError: the update cannot be decoded; the document is unchanged.
        """
        if update != EMPTY_UPDATE:
            integrate(self._doc, update)

    @classmethod
    def from_stored(cls, updates: Sequence[bytes], *, name: str = "") -> Document:
        """Build a document from stored updates (a snapshot, then log entries), skipping
        (and logging, under ``name``) the ones that do not decode or break the engine.

        Yrs merges each new text item into its neighbour when a client typed on at the end,
        and recounts the whole merged string's length each time, so applying a log of N such
        entries one by one costs N times the length of the text (seconds, with the GIL held,
        for a few hundred entries to a text of megabytes). The entries are therefore merged
        and applied at once, then each applied alone again: what the document holds already
        is skipped at once, and what merging dropped (it drops what it cannot place) is
        applied or refused now. Only if that fails are the updates applied one by one on a
        fresh document (an update that breaks the engine may then be partly applied, as with
        :meth:`apply_update`).
        """
        if len(updates) > 2:
            document = cls()
            try:
                document.apply_update(updates[0])
                document.apply_update(merge_updates(updates[1:]))
                for update in updates[1:]:
                    document.apply_update(update)
            except ProtocolError:
                pass
            else:
                return document
        document = cls()
        document.apply_stored(updates, name=name)
        return document

    def apply_stored(self, updates: Iterable[bytes], *, name: str = "") -> None:
        """Apply stored updates one by one, skipping (and logging) those that fail.

        Stored updates were valid when they were committed: one that fails now is corrupt,
        and losing it is better than losing the document.
        """
        for index, update in enumerate(updates):
            try:
                self.apply_update(update)
            except ProtocolError as exc:
                logger.error("document %s: skipping corrupt stored update %d: %s", name, index, exc)

    def state_vector(self) -> bytes:
        """The encoded state vector: how far this document has seen each client."""
        return self._doc.get_state()

    def diff(self, state_vector: bytes) -> bytes:
        """The update a peer at ``state_vector`` is missing.

        Raises:
            ProtocolError: the state vector cannot be decoded.
        """
        try:
            return self._doc.get_update(state_vector)
        except ValueError as exc:
            raise ProtocolError("invalid state vector") from exc

    def full_state(self) -> bytes:
        """The whole document as one update."""
        return self._doc.get_update()
