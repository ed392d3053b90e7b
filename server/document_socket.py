"""The document socket on the wire: a WebSocket served by an asyncio protocol of our own.

uvicorn parses the HTTP request; when it asks for ``/ws/...`` the connection's transport is
handed to a :class:`DocumentSocket` (see :mod:`server.listener`), which does the handshake
and reads and writes frames with the `websockets` library's sans-I/O protocol (its
handshake checks, frame parser, ping/pong and close handshake), and nothing else in
between. Owning the transport is what makes the hot path cheap:

- **Frame once, write many.** A server's frames are not masked, so a message going to a
  hundred readers is framed once and the same bytes are written to each transport
  (:attr:`~server.channel.Outgoing.frame`): one ``transport.write`` per reader, no
  per-reader coroutine, queue or ASGI message.
- **Writing never waits.** The transport takes every write; when its buffer passes the
  high-water mark asyncio calls :meth:`~DocumentSocket.pause_writing`, and from then on the
  socket refuses writes (:meth:`~DocumentSocket.write` returns False) until
  :meth:`~DocumentSocket.resume_writing`, so a slow reader's messages wait, merged, in its
  connection instead of in memory of the transport.
- **An idle socket is a few objects**: no task, no queue, no kept handshake. What the
  client sends is handed to the socket's :class:`Receiver` as whole messages (fragments
  joined); the receiver acts on them as they come, and runs a task only for one that has
  to wait.

Keepalive (:class:`~server.websocket.Keepalive`) pings every open document socket at an
interval, in one sweep of the node's connections.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from http import HTTPStatus
from typing import Protocol, cast

from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeaderValue
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import Event, State
from websockets.server import ServerProtocol

from server.channel import CloseCode, Outgoing

__all__ = ["CLOSE_TIMEOUT", "DocumentSocket", "Handshake", "Protocols", "Receiver", "clip_reason"]

_WIRE_LOG = logging.getLogger("gess.websocket.wire")
"""The `websockets` protocol's own logger: it says "connection open" and "connection
closed" at INFO for every socket, which a busy node should not print; its warnings and
errors still show."""
_WIRE_LOG.setLevel(logging.WARNING)

CLOSE_TIMEOUT = 10.0
"""Seconds a client has to answer our close frame before its TCP connection is dropped."""

_PING = Frame(Opcode.PING, b"").serialize(mask=False)

# RFC 6455 limits a close reason to 123 bytes of UTF-8.
_MAX_REASON_BYTES = 123


def _discard(ws: ServerProtocol) -> None:
    """Let reference counting free a protocol no socket uses any more.

    Its parser is a suspended generator whose frame refers to the protocol: a cycle, which
    only the cyclic collector would free. With the node's thresholds (:mod:`server.cli`) it
    runs every few thousand connections; the protocols dropped in between pile up, and once
    freed leave holes among the long-lived objects of the sockets opened meanwhile. Closing
    the generator ends the cycle, so the protocol goes as soon as it is dropped.
    """
    ws.parser.close()


def clip_reason(reason: str) -> str:
    """``reason`` cut to what a close frame can carry (123 bytes of UTF-8)."""
    raw = reason.encode()
    if len(raw) <= _MAX_REASON_BYTES:
        return reason
    return raw[: _MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."


class Receiver(Protocol):
    """What a document socket reports to once it is open."""

    def received(self, data: bytes) -> None:
        """One whole binary message from the client."""
        ...

    def writable(self) -> None:
        """The socket drained and takes writes again."""
        ...

    def ended(self) -> None:
        """The TCP connection is gone; nothing more will be received or sent."""
        ...


class DocumentSocket(asyncio.Protocol):
    """One document socket, from the handshake to the end of its TCP connection.

    It is the connection's :class:`~server.channel.Channel` (:meth:`write`,
    :meth:`close`). uvicorn counts it among its connections (the node's connection cap,
    and :meth:`shutdown` when the server stops).

    Args:
        transport: the TCP connection, already carrying the HTTP request.
        protocols: where the socket gets the `websockets` protocol for its frames, and
            gives it back between messages (:class:`Protocols`).
        connections: uvicorn's set of open connections.
    """

    __slots__ = (
        "_closer",
        "_connections",
        "_fragments",
        "_paused",
        "_protocols",
        "_transport",
        "_ws",
        "heard",
        "receiver",
    )

    def __init__(
        self, transport: asyncio.Transport, protocols: Protocols, connections: set[object]
    ) -> None:
        self._transport = transport
        self._protocols = protocols
        self._ws: ServerProtocol | None = None
        """The `websockets` protocol, once the socket is open: one while a message is on
        its way in or a close under way; None between messages (see :meth:`_rest`)."""
        self._connections = connections
        self._fragments: list[bytes] | None = None
        """The parts of a fragmented message so far."""
        self._paused = False
        self._closer: asyncio.TimerHandle | None = None
        self.heard = True
        """Something came from the client since the last keepalive sweep."""
        self.receiver: Receiver | None = None
        """Who is told about messages, once the socket is open."""
        connections.add(self)
        transport.set_protocol(self)

    # -- the handshake ---------------------------------------------------------------------

    def respond(self, response: Response) -> None:
        """Send the answer to the handshake (:meth:`Handshake.answer`): the socket is open
        if it is a 101; after any other answer the connection is closed."""
        self._transport.write(response.serialize())
        if response.status_code != 101:
            self._transport.close()

    def refuse(self, status: int, headers: Iterable[tuple[bytes, bytes]], body: bytes) -> None:
        """Answer the handshake with an HTTP error instead of a WebSocket, then close."""
        fields = Headers(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in headers
        )
        fields["Content-Length"] = str(len(body))
        self.respond(Response(status, HTTPStatus(status).phrase, fields, body))

    # -- what the client sends -------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self.heard = True
        ws = self._protocol()
        ws.receive_data(data)
        events = ws.events_received()
        if events and self.receiver is not None:
            self._deliver(events, self.receiver)
        self._flush()
        self._rest(len(data))

    def _protocol(self) -> ServerProtocol:
        """The `websockets` protocol; an open socket that gave its back gets one again."""
        ws = self._ws
        if ws is None:
            ws = self._ws = self._protocols.take()
        return ws

    def _rest(self, received: int) -> None:
        """Give the protocol back between messages.

        An open socket at a frame boundary (nothing of a frame or of a fragmented message
        buffered, no close under way) has no protocol state worth keeping: its parser,
        buffers and lists are about 1.6 KiB, more than a third of what an idle socket would
        otherwise cost.
        """
        ws = self._ws
        if (
            ws is not None
            and ws.state is State.OPEN
            and ws.current_size is None
            and not ws.reader.buffer
            and self._fragments is None
            and self.receiver is not None
        ):
            self._ws = None
            self._protocols.give_back(ws, received)

    def _closed_by_us(self) -> bool:
        """We sent a close frame first: what the client sends now is not read."""
        ws = self._ws
        return ws is not None and ws.close_sent is not None and not ws.close_rcvd_then_sent

    def _deliver(self, events: Iterable[Event], receiver: Receiver) -> None:
        # Frames that came before the client's close frame are still its messages.
        for frame in events:
            if not isinstance(frame, Frame) or self._closed_by_us():
                continue
            opcode = frame.opcode
            if opcode is Opcode.BINARY or opcode is Opcode.CONT:
                # The parser gives each payload as bytes (unmasked into a new object).
                data = cast("bytes", frame.data)
                fragments = self._fragments
                if not frame.fin:
                    if fragments is None:
                        self._fragments = [data]
                    else:
                        fragments.append(data)
                    continue
                if fragments is not None:
                    fragments.append(data)
                    data = b"".join(fragments)
                    self._fragments = None
                receiver.received(data)
            elif opcode is Opcode.TEXT:
                self.close(
                    CloseCode.MALFORMED,
                    "text frames are not accepted: send binary Yjs messages",
                )

    def eof_received(self) -> bool | None:
        self._protocol().receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closer is not None:
            self._closer.cancel()
            self._closer = None
        self._connections.discard(self)
        self._fragments = None
        ws, self._ws = self._ws, None
        if ws is not None:
            _discard(ws)
        receiver, self.receiver = self.receiver, None
        if receiver is not None:
            receiver.ended()

    # -- flow control ----------------------------------------------------------------------

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self.receiver is not None:
            self.receiver.writable()

    def pause_reading(self) -> None:
        """Stop reading from the client (its messages wait to be acted on)."""
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        if not self._transport.is_closing():
            self._transport.resume_reading()

    # -- the channel -----------------------------------------------------------------------

    def write(self, message: Outgoing) -> bool:
        """Write a message now, unless the socket's buffer is full (False)."""
        ws = self._ws
        if (ws is not None and ws.state is not State.OPEN) or self._transport.is_closing():
            raise ConnectionError("socket closed")
        if self._paused:
            return False
        self._transport.write(message.frame)
        return True

    def close(self, code: int, reason: str) -> None:
        """Start the close handshake (once); the TCP connection is dropped if the client
        does not answer within :data:`CLOSE_TIMEOUT`."""
        if self._transport.is_closing():
            return
        ws = self._protocol()
        if ws.state is not State.OPEN:
            return
        ws.send_close(code, clip_reason(reason))
        self._flush()

    def shutdown(self) -> None:
        """uvicorn is stopping: close with 1001 if nothing closed the socket already."""
        self.close(CloseCode.GOING_AWAY, "server shutting down")

    def ping(self) -> None:
        ws = self._ws
        if (ws is None or ws.state is State.OPEN) and not self._transport.is_closing():
            # The protocol keeps no record of pings: no need to make one to send it.
            self._transport.write(_PING)

    def abort(self) -> None:
        """Drop the TCP connection at once."""
        self._transport.abort()

    def _flush(self) -> None:
        ws = self._ws
        if ws is None:
            return
        transport = self._transport
        for data in ws.data_to_send():
            if data:
                transport.write(data)
            else:
                # The end of the stream: after a close handshake, the server ends the TCP
                # connection first (RFC 6455, 7.1.1).
                transport.close()
        if self._closer is None and ws.close_expected() and not transport.is_closing():
            loop = asyncio.get_running_loop()
            self._closer = loop.call_later(CLOSE_TIMEOUT, transport.abort)


