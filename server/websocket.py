"""The WebSocket endpoint: a thin adapter between a socket and a room.

It authenticates, joins the room, then feeds each frame to the room and lets the
connection's writer send what the room queues. Every way out of the loop ends in a close
code and a reason a person can read.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.types import Receive, Scope, Send

from crdt import DocumentNotFound, DocumentTooLarge, ProtocolError, decode
from server.admission import Admission, Refusal, Ticket, client_address, send_ws_refusal
from server.auth import Authenticator, ConnectRequest
from server.channel import AsgiChannel, Channel, CloseCode
from server.config import Settings
from server.connection import Connection
from server.errors import AuthError, Forbidden
from server.limits import MessageRate
from server.metrics import Metrics
from server.room import Room
from server.rooms import RoomManager, ShuttingDown
from storage.errors import StorageError
from storage.schema import MAX_DOCUMENT_ID_LENGTH

__all__ = ["DOCUMENT_ID", "SOCKET_PREFIX", "Hub", "valid_document_id", "websocket_endpoint"]

logger = logging.getLogger("gess.websocket")

DOCUMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:~-]{0,199}")
"""Document ids: 1 to 200 URL-safe characters, not starting with punctuation."""


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


_TRUE = {"1", "true", "yes", "on"}

SOCKET_PREFIX = "/ws/"
"""Document sockets live at ``/ws/{document_id}``."""


@dataclass(frozen=True, slots=True)
class Hub:
    """What the endpoint needs from the running node."""

    settings: Settings
    metrics: Metrics
    rooms: RoomManager
    authenticate: Authenticator
    admission: Admission


async def websocket_endpoint(hub: Hub, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ``/ws/{document_id}`` socket: a raw ASGI app, under no framework layer.

    Every message a client receives passes through here, so nothing sits between the
    ASGI server and the channel (no middleware or router frames kept alive per socket).
    A client refused by :meth:`Admission.screen` gets an HTTP answer and no WebSocket.
    """
    path: str = scope["path"]
    document_id = path[len(SOCKET_PREFIX) :]
    handshake = HTTPConnection(scope)
    request = ConnectRequest(
        document_id=document_id,
        query=dict(handshake.query_params),
        headers=dict(handshake.headers),
        cookies=dict(handshake.cookies),
        scheme=handshake.url.scheme,
    )
    del handshake
    ticket = hub.admission.screen(request, client_address(scope))
    if isinstance(ticket, Refusal):
        await send_ws_refusal(receive, send, ticket)
        return
    try:
        channel = AsgiChannel(receive, send)
        if not await channel.accept():
            return
        hub.metrics.connections.inc()
        try:
            await _serve(hub, channel, request, ticket)
        finally:
            hub.metrics.connections.dec()
    finally:
        ticket.release()


async def _serve(hub: Hub, channel: Channel, request: ConnectRequest, ticket: Ticket) -> None:
    document_id = request.document_id
    anonymous = hub.settings.anonymous
    if not valid_document_id(document_id, anonymous=anonymous):
        await channel.close(
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
        await channel.close(CloseCode.NOT_FOUND, f"document {document_id} not found{detail}")
        return
    except Forbidden as exc:
        await channel.close(CloseCode.FORBIDDEN, f"forbidden: {exc}")
        return
    except AuthError as exc:
        await channel.close(CloseCode.UNAUTHENTICATED, f"not authenticated: {exc}")
        return

    too_many = ticket.join_account(principal.user_id)
    if too_many is not None:
        await channel.close(CloseCode.LIMITED, too_many)
        return
    wants_saved = request.query.get("saved", "").lower() in _TRUE
    wants_events = request.query.get("events", "").lower() in _TRUE
    # The copies of the query, headers and cookies are not needed past this point, and a
    # connection may live for hours: do not keep them alive in this frame.
    del request
    async with asyncio.TaskGroup() as tasks:
        # The writer task runs only while the client is behind: an idle socket has just
        # this task, the reader.
        connection = Connection(
            channel,
            principal,
            hub.metrics,
            wants_saved=wants_saved,
            wants_events=wants_events,
            queue_limit=hub.settings.send_queue_messages,
            spawn=tasks.create_task,
        )
        try:
            room = await hub.rooms.join(document_id, connection)
        except ShuttingDown:
            connection.close(CloseCode.GOING_AWAY, "server shutting down")
            return
        except StorageError:
            connection.close(CloseCode.INTERNAL, "the document could not be loaded; try again")
            return
        try:
            await _read(hub, channel, room, connection)
        finally:
            room.leave(connection)
            connection.close(CloseCode.NORMAL, "")


async def _read(hub: Hub, channel: Channel, room: Room, connection: Connection) -> None:
    limit = hub.settings.max_message_bytes
    metrics = hub.metrics
    rate = MessageRate(hub.admission.rates, time.monotonic())
    try:
        async for data in channel:
            metrics.messages_received.inc()
            metrics.bytes_received.inc(len(data))
            if len(data) > limit:
                connection.close(
                    CloseCode.TOO_LARGE,
                    f"message of {len(data)} bytes exceeds the limit of {limit} bytes",
                    drain=False,
                )
                return
            flooding = rate.admit(len(data), time.monotonic())
            if flooding is not None:
                connection.close(CloseCode.LIMITED, f"{flooding}; slow down", drain=False)
                return
            await room.handle(connection, decode(data))
            if connection.closing:
                return
    except ProtocolError as exc:
        logger.info("document %s: closing a connection: %s", room.document_id, exc)
        connection.close(CloseCode.MALFORMED, f"malformed message: {exc}", drain=False)
    except DocumentTooLarge as exc:
        logger.info("document %s: refused a change: %s", room.document_id, exc)
        connection.close(CloseCode.TOO_LARGE, str(exc), drain=False)
    except StorageError as exc:
        # The exact size could not be measured: refuse rather than guess; nothing was applied.
        logger.warning("document %s: closing a connection: %s", room.document_id, exc)
        connection.close(
            CloseCode.INTERNAL, "the server could not check the document's size; reconnect"
        )
