"""A live, self-healing connection of one pycrdt document to a GESS server."""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup, TaskStatus
from pycrdt import Doc, TransactionEvent
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from client._awareness import Awareness
from client._backoff import Backoff
from client._errors import AuthError
from client._transport import ConnectFailed, close_error, open_socket
from crdt.errors import CollabError, ProtocolError
from crdt.session import (
    AwarenessChanged,
    ClientSession,
    PermissionDenied,
    ServerEvent,
    SyncState,
)

__all__ = ["Session", "SessionState"]

logger = logging.getLogger("gess.client")

AWARENESS_RENEW_INTERVAL = 15.0
"""Seconds between renewals of our awareness state (Yjs times states out after 30 s)."""

_CLOSE_TIMEOUT = 5.0


class SessionState(enum.Enum):
    """The lifecycle of a :class:`Session`; it only moves forward."""

    OPEN = "open"
    """Inside ``async with connect(...)``: connected, or reconnecting."""
    CLOSED = "closed"
    """The context exited; the socket was closed with 1000."""
    FAILED = "failed"
    """A fatal error (see :attr:`Session.error`) stopped the session."""


class Session:
    """One document kept in sync with the server; obtain it from :func:`client.connect`,
    which owns its lifecycle (constructing one directly starts nothing).

    Edit :attr:`doc` with ordinary pycrdt calls: changes are sent as they are committed, or
    on reconnection if the socket is down. Remote changes are applied in transactions whose
    origin is :attr:`origin`. Everything runs on the event loop of the ``connect`` block;
    do not touch the session or its document from other threads.
    """

    def __init__(
        self,
        uri: str,
        *,
        doc: Doc[Any] | None,
        reconnect: bool,
        backoff: Backoff,
        max_size: int | None,
        open_timeout: float,
        event_queue_size: int,
    ) -> None:
        self._uri = uri
        self._label = uri.split("?", 1)[0]
        """The URI for logs: the query may hold a token."""
        self._reconnect = reconnect
        self._backoff = backoff
        self._max_size = max_size
        self._open_timeout = open_timeout
        self._sync = ClientSession(doc)
        self.awareness = Awareness(self._sync, self._after_local_change, self._check)
        """Our presence and everyone else's."""
        self._server_events: deque[ServerEvent] = deque(maxlen=max(1, event_queue_size))
        self.events_dropped = 0
        """Server events discarded because :meth:`events` was not read fast enough."""
        self.permission_denied: str | None = None
        """The reason of the server's last refusal (an Auth message), if any."""
        self.error: CollabError | None = None
        """The fatal error that stopped the session, if any."""
        self._state = SessionState.OPEN
        self._error_raised = False
        self._denials = 0
        self._socket: ClientConnection | None = None
        self._synced = False
        self._changed = anyio.Event()
        self._send_ready = anyio.Event()
        self._closing = anyio.Event()
        self._stopped = anyio.Event()
        self._subscription = self._sync.doc.observe(self._on_transaction)

    # -- public ---------------------------------------------------------------------------

    @property
    def doc(self) -> Doc[Any]:
        """The shared document."""
        return self._sync.doc

    @property
    def origin(self) -> object:
        """The origin of the transactions that apply remote changes to :attr:`doc`."""
        return self._sync.origin

    @property
    def state(self) -> SessionState:
        """Where the session is in its lifecycle."""
        return self._state

    @property
    def connected(self) -> bool:
        """Whether the socket is open (it may still be syncing)."""
        return self._socket is not None

    @property
    def is_synced(self) -> bool:
        """Whether the socket is open and the document in sync with the server."""
        return self._synced

    async def synced(self) -> None:
        """Wait until the document is in sync with the server (at once if it is).

        Raises:
            CollabError: the session failed or closed.
        """
        await self._wait_for(lambda: self._synced)

    async def wait_until(self, predicate: Callable[[], object]) -> None:
        """Wait until ``predicate()`` is true, checking it now and after every change of the
        session: a document update (local or remote), a connection opened or lost, a sync,
        a Saved ack, an awareness change, a server event.

        Raises:
            CollabError: the session failed or closed first.
        """
        await self._wait_for(lambda: bool(predicate()))

    async def saved(self) -> None:
        """Wait until the server has durably committed every local change made so far.

        The server acknowledges commits with Saved messages; this returns once one covers the
        document's clock for our client id (and for any client id the document held when
        the session started). Changes made while waiting are not waited for.

        Raises:
            AuthError: the server refused a change (e.g. read-only access), so it will never
                be saved.
            CollabError: the session failed or closed before the changes were saved.
        """
        target = self._sync.local_clocks()
        denials = self._denials

        def done() -> bool:
            return self._sync.is_saved(target) or self._denials > denials

        await self._wait_for(done)
        if not self._sync.is_saved(target):
            raise AuthError(f"the server refused a change: {self.permission_denied}")

    async def events(self) -> AsyncIterator[ServerEvent]:
        """Server events (comments, versions, members...), oldest first, until the session
        closes. The queue is bounded: when it is full the oldest event is dropped and
        :attr:`events_dropped` counts it.

        Raises:
            CollabError: the session failed.
        """
        while True:
            while self._server_events:
                yield self._server_events.popleft()
            if self._state is SessionState.CLOSED:
                return
            self._check()
            await self._changed.wait()

    # -- waiting and signalling -------------------------------------------------------------

    def _check(self) -> None:
        if self.error is not None:
            self._error_raised = True
            raise self.error
        if self._state is SessionState.CLOSED:
            raise CollabError("the session is closed")

    async def _wait_for(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            self._check()
            await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def _after_local_change(self) -> None:
        self._dispatch()
        self._send_ready.set()

    def _on_transaction(self, event: TransactionEvent) -> None:
        # Runs inside pycrdt's commit: only signal, never raise.
        self._send_ready.set()
        self._notify()

    def _dispatch(self) -> None:
        awareness_changed = False
        for event in self._sync.events():
            match event:
                case ServerEvent():
                    if len(self._server_events) == self._server_events.maxlen:
                        self.events_dropped += 1
                    self._server_events.append(event)
                case PermissionDenied(reason):
                    logger.warning("%s: the server refused a change: %s", self._label, reason)
                    self.permission_denied = reason
                    self._denials += 1
                case AwarenessChanged():
                    awareness_changed = True
                case _:
                    pass
        if awareness_changed:
            self.awareness._notify()
        self._notify()

    def _fail(self, error: CollabError) -> None:
        if self.error is None and self._state is SessionState.OPEN:
            logger.error("%s: session stopped: %s", self._label, error)
            self.error = error
            self._state = SessionState.FAILED
            self.awareness._notify()
            self._notify()

    # -- the connection loop ----------------------------------------------------------------

    async def _run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        attempt = 0
        try:
            while not self._closing.is_set():
                try:
                    socket = await open_socket(
                        self._uri, max_size=self._max_size, open_timeout=self._open_timeout
                    )
                except ConnectFailed as exc:
                    error, fatal = exc.error, exc.fatal
                else:
                    error, fatal, synced = await self._serve(socket)
                    if synced:
                        attempt = 0
                if self._closing.is_set():
                    return
                if fatal or not self._reconnect:
                    self._fail(error)
                    return
                delay = self._backoff.delay(attempt)
                attempt += 1
                logger.info("%s: %s; reconnecting in %.2f s", self._label, error, delay)
                with anyio.move_on_after(delay):
                    await self._closing.wait()
        finally:
            self._stopped.set()

    async def _serve(self, socket: ClientConnection) -> tuple[CollabError, bool, bool]:
        """Run one connection until it closes; return (error, fatal, whether it synced)."""
        self._socket = socket
        self._sync.connection_made()
        self._notify()
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._write, socket)
                try:
                    async for frame in socket:
                        if isinstance(frame, str):
                            raise ProtocolError("the server sent a text frame")
                        self._sync.receive(frame)
                        self._dispatch()
                        self._send_ready.set()
                except ProtocolError as exc:
                    await socket.close(1002, "malformed message from the server")
                    tasks.cancel_scope.cancel()
                    return exc, True, self._synced
                except ConnectionClosed:
                    pass
                tasks.cancel_scope.cancel()
            error, fatal = close_error(socket.close_code, socket.close_reason or "")
            return error, fatal, self._synced
        finally:
            self._socket = None
            self._synced = False
            self._sync.connection_lost()
            self._dispatch()

    async def _write(self, socket: ClientConnection) -> None:
        try:
            while True:
                self._send_ready = anyio.Event()
                for frame in self._sync.data_to_send():
                    await socket.send(frame)
                if not self._synced and self._sync.state is SyncState.SYNCED:
                    self._synced = True
                    self._notify()
                if self._closing.is_set():
                    await socket.close(1000, "client closed")
                    return
                await self._send_ready.wait()
        except ConnectionClosed:
            # The reader sees the close too and reports it.
            pass

    async def _renew_awareness(self) -> None:
        while True:
            await anyio.sleep(AWARENESS_RENEW_INTERVAL)
            self._sync.renew_awareness()
            self._send_ready.set()

    # -- lifecycle --------------------------------------------------------------------------

    async def _start(self, tasks: TaskGroup) -> None:
        await tasks.start(self._run)
        tasks.start_soon(self._renew_awareness)
        await self.synced()

    async def _close(self) -> None:
        """Announce that we leave, close the socket with 1000, stop the tasks."""
        if self._state is SessionState.OPEN:
            self._sync.set_local_state(None)
            self._dispatch()
        self._closing.set()
        self._send_ready.set()
        with anyio.move_on_after(_CLOSE_TIMEOUT):
            await self._stopped.wait()
        if self._state is SessionState.OPEN:
            self._state = SessionState.CLOSED
        self._sync.doc.unobserve(self._subscription)
        self._sync.close()
        self.awareness._notify()
        self._notify()
