"""An open document socket's life above the wire: who it is, its room, and its messages.

A :class:`Session` authenticates the socket, joins the document's room and acts on each
message the client sends, in order. It runs a task only while it has something to wait
for: from the handshake until the socket has joined its room, and then from a message that
has to wait (a sync answer, a store that is behind) until the messages after it are acted
on. Every other message, nearly all of them, is acted on as it arrives, with no task and no
turn of the event loop. An idle socket has no task. Every way out ends in a close code and a
reason a person can read.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from crdt import DocumentNotFound, DocumentTooLarge, ProtocolError, decode
from server.admission import Admission
from server.auth import Authenticator, ConnectRequest
from server.channel import CloseCode
from server.config import Settings
from server.connection import Connection
from server.document_socket import DocumentSocket
from server.errors import AuthError, Forbidden
from server.limits import MessageRate
from server.metrics import Metrics
from server.room import Room
from server.rooms import RoomManager, ShuttingDown
from storage.errors import StorageError
from storage.schema import MAX_DOCUMENT_ID_LENGTH

__all__ = ["DOCUMENT_ID", "Hub", "Session", "valid_document_id"]

logger = logging.getLogger("gess.websocket")

DOCUMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:~-]{0,199}")
"""Document ids: 1 to 200 URL-safe characters, not starting with punctuation."""

PAUSE_READING_BYTES = 1024 * 1024
"""Bytes of messages waiting to be acted on beyond which the socket stops reading."""

_TRUE = {"1", "true", "yes", "on"}


def valid_document_id(document_id: str, *, anonymous: bool) -> bool:
    """Whether a socket may open this document id.

    With accounts, ids are the server's own (:data:`DOCUMENT_ID`). In anonymous mode the id
    is a room name chosen by the client, and stock clients and their test suites put any
    name into the URL path (``test-@y/websocket``, names with ``/``): any 1 to 200 printable
    characters (no control characters, no lone surrogates) are taken as they come.
    """
    if anonymous:
        return 0 < len(document_id) <= MAX_DOCUMENT_ID_LENGTH and document_id.isprintable()
    return DOCUMENT_ID.fullmatch(document_id) is not None


@dataclass(frozen=True, slots=True)
class Hub:
    """What a document socket needs from the running node."""

    settings: Settings
    metrics: Metrics
    rooms: RoomManager
    authenticate: Authenticator
    admission: Admission


class Session:
    """One accepted document socket, from the handshake to the end of its connection.

    Args:
        hub: the node.
        socket: the socket, open; the session is its receiver from now on.
        address: the client address :meth:`Admission.screen` counted the socket for; its
            place is given back when the socket ends.
    """

    __slots__ = (
        "_account",
        "_address",
        "_connection",
        "_ended",
        "_hub",
        "_inbox",
        "_rate",
        "_room",
        "_socket",
        "_task",
        "_waiting_bytes",
    )

    def __init__(self, hub: Hub, socket: DocumentSocket, address: str) -> None:
        self._hub = hub
        self._socket = socket
        self._address = address
        self._account: str | None = None
        """The account the socket is counted for, once authenticated (None: a guest)."""
        self._connection: Connection | None = None
        self._room: Room | None = None
        self._inbox: deque[bytes] | None = None
        """Messages not acted on yet; None while there are none."""
        self._waiting_bytes = 0
        self._rate: MessageRate | None = None
        self._task: asyncio.Task[None] | None = None
        self._ended = False
        socket.receiver = self
        hub.metrics.connections.inc()

    def start(self, request: ConnectRequest) -> None:
        """Authenticate and join the room, in a task; then act on what the client sent."""
        self._task = asyncio.get_running_loop().create_task(self._work(self._open(request)))

    # -- what the socket reports (server.document_socket.Receiver) ---------------------------

    def received(self, data: bytes) -> None:
        inbox = self._inbox
        if inbox is None:
            inbox = self._inbox = deque()
        inbox.append(data)
        self._waiting_bytes += len(data)
        if self._waiting_bytes > PAUSE_READING_BYTES:
            self._socket.pause_reading()
        if self._task is None and self._room is not None:
            self._act_now()

    def writable(self) -> None:
        if self._connection is not None:
            self._connection.writable()

    def ended(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._inbox = None
        self._waiting_bytes = 0
        if self._task is None:
            self._leave()
        self._hub.metrics.connections.dec()
        self._hub.admission.release(self._address, self._account)

    # -- the tasks -----------------------------------------------------------------------------

    async def _work(self, steps: Coroutine[None, None, None]) -> None:
        """The session's task: ``steps``, then leave the room if the socket is gone or
        closing. A failure of ours closes the socket with 4500 (logged)."""
        try:
            await steps
        except Exception:
            self._failed()
        finally:
            self._done()

    async def _open(self, request: ConnectRequest) -> None:
        await self._join(request)
        del request  # a connection may live for hours: keep no copy of the handshake
        await self._act()

    def _failed(self) -> None:
        """A failure of ours (a bug): log it, close the socket with 4500."""
        logger.exception("document socket failed")
        self._socket.close(CloseCode.INTERNAL, "the server failed; reconnect")

    def _done(self) -> None:
        self._task = None
        connection = self._connection
        if self._ended or (connection is not None and connection.closing):
            self._leave()

    def _leave(self) -> None:
        """Out of the room (once): the connection's presence disappears for everyone."""
        room, connection = self._room, self._connection
        self._room = None
        if room is not None and connection is not None:
            room.leave(connection)
            connection.close(CloseCode.NORMAL, "")

    async def _join(self, request: ConnectRequest) -> None:
        hub = self._hub
        socket = self._socket
        document_id = request.document_id
        anonymous = hub.settings.anonymous
        if not valid_document_id(document_id, anonymous=anonymous):
            socket.close(
                CloseCode.MALFORMED,
                "invalid document id: use 1-200 printable characters"
                if anonymous
                else "invalid document id: use 1-200 letters, digits and . _ : ~ -",
            )
            return
        try:
            principal = await hub.authenticate(request)
        except DocumentNotFound as exc:
            detail = f": {exc}" if str(exc) else ""
            socket.close(CloseCode.NOT_FOUND, f"document {document_id} not found{detail}")
            return
        except Forbidden as exc:
            socket.close(CloseCode.FORBIDDEN, f"forbidden: {exc}")
            return
        except AuthError as exc:
            socket.close(CloseCode.UNAUTHENTICATED, f"not authenticated: {exc}")
            return
        if self._ended:
            return
        too_many = hub.admission.join_account(principal.user_id)
        if too_many is not None:
            socket.close(CloseCode.LIMITED, too_many)
            return
        self._account = principal.user_id
        connection = Connection(
            socket,
            principal,
            hub.metrics,
            wants_saved=request.query.get("saved", "").lower() in _TRUE,
            wants_events=request.query.get("events", "").lower() in _TRUE,
            queue_limit=hub.settings.send_queue_messages,
        )
        try:
            room = await hub.rooms.join(document_id, connection)
        except ShuttingDown:
            connection.close(CloseCode.GOING_AWAY, "server shutting down")
            return
        except StorageError:
            connection.close(CloseCode.INTERNAL, "the document could not be loaded; try again")
            return
        self._connection = connection
        self._room = room

    def _act_now(self) -> None:
        """Act on the waiting messages at once; from the first one that has to wait, go on
        in a task (:meth:`server.room.Room.act`). A failure of ours closes with 4500."""
        try:
            rest = self._step()
        except Exception:
            self._failed()
            rest = None
        if rest is None:
            self._done()
        else:
            self._task = asyncio.get_running_loop().create_task(self._work(self._finish(rest)))

    async def _act(self) -> None:
        """Act on the waiting messages, in order, until there are none (or the socket
        closes), waiting where a message has to."""
        while (rest := self._step()) is not None:
            await self._settle(rest)

    async def _finish(self, rest: Coroutine[Any, Any, None]) -> None:
        await self._settle(rest)
        await self._act()

    async def _settle(self, rest: Coroutine[Any, Any, None]) -> None:
        """Wait for what acting on a message left to do."""
        try:
            await rest
        except (ProtocolError, DocumentTooLarge, StorageError) as exc:
            self._refused(exc)

    def _step(self) -> Coroutine[Any, Any, None] | None:
        """Act on waiting messages, in order, until there are none, the socket closes, or
        one has to wait: what is left of that one is returned, to await before the next."""
        room, connection = self._room, self._connection
        if room is None or connection is None:
            return None
        hub = self._hub
        limit = hub.settings.max_message_bytes
        metrics = hub.metrics
        while (inbox := self._inbox) and not connection.closing:
            data = inbox.popleft()
            if not inbox:
                self._inbox = None
            self._waiting_bytes -= len(data)
            metrics.messages_received.inc()
            metrics.bytes_received.inc(len(data))
            if len(data) > limit:
                connection.close(
                    CloseCode.TOO_LARGE,
                    f"message of {len(data)} bytes exceeds the limit of {limit} bytes",
                    drain=False,
                )
                return None
            flooding = self._flooding(len(data))
            if flooding is not None:
                connection.close(CloseCode.LIMITED, f"{flooding}; slow down", drain=False)
                return None
            try:
                rest = room.act(connection, decode(data))
            except (ProtocolError, DocumentTooLarge, StorageError) as exc:
                self._refused(exc)
                continue
            if rest is not None:
                return rest
        if not self._waiting_bytes:
            self._socket.resume_reading()
        return None

    def _refused(self, exc: ProtocolError | DocumentTooLarge | StorageError) -> None:
        """Close the connection for a message that could not be acted on."""
        room, connection = self._room, self._connection
        if room is None or connection is None:
            return
        if isinstance(exc, ProtocolError):
            logger.info("document %s: closing a connection: %s", room.document_id, exc)
            connection.close(CloseCode.MALFORMED, f"malformed message: {exc}", drain=False)
        elif isinstance(exc, DocumentTooLarge):
            logger.info("document %s: refused a change: %s", room.document_id, exc)
            connection.close(CloseCode.TOO_LARGE, str(exc), drain=False)
        else:
            # The exact size could not be measured: refuse rather than guess; nothing was
            # applied.
            logger.warning("document %s: closing a connection: %s", room.document_id, exc)
            connection.close(
                CloseCode.INTERNAL, "the server could not check the document's size; reconnect"
            )

    def _flooding(self, size: int) -> str | None:
        """Count a message of ``size`` bytes against the socket's rates: None if within
        them, else why not. With both rates off the socket keeps no rate at all."""
        rates = self._hub.admission.rates
        if not rates.limited:
            return None
        now = time.monotonic()
        rate = self._rate
        if rate is None:
            rate = self._rate = MessageRate(rates, now)
        return rate.admit(size, now)
