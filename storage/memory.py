"""An in-memory document store: the fake of :class:`~storage.DocumentStore` for tests.

It keeps the contract of :class:`~storage.SqlStore` (documents created by ``load``,
``DocumentNotFound`` for appends to unknown documents, the same folding rules) without a
database, durability or concurrency control: everything happens in one event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType

from anyio.lowlevel import checkpoint

from crdt.errors import DocumentNotFound
from storage._fold import fold
from storage._ids import check_document_id

__all__ = ["MemoryStore"]


@dataclass(slots=True)
class _StoredDocument:
    snapshot: bytes | None = None
    folded_updates: int = 0
    log: dict[int, bytes] = field(default_factory=dict)


class MemoryStore:
    """A :class:`~storage.DocumentStore` held in a dict. Nothing survives the process.

    It can be used as an async context manager, like :class:`~storage.SqlStore`, but needs
    not be.
    """

    def __init__(self) -> None:
        self._documents: dict[str, _StoredDocument] = {}
        self._next_key = 1

    @property
    def pending(self) -> int:
        """Always 0: an append is stored before it returns."""
        return 0

    async def __aenter__(self) -> MemoryStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def folded_updates(self, document_id: str) -> int:
        """How many log entries were ever folded into the document's snapshot (for tests)."""
        stored = self._documents.get(document_id)
        return 0 if stored is None else stored.folded_updates

    async def load(self, document_id: str) -> list[bytes]:
        """See :meth:`storage.DocumentStore.load`."""
        check_document_id(document_id)
        await checkpoint()
        stored = self._documents.setdefault(document_id, _StoredDocument())
        head = [] if stored.snapshot is None else [stored.snapshot]
        return head + list(stored.log.values())

    async def append(self, document_id: str, update: bytes, author: str | None = None) -> None:
        """See :meth:`storage.DocumentStore.append`."""
        check_document_id(document_id)
        await checkpoint()
        stored = self._documents.get(document_id)
        if stored is None:
            raise DocumentNotFound(f"no document {document_id!r}")
        stored.log[self._next_key] = bytes(update)
        self._next_key += 1

    async def compact(self, document_id: str) -> bool:
        """See :meth:`storage.DocumentStore.compact`."""
        check_document_id(document_id)
        await checkpoint()
        stored = self._documents.get(document_id)
        if stored is None or not stored.log:
            return False
        result = fold(document_id, stored.snapshot, list(stored.log.items()))
        if not result.folded:
            return False
        stored.snapshot = result.state
        stored.folded_updates += len(result.folded)
        for key in result.folded:
            del stored.log[key]
        return True

    async def measure(self, document_id: str) -> int:
        """See :meth:`storage.DocumentStore.measure`."""
        check_document_id(document_id)
        await checkpoint()
        stored = self._documents.get(document_id)
        if stored is None:
            return 0
        return len(stored.snapshot or b"") + sum(map(len, stored.log.values()))

    async def delete(self, document_id: str) -> None:
        """See :meth:`storage.DocumentStore.delete`."""
        check_document_id(document_id)
        await checkpoint()
        self._documents.pop(document_id, None)

    async def exists(self, document_id: str) -> bool:
        """See :meth:`storage.DocumentStore.exists`."""
        check_document_id(document_id)
        await checkpoint()
        return document_id in self._documents
