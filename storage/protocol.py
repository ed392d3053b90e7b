"""The port through which the server persists documents."""

from __future__ import annotations

from typing import Protocol

__all__ = ["DocumentStore"]


class DocumentStore(Protocol):
    """Durable storage of Yjs documents as a snapshot plus an append-only update log.

    Implementations: :class:`storage.SqlStore` (SQLite or PostgreSQL) and
    :class:`storage.MemoryStore` (an in-memory fake with the same contract, for tests).
    Document ids are non-empty strings of at most 200 characters; every method raises
    ``ValueError`` for any other id.
    """

    async def load(self, document_id: str) -> list[bytes]:
        """Everything stored for a document, creating the document if it is unknown.

        Call this before :meth:`append`: it is what creates a document in this phase. Safe
        when several processes load the same new document at once.

        Args:
            document_id: the document.

        Returns:
            Yjs v1 updates: the snapshot (if any) first, then every log entry not yet folded
            into it, as stored. Empty for a new document. Yjs updates commute, so applying
            them in any order gives the same document; apply them one by one, since an entry
            may be corrupt.

        Raises:
            StorageError: the database failed; nothing was created.
        """
        ...

    async def append(self, document_id: str, update: bytes, author: str | None = None) -> None:
        """Add an update to a document's log, returning once it is durably committed.

        Concurrent appends (to any documents) may be committed together in one transaction.
        If the caller is cancelled while waiting, the update may or may not be committed.

        Args:
            document_id: a document created by :meth:`load` and not deleted since.
            update: a Yjs v1 update, stored as given.
            author: the id of the account that made it (None: a guest or the system).

        Raises:
            DocumentNotFound: the document does not exist; nothing was stored.
            StorageError: the commit failed (nothing of its batch was stored), or the store
                is not open.
        """
        ...

    async def compact(self, document_id: str) -> bool:
        """Fold the log into the snapshot, atomically and safely against concurrent callers.

        Entries that cannot be decoded, or that depend on updates not stored yet, stay in the
        log; every other entry is folded exactly once.

        Args:
            document_id: the document; an unknown one has nothing to fold.

        Returns:
            True if at least one log entry was folded.

        Raises:
            StorageError: the database failed or the snapshot is corrupt; nothing changed.
        """
        ...

    async def measure(self, document_id: str) -> int:
        """The bytes stored for a document now: its snapshot plus its log entries.

        An exact figure read from the database (not a count kept in memory), so it covers
        what other processes appended and compacted. Costs one query; callers keep their
        own running estimate and measure when it matters.

        Returns:
            0 for an unknown document.

        Raises:
            StorageError: the database failed.
        """
        ...

    async def delete(self, document_id: str) -> None:
        """Remove a document, its snapshot and its log. Unknown documents are ignored.

        Raises:
            StorageError: the database failed; nothing was removed.
        """
        ...

    async def exists(self, document_id: str) -> bool:
        """Whether the document exists (was loaded and not deleted since).

        Raises:
            StorageError: the database failed.
        """
        ...
