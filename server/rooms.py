"""The room manager: loads each document once, unloads it when idle, closes all on shutdown.

Its sweeper also saves automatic checkpoints: a room whose document was edited and then went
quiet for ``checkpoint_after`` seconds, or that unloads (or shuts down) with edits not yet
checkpointed, has its ``checkpoint`` callback run once for those edits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from types import TracebackType

from crdt import CollabError, Document
from server.channel import CloseCode
from server.checkpoints import Checkpoints
from server.connection import Connection
from server.room import Room, RoomClosing, RoomServices, RoomState
from storage.errors import StorageError

__all__ = ["RoomManager", "ShuttingDown"]

logger = logging.getLogger("gess.rooms")


HEARTBEAT_SECONDS = 2.0
"""How often each shared room repeats its latest sequence number to the other nodes."""
SILENCE_SECONDS = 3 * HEARTBEAT_SECONDS
"""A node not heard of this long on a document is presumed gone: catch up from the store."""
_JOIN_ATTEMPTS = 3
"""A room may start closing between its load and a join (idle past its grace period): so
many times, the join loads it anew before it gives up."""
SHUTDOWN_CHECKPOINT_SECONDS = 10.0
"""The longest the checkpoints of a shutdown may take together."""

"""Saves an automatic version of a document from what the store has committed."""


class ShuttingDown(CollabError):
    """The node is shutting down and takes no new connection."""


class RoomManager:
    """Every room of this node.

    An async context manager: inside it, rooms' commit loops and the idle sweeper run in the
    manager's task group; leaving it commits everything pending and closes every connection
    with :attr:`CloseCode.GOING_AWAY`.

    Args:
        services: the store, broker and metrics every room uses.
        grace_seconds: how long an idle room stays loaded (a reconnecting client finds it warm).
        presence_timeout: how long presence relayed from another node lives unless renewed.
        checkpoints: saves automatic versions of documents (None: no checkpoints).
        checkpoint_after: seconds of quiet after a commit before a checkpoint is saved
            (``0``: no checkpoints).
    """

    def __init__(
        self,
        services: RoomServices,
        *,
        grace_seconds: float = 5.0,
        presence_timeout: float = 30.0,
        checkpoints: Checkpoints | None = None,
        checkpoint_after: float = 0.0,
    ) -> None:
        self._services = services
        self._store = services.store
        self._broker = services.broker
        self._metrics = services.metrics
        self._grace = grace_seconds
        self._presence_timeout = presence_timeout
        self._rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Future[Room]] = {}
        self._task_group: asyncio.TaskGroup | None = None
        self._shutting_down = False
        self._sweeper_stop = asyncio.Event()
        self._checkpoints = checkpoints if checkpoint_after > 0 else None
        self._checkpoint_after = checkpoint_after
        self._checkpointing: set[str] = set()
        self._borrowed: dict[str, int] = {}

    async def __aenter__(self) -> RoomManager:
        self._task_group = asyncio.TaskGroup()
        await self._task_group.__aenter__()
        self._task_group.create_task(self._sweep())
        self._broker.on_resubscribed(self._catch_up_all)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task_group is not None
        await self.shutdown()
        self._sweeper_stop.set()
        await self._task_group.__aexit__(exc_type, exc, tb)

    @property
    def rooms(self) -> dict[str, Room]:
        """Loaded rooms by document id (a copy: for metrics, events and tests)."""
        return dict(self._rooms)

    def room(self, document_id: str) -> Room | None:
        """The document's room if it is loaded and open on this node."""
        room = self._rooms.get(document_id)
        return room if room is not None and room.state is RoomState.OPEN else None

    async def join(self, document_id: str, connection: Connection) -> Room:
        """Put a connection into the document's room, loading the document if needed.

        Concurrent joins of a document that is not loaded share one load.

        Raises:
            ShuttingDown: the node takes no new connection.
            StorageError: the document could not be loaded.
        """
        for _ in range(_JOIN_ATTEMPTS):
            room = await self._open_room(document_id)
            try:
                await room.join(connection)
            except RoomClosing:
                continue  # it started closing while we waited for the hold: load it anew
            return room
        raise StorageError(f"document {document_id} kept closing while loading; try again")

    async def _open_room(self, document_id: str) -> Room:
        """The document's open room, loaded if needed (one load for concurrent callers).

        Raises:
            ShuttingDown: the node takes no new work.
            StorageError: the document could not be loaded.
        """
        while True:
            if self._shutting_down:
                raise ShuttingDown("the server is shutting down")
            room = self._rooms.get(document_id)
            if room is None:
                room = await self._load(document_id)
            if room.state is RoomState.OPEN:
                return room
            # Unloading right now: wait until it is gone, then load it afresh.
            await room.wait_closed()
            self._forget(room)

    @contextlib.asynccontextmanager
    async def borrow(self, document_id: str) -> AsyncIterator[Room]:
        """The document's room for the block, loaded if needed and not unloaded meanwhile.

        For changes the server makes (:meth:`Room.submit`) when nobody may have the document
        open here. Once the block ends the room unloads as usual, after the grace period.

        Raises:
            ShuttingDown: the node takes no new work.
            StorageError: the document could not be loaded.
        """
        room = await self._open_room(document_id)
        self._borrowed[document_id] = self._borrowed.get(document_id, 0) + 1
        try:
            yield room
        finally:
            left = self._borrowed[document_id] - 1
            if left:
                self._borrowed[document_id] = left
            else:
                del self._borrowed[document_id]
            room.usage.restart_idle(room.idle)

    async def _load(self, document_id: str) -> Room:
        future = self._loading.get(document_id)
        if future is None:
            assert self._task_group is not None
            future = asyncio.get_running_loop().create_future()
            self._loading[document_id] = future
            # The load belongs to the manager, not to the client that triggered it: if that
            # client goes away, the others waiting for the same document still get it.
            self._task_group.create_task(self._load_into(document_id, future))
        return await asyncio.shield(future)

    async def _load_into(self, document_id: str, future: asyncio.Future[Room]) -> None:
        try:
            updates = await self._store.load(document_id)
            document = Document.from_stored(updates, name=document_id)
            refused = await self._services.refusals.load(document_id)
            room = Room(
                document_id,
                document,
                self._services,
                refused,
                stored_bytes=sum(map(len, updates)),
            )
            await self._broker.subscribe(document_id, room.delivery.receive)
            if self._broker.shared:
                # Whatever other nodes committed between our read and our subscription.
                room.catch_up()
        except Exception as exc:
            if not isinstance(exc, CollabError):
                logger.exception("document %s: loading failed", document_id)
                exc = StorageError(f"could not load document {document_id}")
            future.set_exception(exc)
            future.exception()  # retrieved here too: every waiter may have gone away
            return
        finally:
            del self._loading[document_id]
        self._rooms[document_id] = room
        self._metrics.document_loads.inc()
        self._metrics.documents_loaded.inc()
        future.set_result(room)
        await self._run_room(room)

    async def _run_room(self, room: Room) -> None:
        try:
            await room.run()
        except Exception:
            logger.exception("document %s: commit loop failed; closing the room", room.document_id)
            await room.close(CloseCode.INTERNAL, "internal error; reconnect to resync")
        finally:
            self._forget(room)

    def _forget(self, room: Room) -> None:
        if self._rooms.get(room.document_id) is room:
            del self._rooms[room.document_id]
            self._metrics.documents_loaded.dec()
            assert self._task_group is not None
            self._task_group.create_task(
                self._broker.unsubscribe(room.document_id, room.delivery.receive)
            )

    async def _catch_up_all(self) -> None:
        for room in self._rooms.values():
            room.catch_up()

    async def _sweep(self) -> None:
        last_beat = time.monotonic()
        interval = max(0.05, min(1.0, self._grace / 2))
        while not self._sweeper_stop.is_set():
            try:
                await asyncio.wait_for(self._sweeper_stop.wait(), interval)
            except TimeoutError:
                pass
            now = time.monotonic()
            beat = self._broker.shared and now - last_beat >= HEARTBEAT_SECONDS
            if beat:
                last_beat = now
            for room in list(self._rooms.values()):
                room.audience.expire_presence(self._presence_timeout)
                if beat:
                    room.delivery.heartbeat(silence=SILENCE_SECONDS)
                quiet = room.usage.quiet_for(now)
                if self._checkpoints is not None and quiet is not None:
                    if quiet >= self._checkpoint_after:
                        self._start_checkpoint(room)
                idle = room.usage.idle_for(now, room.idle)
                if (
                    room.state is RoomState.OPEN
                    and idle is not None
                    and idle >= self._grace
                    and room.document_id not in self._borrowed
                ):
                    logger.debug("unloading idle document %s", room.document_id)
                    await room.close()
                    self._forget(room)
                    if room.usage.edited:
                        self._start_checkpoint(room)

    def _start_checkpoint(self, room: Room) -> None:
        """Checkpoint the room's edits so far in the background (once at a time per document)."""
        if self._checkpoints is None or room.document_id in self._checkpointing:
            return
        room.usage.take_edits()
        self._checkpointing.add(room.document_id)
        assert self._task_group is not None
        self._task_group.create_task(self._run_checkpoint(room.document_id))

    async def _run_checkpoint(self, document_id: str) -> None:
        assert self._checkpoints is not None
        try:
            event = await self._checkpoints.save_checkpoint(document_id)
            room = self._rooms.get(document_id)
            if event is not None and room is not None:
                room.audience.send_event(event, members_only=True)
        except Exception:
            # A checkpoint is a convenience: the edits are committed either way. Never let
            # it take the manager's task group down.
            logger.exception("document %s: automatic checkpoint failed", document_id)
        finally:
            self._checkpointing.discard(document_id)

    async def shutdown(self) -> None:
        """Commit everything pending and close every connection with 1001 (idempotent).

        Documents still loading are waited for first: a room that opened after this looked
        would run its commit loop forever, and the manager's exit would wait for it.
        """
        self._shutting_down = True
        while self._loading:
            await asyncio.wait(list(self._loading.values()))
        rooms = list(self._rooms.values())
        if rooms:
            await asyncio.gather(
                *(room.close(CloseCode.GOING_AWAY, "server shutting down") for room in rooms)
            )
        edited = [
            r.document_id
            for r in rooms
            if r.usage.edited and r.document_id not in self._checkpointing
        ]
        if self._checkpoints is not None and edited:
            for room in rooms:
                room.usage.take_edits()
            try:
                async with asyncio.timeout(SHUTDOWN_CHECKPOINT_SECONDS):
                    await asyncio.gather(*(self._run_checkpoint(d) for d in edited))
            except TimeoutError:
                logger.warning("checkpoints at shutdown took too long; some were not saved")
