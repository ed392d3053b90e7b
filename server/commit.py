"""What a room's commit loop commits: the queue of pending updates, and a batch's append.

A room applies an update to its document, then queues it here (:class:`CommitQueue`); its
commit loop takes everything queued since the last commit as one batch. A batch is stored
as one log entry per author (the log keeps who wrote what, for versions and activity), and
sent to the clients as one merged update. Whoever must see only committed state waits until
what was queued before it has settled (:meth:`CommitQueue.wait_settled`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from crdt import Saved, encode, merge_updates
from server.channel import CloseCode
from server.connection import Connection
from server.metrics import Metrics
from storage import DocumentStore
from storage.errors import StorageError

__all__ = ["CommitQueue", "Pending", "abandon", "acknowledge", "append_batch", "resolve"]


@dataclass(slots=True)
class Pending:
    """An update applied to the room's document and waiting for its commit."""

    update: bytes
    author: str | None
    """The account it is attributed to in the log (None: a guest)."""
    writer: Connection | None
    """The connection that sent it; None for a change the server made."""
    done: asyncio.Future[None] | None = None
    """Resolved once it is committed, for a change the server made."""


class CommitQueue:
    """The updates a room applied and has not committed yet, oldest first.

    Args:
        metrics: counts the pending updates.
    """

    __slots__ = (
        "_metrics",
        "_pending",
        "_progress",
        "_received",
        "_settled",
        "_wakeup",
        "inflight_bytes",
        "pending_bytes",
    )

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._pending: list[Pending] = []
        self.pending_bytes = 0
        """Bytes queued and not taken yet."""
        self.inflight_bytes = 0
        """Bytes of the batch being committed."""
        self._received = 0
        self._settled = 0
        self._wakeup = asyncio.Event()
        self._progress = asyncio.Condition()

    @property
    def uncommitted(self) -> int:
        """Bytes applied to the document and not committed yet."""
        return self.pending_bytes + self.inflight_bytes

    @property
    def empty(self) -> bool:
        """Nothing queued (a batch may still be committing)."""
        return not self._pending

    @property
    def settled(self) -> bool:
        """Everything ever queued has been committed or failed."""
        return self._received == self._settled

    def put(self, pending: Pending) -> None:
        """Queue an update the room applied; wakes the commit loop."""
        self._pending.append(pending)
        self.pending_bytes += len(pending.update)
        self._received += 1
        self._metrics.updates_pending.inc()
        self._wakeup.set()

    def wake(self) -> None:
        """Wake the commit loop (a repair is due, or the room is closing)."""
        self._wakeup.set()

    async def wait_for_work(self) -> None:
        """Sleep until :meth:`put` or :meth:`wake`; for the commit loop, when it is idle."""
        self._wakeup.clear()
        await self._wakeup.wait()

    def take(self) -> list[Pending]:
        """Everything queued, as the next batch; call :meth:`done` once it is committed."""
        batch, self._pending, self.pending_bytes = self._pending, [], 0
        self.inflight_bytes = sum(len(p.update) for p in batch)
        return batch

    async def done(self, batch: list[Pending]) -> None:
        """The batch is committed (or failed): wake whoever waits for it to settle."""
        self.inflight_bytes = 0
        self._settled += len(batch)
        self._metrics.updates_pending.dec(len(batch))
        await self.notify()

    async def notify(self) -> None:
        """Make the waiters of :meth:`wait_settled` check again (their ``stop`` changed)."""
        async with self._progress:
            self._progress.notify_all()

    async def wait_settled(self, stop: Callable[[], bool]) -> None:
        """Wait until everything queued so far has settled, or ``stop()`` is true."""
        target = self._received
        if self._settled >= target:
            return
        async with self._progress:
            await self._progress.wait_for(lambda: self._settled >= target or stop())


async def append_batch(store: DocumentStore, document_id: str, batch: list[Pending]) -> bytes:
    """Commit a batch, one log entry per author; return the whole batch as one update.

    Raises:
        StorageError: an append failed (others of the batch may have committed: the room
            rebuilds from the store).
        ProtocolError: the updates could not be merged.
    """
    by_author: dict[str | None, list[bytes]] = {}
    for pending in batch:
        by_author.setdefault(pending.author, []).append(pending.update)
    if len(by_author) == 1:
        ((author, updates),) = by_author.items()
        merged = merge_updates(updates)
        await store.append(document_id, merged, author=author)
        return merged
    parts = {author: merge_updates(updates) for author, updates in by_author.items()}
    # Concurrent appends share one transaction of the store's group commit.
    results = await asyncio.gather(
        *(store.append(document_id, part, author=a) for a, part in parts.items()),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return merge_updates(list(parts.values()))


def resolve(batch: list[Pending], error: Exception | None = None) -> None:
    """Tell the server's own changes in a batch that it committed (or why it did not)."""
    for pending in batch:
        if pending.done is not None and not pending.done.done():
            if error is None:
                pending.done.set_result(None)
            else:
                pending.done.set_exception(error)


def acknowledge(batch: list[Pending], committed: bytes) -> None:
    """Tell a committed batch's writers that it is saved, then resolve the server's changes.

    Args:
        batch: the batch, committed.
        committed: the committed state vector, sent (encoded once) to the writers that take
            Saved messages.
    """
    saved = encode(Saved(committed))
    for writer in {p.writer for p in batch if p.writer is not None}:
        if writer.sync.takes_saved():
            writer.send(saved)
    resolve(batch)


def abandon(batch: list[Pending], error: Exception) -> None:
    """A batch could not be stored: close its writers (they send it again when they reconnect)
    and fail the server's changes in it with a StorageError."""
    for writer in {p.writer for p in batch if p.writer is not None}:
        writer.close(
            CloseCode.INTERNAL,
            "the server could not save your changes; reconnect to send them again",
            drain=False,
        )
    resolve(batch, StorageError(f"not saved: {error}"))
