"""The real document store: SQLite or PostgreSQL through SQLAlchemy's async engine."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from types import TracebackType

import anyio
from anyio.abc import TaskGroup
from anyio.lowlevel import checkpoint_if_cancelled
from sqlalchemy.ext.asyncio import AsyncEngine

from crdt.errors import DocumentNotFound
from storage import _queries as queries
from storage._fold_worker import fold_off_loop
from storage._ids import check_document_id
from storage._transactions import DATABASE_ERRORS, INTEGRITY_ERRORS, shielded
from storage._writer import BatchWriter, PendingAppend
from storage.engine import SqliteAppender, open_sqlite_appender, snapshot_reader
from storage.errors import StorageError

__all__ = ["SqlStore", "StoreState"]

logger = logging.getLogger("storage.sql")

# Folds of one document found stale in a row (another fold committed first) before giving
# up until the next threshold.
_STALE_FOLD_RETRIES = 3


class StoreState(enum.Enum):
    """Lifecycle of a :class:`SqlStore`: CREATED → OPEN → CLOSING → CLOSED."""

    CREATED = "created"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class SqlStore:
    """A :class:`~storage.DocumentStore` on a SQLAlchemy async engine (SQLite or PostgreSQL).

    Use it as an async context manager: entering starts the writer task (group commit, see
    :meth:`append`) and background compaction in the store's own task group; leaving commits
    everything still queued, lets running compactions finish, then stops. Every method
    requires the store to be open. The database must be migrated first
    (:func:`storage.upgrade_database`). The engine is the caller's: the store never disposes
    of it.

    Cancellation waits for the transaction under way (see
    :func:`storage._transactions.shielded`): a cancelled call, or a store left by a
    cancellation, first finishes the transaction it started, so a commit is never left
    half-known; appends still queued then fail with StorageError.

    Args:
        engine: from :func:`storage.create_engine`.
        compact_threshold: a document is compacted in the background once this many of its
            log entries are unfolded, as counted by this store since it loaded the document
            (seeded with the count at load). ``0`` disables automatic compaction.
        on_commit: called after each committed batch with its size (updates stored) and the
            seconds its transaction took, for metrics. It runs on the writer task: keep it
            quick, and do not raise.
        max_batch_rows: the most appends committed in one transaction.
        max_batch_bytes: the most update bytes committed in one transaction (an update
            larger than that still commits, alone).
        max_queued: appends that may queue behind the running commit before :meth:`append`
            waits for room.
        max_fold_entries: the most log entries one compaction transaction reads; a longer
            log is folded in several transactions.
        max_concurrent_compactions: background compactions running at once (each holds a
            database connection).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        compact_threshold: int = 500,
        on_commit: Callable[[int, float], None] | None = None,
        max_batch_rows: int = 1000,
        max_batch_bytes: int = 4 * 1024 * 1024,
        max_queued: int = 10_000,
        max_fold_entries: int = 10_000,
        max_concurrent_compactions: int = 2,
    ) -> None:
        if compact_threshold < 0 or max_fold_entries < 1 or max_concurrent_compactions < 1:
            raise ValueError("thresholds and limits must be positive")
        self._engine = engine
        self._reader = snapshot_reader(engine)
        self._compact_threshold = compact_threshold
        self._on_commit = on_commit
        self._max_fold_entries = max_fold_entries
        self._writer = BatchWriter(
            self._commit_batch,
            max_rows=max_batch_rows,
            max_bytes=max_batch_bytes,
            max_queued=max_queued,
        )
        self._appender: SqliteAppender | None = None
        self._state = StoreState.CREATED
        self._stack = AsyncExitStack()
        self._task_group: TaskGroup | None = None
        self._compaction_slots = anyio.CapacityLimiter(max_concurrent_compactions)
        # Unfolded log entries per document, as far as this process knows: seeded by load,
        # raised by our commits, lowered by our compactions. Other processes' appends are not
        # counted; they trigger compaction on their own node.
        self._unfolded: dict[str, int] = {}
        self._compacting: set[str] = set()

    @property
    def state(self) -> StoreState:
        """Where the store is in its lifecycle."""
        return self._state

    @property
    def pending(self) -> int:
        """Appends accepted and not yet committed (or failed)."""
        return self._writer.pending

    async def __aenter__(self) -> SqlStore:
        if self._state is not StoreState.CREATED:
            raise RuntimeError(f"cannot open a store that is {self._state.value}")
        try:
            self._appender = await open_sqlite_appender(self._engine)
        except DATABASE_ERRORS as exc:
            raise StorageError(f"cannot open the database for appends: {exc}") from exc
        if self._appender is not None:
            # Pushed before the task group, so closed after the writer has drained.
            self._stack.push_async_callback(self._appender.aclose)
        self._task_group = await self._stack.enter_async_context(anyio.create_task_group())
        self._task_group.start_soon(self._writer.run)
        self._state = StoreState.OPEN
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._state is not StoreState.OPEN:
            raise RuntimeError(f"cannot close a store that is {self._state.value}")
        self._state = StoreState.CLOSING
        self._writer.close()
        try:
            if exc is None or isinstance(exc, Exception):
                # An error in the body is no reason to drop acknowledged-pending appends:
                # let the writer drain, then re-raise the error (by returning None).
                await self._stack.aclose()
            else:
                # Cancellation or interpreter exit: stop the tasks now.
                await self._stack.__aexit__(exc_type, exc, traceback)
        finally:
            self._state = StoreState.CLOSED
            self._task_group = None

    async def load(self, document_id: str) -> list[bytes]:
        """See :meth:`storage.DocumentStore.load`."""
        self._check_open()
        check_document_id(document_id)
        try:
            with shielded():
                async with self._engine.begin() as connection:
                    await queries.insert_document(connection, document_id)
                    updates, unfolded = await queries.load_document(connection, document_id)
        except DATABASE_ERRORS as exc:
            raise StorageError(f"cannot load document {document_id!r}: {exc}") from exc
        self._unfolded[document_id] = unfolded
        self._maybe_compact(document_id)
        return updates

    async def append(self, document_id: str, update: bytes, author: str | None = None) -> None:
        """See :meth:`storage.DocumentStore.append`.

        The update joins the next batch: every append that arrives while a commit is in
        flight, across all documents, is committed in one transaction, up to the batch
        bounds. If that transaction fails, every append of the batch raises.
        """
        self._check_open()
        check_document_id(document_id)
        item = PendingAppend(document_id, update, author)
        await self._writer.submit(item)
        if isinstance(item.error, DocumentNotFound):
            raise DocumentNotFound(f"no document {document_id!r}") from None
        if item.error is not None:
            raise StorageError(f"cannot append to document {document_id!r}") from item.error

    async def compact(self, document_id: str) -> bool:
        """See :meth:`storage.DocumentStore.compact`."""
        self._check_open()
        check_document_id(document_id)
        return await self._compact(document_id) > 0

    async def delete(self, document_id: str) -> None:
        """See :meth:`storage.DocumentStore.delete`.

        Appends to the document still queued will raise :class:`DocumentNotFound`.
        """
        self._check_open()
        check_document_id(document_id)
        try:
            with shielded():
                async with self._engine.begin() as connection:
                    await queries.delete_document(connection, document_id)
        except DATABASE_ERRORS as exc:
            raise StorageError(f"cannot delete document {document_id!r}: {exc}") from exc
        self._unfolded.pop(document_id, None)

    async def measure(self, document_id: str) -> int:
        """See :meth:`storage.DocumentStore.measure`. Takes no write lock."""
        self._check_open()
        check_document_id(document_id)
        try:
            with shielded():
                async with self._reader.begin() as connection:
                    return await queries.stored_size(connection, document_id)
        except DATABASE_ERRORS as exc:
            raise StorageError(f"cannot measure document {document_id!r}: {exc}") from exc

    async def exists(self, document_id: str) -> bool:
        """See :meth:`storage.DocumentStore.exists`."""
        self._check_open()
        check_document_id(document_id)
        try:
            with shielded():
                async with self._engine.connect() as connection:
                    found = await queries.existing_documents(connection, [document_id])
        except DATABASE_ERRORS as exc:
            raise StorageError(f"cannot look up document {document_id!r}: {exc}") from exc
        return bool(found)

    def _check_open(self) -> None:
        if self._state is not StoreState.OPEN:
            raise StorageError(f"the store is {self._state.value}")

    async def _commit_batch(self, batch: list[PendingAppend]) -> None:
        """Write one batch in one transaction (the writer's ``commit``)."""
        started = time.perf_counter()
        # Sorted, so that two processes' batches lock rows in the same order.
        document_ids = sorted({item.document_id for item in batch})
        try:
            if all(document_id in self._unfolded for document_id in document_ids):
                # Documents this store loaded exist unless someone deleted them since: insert
                # straight away, one round trip fewer on the hot path.
                try:
                    known = set(document_ids)
                    await self._insert(batch, known)
                except INTEGRITY_ERRORS:
                    # Deleted elsewhere (another node): look before inserting, as below.
                    known = await self._insert(batch, None)
            else:
                known = await self._insert(batch, None)
        except DATABASE_ERRORS as exc:
            raise StorageError(f"cannot commit {len(batch)} updates: {exc}") from exc
        rows = [(i.document_id, i.update) for i in batch if i.document_id in known]
        elapsed = time.perf_counter() - started
        for item in batch:
            if item.document_id not in known:
                item.error = DocumentNotFound(item.document_id)
                self._unfolded.pop(item.document_id, None)  # back to checking first
        if not rows:
            return
        if self._on_commit is not None:
            try:
                self._on_commit(len(rows), elapsed)
            except Exception:
                # A metrics bug must not fail appends that are already durable.
                logger.exception("on_commit callback failed")
        for document_id, _ in rows:
            self._unfolded[document_id] = self._unfolded.get(document_id, 0) + 1
        for document_id in document_ids:
            self._maybe_compact(document_id)

    async def _insert(self, batch: list[PendingAppend], known: set[str] | None) -> set[str]:
        """Insert a batch in one transaction; return the documents it was inserted for.

        On a SQLite file this is one call to the store's :class:`SqliteAppender`; otherwise
        (PostgreSQL) a transaction of the engine.

        Args:
            batch: the appends.
            known: documents taken to exist (a missing one fails the whole transaction with
                an IntegrityError), or None to check inside the transaction first, so that
                one stale append (its document was deleted) is refused alone instead of
                failing everyone's batch on the foreign key.
        """
        if self._appender is not None:
            # The appender shields its own wait for its thread; a deadline could not stop
            # that thread anyway (SQLite's busy timeout bounds it).
            rows = [(i.document_id, i.update, i.author) for i in batch]
            return await self._appender.append(rows, check=known is None)
        with shielded():
            async with self._engine.begin() as connection:
                if known is None:
                    ids = sorted({item.document_id for item in batch})
                    known = await queries.existing_documents(connection, ids)
                rows = [
                    (i.document_id, i.update, i.author) for i in batch if i.document_id in known
                ]
                if rows:
                    await queries.insert_updates(connection, rows)
        return known

    def _maybe_compact(self, document_id: str) -> None:
        if (
            self._compact_threshold == 0
            or self._state is not StoreState.OPEN
            or self._task_group is None
            or document_id in self._compacting
            or self._unfolded.get(document_id, 0) < self._compact_threshold
        ):
            return
        self._compacting.add(document_id)
        self._task_group.start_soon(self._compact_in_background, document_id)

    async def _compact_in_background(self, document_id: str) -> None:
        try:
            async with self._compaction_slots:
                await self._compact(document_id)
        except StorageError:
            # The log keeps the entries; the next commit past the threshold retries.
            logger.exception("background compaction of document %r failed", document_id)
        finally:
            self._compacting.discard(document_id)

    async def _compact(self, document_id: str) -> int:
        """Fold the whole log, ``max_fold_entries`` at a time; the number of entries folded.

        Each round reads the snapshot and the log in a read-only transaction (no write lock),
        folds them off the event loop, then swaps the result in with a short write
        transaction (:func:`storage._queries.swap_fold`). So a fold, whose time grows with the
        document, never holds a lock that other writers wait for. A round whose swap finds
        that another fold committed meanwhile is read and folded again, a few times at most:
        the other fold has made the progress this one would have.
        """
        total = 0
        stale = 0
        while True:
            # Each transaction is shielded; between them, a cancellation stops the loop.
            await checkpoint_if_cancelled()
            try:
                with shielded():
                    async with self._reader.begin() as connection:
                        read = await queries.read_fold_input(
                            connection, document_id, max_entries=self._max_fold_entries
                        )
            except DATABASE_ERRORS as exc:
                raise StorageError(f"cannot compact document {document_id!r}: {exc}") from exc
            if read is None:
                return total
            result = await fold_off_loop(document_id, read.snapshot, read.entries)
            swapped = False
            if result.folded:
                try:
                    with shielded():
                        async with self._engine.begin() as connection:
                            swapped = await queries.swap_fold(connection, document_id, read, result)
                except queries.FoldConflict:
                    swapped = False
                except DATABASE_ERRORS as exc:
                    raise StorageError(f"cannot compact document {document_id!r}: {exc}") from exc
                if not swapped:
                    stale += 1
                    if stale < _STALE_FOLD_RETRIES:
                        continue
                    return total
            folded = len(result.folded) if swapped else 0
            total += folded
            if document_id in self._unfolded:
                # Entries left in the log are not counted again, or a document with many
                # corrupt entries would be compacted after every commit; they are retried
                # with the next threshold's worth of new entries.
                remaining = self._unfolded[document_id] - folded - len(result.kept)
                self._unfolded[document_id] = max(0, remaining)
            if read.exhausted or folded == 0:
                return total
