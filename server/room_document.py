"""A room's in-memory document: how far it can be trusted, its size, and its repair.

The document is ahead of the store by the room's pending updates; beyond that it should hold
exactly what the store committed. Two things break that (:class:`DocumentState`): envelopes
from other nodes get lost (it is *behind*: catch up from the store), or something entered
it that the store does not hold (a commit failed, or Yrs failed halfway through an update:
it is *broken*, rebuild it from the store). The room runs both repairs under its hold, with
nothing pending, so nobody reads the document meanwhile; this module does the reading and
keeps the state, through :func:`~server.room_state.advance`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from crdt import (
    EMPTY_UPDATE,
    Document,
    DocumentTooLarge,
    PoisonedUpdate,
    ProtocolError,
    decode_state_vector,
)
from crdt.dependencies import UpdateFacts, deletes_anything_new, inspect_update
from server.room_state import DocumentState, advance
from storage import DocumentStore

__all__ = ["INSPECT_IN_THREAD_BYTES", "RoomDocument"]

logger = logging.getLogger("gess.room")

INSPECT_IN_THREAD_BYTES = 64 * 1024
"""Updates larger than this are read for their dependencies in a worker thread
(:meth:`RoomDocument.inspect_early`)."""

Early = tuple[dict[int, int], UpdateFacts]
"""What :meth:`RoomDocument.inspect_early` found, and against which state vector."""


class RoomDocument:
    """The document of one room.

    Args:
        document_id: the document's id.
        document: as loaded from the store.
        store: where it is committed.
        max_bytes: the most bytes the document may take in the store.
        stored_bytes: what the store held for it when loaded (the sum of the updates).
    """

    __slots__ = (
        "_deferred",
        "_document_id",
        "_max_bytes",
        "_store",
        "_vector",
        "current",
        "state",
        "stored_bytes",
    )

    def __init__(
        self,
        document_id: str,
        document: Document,
        store: DocumentStore,
        *,
        max_bytes: int,
        stored_bytes: int = 0,
    ) -> None:
        self._document_id = document_id
        self._store = store
        self._max_bytes = max_bytes
        self.current = document
        """The document itself; replaced by a rebuild."""
        self._vector: dict[int, int] | None = None
        """The document's state vector, decoded, kept up to date by :meth:`apply` (reading
        it from Yrs and decoding it for every update took about a tenth of the CPU when
        thousands typed); None: read it again."""
        self.state = DocumentState.CURRENT
        self._deferred: list[bytes] | None = None
        """While a rebuild reads the store: updates from other nodes, for the new document
        (kept even if the document falls behind or breaks again meanwhile)."""
        self.stored_bytes = stored_bytes
        """At least what the store holds for this document once everything accepted here
        is committed: the size at load, plus every update accepted or received since. It
        only grows (a compaction shrinks the real figure), so it is measured again before
        anything is refused on its account: see :meth:`check_size`."""

    # -- requests --------------------------------------------------------------------------

    def fell_behind(self) -> bool:
        """Note that committed updates were missed; whether a repair is now due."""
        match self.state:
            case DocumentState.CURRENT | DocumentState.CATCHING_UP:
                self.state = advance(self.state, DocumentState.BEHIND)
            case DocumentState.REBUILDING:
                # The reload may have read the store before the lost updates committed.
                self.state = advance(self.state, DocumentState.BROKEN)
            case DocumentState.BEHIND | DocumentState.BROKEN:
                return False
        return True

    def broke(self) -> None:
        """Note that the document holds what the store does not: rebuild before reading."""
        if self.state is not DocumentState.BROKEN:
            self.state = advance(self.state, DocumentState.BROKEN)

    # -- inspection ------------------------------------------------------------------------

    async def inspect_early(self, update: bytes) -> Early:
        """Read a large update's dependencies in a worker thread, before it waits its turn.

        Reading one struct by struct takes a while (a full resync: ~20 µs a struct): off the
        event loop, against the state of now. Dependencies only grow, so the answer stays
        good unless the document is rebuilt meanwhile (:meth:`inspect` checks). Worth it
        past :data:`INSPECT_IN_THREAD_BYTES`.
        """
        state = dict(self._state())  # a copy: the thread reads it while updates apply
        return state, await asyncio.to_thread(inspect_update, update, state)

    def inspect(self, update: bytes, early: Early | None) -> UpdateFacts:
        """What an update adds, deletes and lacks, against the document as it is now (what
        is pending counts, since it commits first): call with no await before applying."""
        now = self._state()
        if early is not None and all(now.get(c, 0) >= k for c, k in early[0].items()):
            return early[1]
        return inspect_update(update, now)

    def refused_clocks(
        self, update: bytes, sender_ids: Iterable[int]
    ) -> tuple[dict[int, int], dict[int, int] | None]:
        """The clocks to refuse for an update that may not enter: what it adds per client,
        and, if it deletes anything the document has, the sender's awareness ids at their
        clocks (deletions name no client)."""
        vector = self.current.state_vector()
        state = decode_state_vector(vector)
        facts = inspect_update(update, state)
        deletes: dict[int, int] | None = None
        if facts.deleted and deletes_anything_new(facts.deleted, self.current.diff(vector)):
            deletes = {c: state.get(c, 0) for c in sender_ids}
        return dict(facts.adds), deletes

    # -- changes ---------------------------------------------------------------------------

    def _state(self) -> dict[int, int]:
        vector = self._vector
        if vector is None:
            vector = self._vector = decode_state_vector(self.current.state_vector())
        return vector

    def apply(self, update: bytes, facts: UpdateFacts | None = None) -> None:
        """Apply an update accepted here (it commits later).

        Args:
            update: the update.
            facts: what :meth:`inspect` found just before (nothing missing), to move the
                state vector along; None: it is read again when next needed.

        Raises:
            PoisonedUpdate: Yrs failed halfway; the document is now broken.
            ProtocolError: the update does not decode; nothing changed.
        """
        try:
            self.current.apply_update(update)
        except PoisonedUpdate:
            self._vector = None
            self.broke()
            raise
        vector = self._vector
        if facts is None or facts.missing is not None:
            self._vector = None
        elif vector is not None:
            # Nothing was missing: each client's structs run on from what the document had,
            # so its clock is now the end of them (deletions do not move it).
            for client, end in facts.ends.items():
                if end > vector.get(client, 0):
                    vector[client] = end
        self.stored_bytes += len(update)

    def apply_remote(self, update: bytes) -> bool:
        """Apply an update another node committed; whether to send it to the clients now.

        During a rebuild it waits for the new document (and goes out with the rebuild's
        diff). One that breaks Yrs breaks the document but still goes out: it is committed.
        """
        if self._deferred is not None:
            self._deferred.append(update)
            return False
        self._vector = None
        try:
            self.current.apply_update(update)
        except PoisonedUpdate:
            self.broke()
        except ProtocolError as exc:
            logger.error("document %s: bad update from another node: %s", self._document_id, exc)
            return False
        self.stored_bytes += len(update)
        return True

    def fits(self, update: bytes) -> bool:
        """Whether the running estimate alone lets an update in (:meth:`check_size` then
        needs no await)."""
        return self.stored_bytes + len(update) <= self._max_bytes

    async def check_size(self, update: bytes, uncommitted: int) -> None:
        """Refuse an update that would take the document past its size limit.

        The running estimate is cheap and never too low, so most updates pass on it alone;
        when it says no, the store is asked for the exact figure (which reflects
        compactions, here and on other nodes) and the estimate restarts from it. Updates
        accepted concurrently by other connections may still add one message each.

        Args:
            update: the update to check.
            uncommitted: bytes accepted here and not committed yet (not in the measure,
                but on their way).

        Raises:
            DocumentTooLarge: the update would not fit; nothing of it was applied.
            StorageError: the store could not measure the document.
        """
        if self.fits(update):
            return
        limit = self._max_bytes
        measured = await self._store.measure(self._document_id)
        self.stored_bytes = measured + uncommitted
        if self.stored_bytes + len(update) > limit:
            raise DocumentTooLarge(
                f"document too large: it holds {self.stored_bytes} bytes and this change "
                f"of {len(update)} bytes would pass the limit of {limit} bytes"
            )

    # -- repairs (under the room's hold, nothing pending) ----------------------------------

    async def rebuild(self) -> bytes | None:
        """Reload the document from the store.

        Returns:
            What updates from other nodes that arrived meanwhile add, for the clients (they
            were committed there and not sent here yet), or None.

        Raises:
            StorageError: the store could not be read; the document stays broken.
        """
        logger.warning("document %s: rebuilding from the store", self._document_id)
        self.state = advance(self.state, DocumentState.REBUILDING)
        self._deferred = []
        try:
            stored = await self._store.load(self._document_id)
        except BaseException:
            if self.state is DocumentState.REBUILDING:
                self.state = advance(self.state, DocumentState.BROKEN)
            raise
        finally:
            deferred, self._deferred = self._deferred, None
        document = Document.from_stored(stored, name=self._document_id)
        self.stored_bytes = sum(map(len, stored))
        before = document.state_vector()
        document.apply_stored(deferred, name=self._document_id)
        self.current = document
        self._vector = None
        if self.state is DocumentState.REBUILDING:
            self.state = advance(self.state, DocumentState.CURRENT)
        # Deletions do not move the state vector, so the diff carries the whole delete set.
        return document.diff(before) if deferred else None

    async def catch_up(self) -> bytes | None:
        """Merge in whatever the store has that the document lacks.

        Returns:
            What that adds, for the clients, or None.

        Raises:
            StorageError: the store could not be read; the document stays behind.
        """
        self.state = advance(self.state, DocumentState.CATCHING_UP)
        document = self.current
        before = document.state_vector()
        try:
            stored = await self._store.load(self._document_id)
        except BaseException:
            if self.state is DocumentState.CATCHING_UP:
                self.state = advance(self.state, DocumentState.BEHIND)
            raise
        document.apply_stored(stored, name=self._document_id)
        self._vector = None
        self.stored_bytes = sum(map(len, stored))
        if self.state is DocumentState.CATCHING_UP:
            self.state = advance(self.state, DocumentState.CURRENT)
        # Deletions do not move the state vector, so the diff carries the whole delete set.
        diff = document.diff(before)
        return None if diff == EMPTY_UPDATE else diff