class Handshake:
    """The opening handshake's checks, for every document socket of a node.

    uvicorn has parsed the upgrade request already (:func:`server.websocket.handshake_request`
    gives it as a `websockets` request); what is left is the `websockets` library's
    checks of it and the answer they give. They are made by one protocol that never carries
    a connection: :meth:`ServerProtocol.accept` reads the request and the protocol's
    settings and writes only its per-call results (the negotiated extensions and
    subprotocol, the handshake error), which are read back before the next call. A socket
    therefore gets no protocol of its own, with its id and buffers, for its handshake.
    """

    __slots__ = ("_checker",)

    def __init__(self) -> None:
        self._checker = ServerProtocol(logger=_WIRE_LOG)

    def answer(self, request: Request) -> Response:
        """The answer to a handshake request, not sent yet: 101, or the 4xx that the
        `websockets` checks chose; a version other than 13 gets 426 and the version to
        use."""
        checker = self._checker
        checker.handshake_exc = None
        response = checker.accept(request)
        problem = checker.handshake_exc
        if isinstance(problem, InvalidHeaderValue) and problem.name == "Sec-WebSocket-Version":
            # RFC 6455, 4.2.2: name the versions the server speaks (websockets says 400).
            response = Response(
                426,
                "Upgrade Required",
                Headers({"Sec-WebSocket-Version": "13", "Connection": "close"}),
                response.body,
            )
            response.headers["Content-Length"] = str(len(response.body))
        return response


