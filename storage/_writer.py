"""Group commit: one transaction for every append that arrives while a commit is in flight.

A keystroke is an append; committing each one on its own would cost one fsync (SQLite) or
one WAL flush (PostgreSQL) per keystroke per user. Instead a single writer task takes
whatever has queued up, commits it as one batch, and wakes the appenders of that batch.
While it commits, the next batch queues. Under light load a batch is one append and adds no
delay; under heavy load batches grow, up to a bound, and the number of transactions stays
flat.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from anyio.lowlevel import checkpoint_if_cancelled

from storage.errors import StorageError

__all__ = ["BatchWriter", "PendingAppend"]


@dataclass(eq=False, slots=True)
class PendingAppend:
    """One update waiting for its batch to commit."""

    document_id: str
    update: bytes
    author: str | None = None
    error: BaseException | None = None
    """Set, before :attr:`done` is resolved, if this append did not commit."""
    done: asyncio.Future[None] | None = None
    """Resolved once the append's batch is (given by :meth:`BatchWriter.submit`)."""


class BatchWriter:
    """The queue of appends and the loop that commits them in batches.

    Args:
        commit: writes one batch in one transaction. It sets ``error`` on the appends it
            rejects on their own (an unknown document) and raises :class:`StorageError`
            if the transaction failed, in which case none of the batch was stored.
        max_rows: the most appends in one batch.
        max_bytes: the most update bytes in one batch (a larger single update still goes,
            alone).
        max_queued: appends queued behind the batch being committed; :meth:`submit` waits
            for room beyond that, which pushes back on whoever produces updates too fast.

    Its waits are asyncio's own, not anyio's: an append is on every keystroke's path, and
    anyio's semaphore yields to the event loop even when it has room (on a loop busy sending
    to readers, a turn behind all of them) and enters a cancel scope on every call. An
    asyncio semaphore with room returns at once, and a future per append is all a wait needs.
    """

    def __init__(
        self,
        commit: Callable[[list[PendingAppend]], Awaitable[None]],
        *,
        max_rows: int,
        max_bytes: int,
        max_queued: int,
    ) -> None:
        if max_rows < 1 or max_bytes < 1 or max_queued < 1:
            raise ValueError("batch and queue bounds must be positive")
        self._commit = commit
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._queue: deque[PendingAppend] = deque()
        self._room = asyncio.Semaphore(max_queued)
        self._wakeup = asyncio.Event()
        self._in_flight = 0
        self._closed = False

    @property
    def pending(self) -> int:
        """Appends queued or being committed (not those still waiting for queue room)."""
        return len(self._queue) + self._in_flight

    async def submit(self, item: PendingAppend) -> None:
        """Queue an append and wait until its batch is resolved; then check ``item.error``.

        Raises:
            StorageError: the writer is closed.
        """
        if self._closed:
            raise StorageError("the store is closed")
        await self._room.acquire()
        if self._closed:
            self._room.release()
            raise StorageError("the store is closed")
        # No checkpoint from here to the wait: once queued, the writer owns the item and
        # commits it even if this caller is cancelled (which cancels only the future).
        done = item.done = asyncio.get_running_loop().create_future()
        self._queue.append(item)
        self._wakeup.set()
        await done

    def close(self) -> None:
        """Accept no more appends; :meth:`run` commits what is queued, then returns."""
        self._closed = True
        self._wakeup.set()

    async def run(self) -> None:
        """Commit batches until closed and drained. Run it in the owner's task group.

        If this task dies (cancelled, or a bug), every append it holds or that is still
        queued fails with :class:`StorageError` instead of waiting forever. A cancellation
        takes effect between batches if ``commit`` shields its transaction.
        """
        batch: list[PendingAppend] = []
        try:
            while True:
                # The commit itself does not yield to cancellation (the committer shields
                # it); this is where a cancelled writer stops, between batches.
                await checkpoint_if_cancelled()
                if not self._queue:
                    if self._closed:
                        return
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                batch = self._take_batch()
                self._in_flight = len(batch)
                try:
                    await self._commit(batch)
                except StorageError as exc:
                    for item in batch:
                        item.error = exc
                self._resolve(batch)
                batch = []
        finally:
            self._closed = True
            stopped = StorageError("the store stopped; this update may not be stored")
            leftovers = [*batch, *self._queue]
            for _ in self._queue:
                # Wakes submitters waiting for room, which then see the writer closed.
                self._room.release()
            self._queue.clear()
            for item in leftovers:
                item.error = item.error or stopped
            self._resolve(leftovers)

    def _take_batch(self) -> list[PendingAppend]:
        batch = [self._queue.popleft()]
        size = len(batch[0].update)
        while self._queue and len(batch) < self._max_rows:
            size += len(self._queue[0].update)
            if size > self._max_bytes:
                break
            batch.append(self._queue.popleft())
        for _ in batch:
            self._room.release()
        return batch

    def _resolve(self, batch: list[PendingAppend]) -> None:
        for item in batch:
            if item.done is not None and not item.done.done():
                item.done.set_result(None)
        self._in_flight = 0