class Protocols:
    """The `websockets` protocols of a node's document sockets.

    A socket holds one only while a message is on its way in (or a close is under way), and
    gives it back at a frame boundary. A protocol given back is in the very state of a new
    one (open, nothing buffered, its parser waiting for a frame header), so the next socket
    that receives something takes it instead of making one (a few microseconds each, once
    per batch of frames: a few percent of the CPU when thousands of people type). At most
    ``spare`` wait; one that just read a large batch is not kept (its parser still refers
    to the last frame it read).

    Args:
        max_size: the largest message the `websockets` parser reads; bigger frames are
            refused by it with 1009 (ours, with a readable 4413, sits below it).
        spare: protocols kept for reuse, at most.
    """

    __slots__ = ("_max_size", "_spare", "_spare_limit")

    REUSE_BELOW = 64 * 1024
    """A protocol that read this many bytes or more in its last batch is not reused."""

    def __init__(self, max_size: int, spare: int = 256) -> None:
        self._max_size = max_size
        self._spare: list[ServerProtocol] = []
        self._spare_limit = spare

    def take(self) -> ServerProtocol:
        """An open protocol at a frame boundary."""
        if self._spare:
            return self._spare.pop()
        return ServerProtocol(state=State.OPEN, max_size=self._max_size, logger=_WIRE_LOG)

    def give_back(self, protocol: ServerProtocol, received: int) -> None:
        """Keep ``protocol`` for another socket (it is open, at a frame boundary, and has
        handed out its events and writes)."""
        if received < self.REUSE_BELOW and len(self._spare) < self._spare_limit:
            self._spare.append(protocol)
        else:
            _discard(protocol)
