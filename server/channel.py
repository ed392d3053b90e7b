"""The transport seam: rooms talk to a :class:`Channel`, never to Starlette directly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from enum import IntEnum
from typing import TYPE_CHECKING, Literal, Protocol, TypedDict, cast

from crdt import ProtocolError

if TYPE_CHECKING:
    from starlette.types import Receive, Send

__all__ = ["AsgiChannel", "Channel", "CloseCode", "MemoryChannel", "Outgoing", "outgoing"]


class CloseCode(IntEnum):
    """WebSocket close codes the server uses; each comes with a readable reason."""

    NORMAL = 1000
    GOING_AWAY = 1001
    """The server is shutting down; reconnect to it or another node."""
    MALFORMED = 4400
    """The client sent bytes that are not a valid message, update or state vector."""
    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    REFUSED_CHANGES = 4409
    """The client's copy holds changes the document refused (made while it could not write):
    it must start again from the server's state (a new document, i.e. reload)."""
    TOO_LARGE = 4413
    """A message exceeded the size limit, or a change would make the document exceed its
    stored size limit (the reason says which)."""
    TOO_SLOW = 4429
    """The client did not read fast enough; reconnecting resyncs it."""
    LIMITED = 4429
    """The same code for a client over a limit: messages or bytes per second, or sockets
    of its account. The reason says which."""
    INTERNAL = 4500
    """The server could not store the client's changes; reconnecting resends them."""


class Outgoing(TypedDict):
    """One message to a client, as the ASGI server takes it.

    Built once per message and handed as is to every connection it goes to.
    """

    type: Literal["websocket.send"]
    bytes: bytes


def outgoing(data: bytes) -> Outgoing:
    """Wrap the bytes of one message for :meth:`Channel.send`."""
    return {"type": "websocket.send", "bytes": data}


class Channel(Protocol):
    """One client's bidirectional stream of binary messages."""

    async def send(self, message: Outgoing) -> None:
        """Send one message. Raises ConnectionError once the channel is closed.

        An implementation should not suspend unless it must (its transport is full): a
        connection drives this coroutine to its end inline when it can (see
        :class:`~server.connection.Connection`).
        """
        ...

    async def close(self, code: int, reason: str) -> None:
        """Close with a code and a reason; closing twice is a no-op."""
        ...

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Messages from the client, until it disconnects.

        Raises:
            ProtocolError: the client sent something that is not a binary message.
        """
        ...


# RFC 6455 limits a close reason to 123 bytes of UTF-8.
_MAX_REASON_BYTES = 123


def _clip_reason(reason: str) -> str:
    raw = reason.encode()
    if len(raw) <= _MAX_REASON_BYTES:
        return reason
    return raw[: _MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."


class AsgiChannel:
    """A :class:`Channel` straight on the ASGI server's ``receive`` and ``send``.

    No framework object sits in between: a connection may live for hours, and per message
    each layer costs time and each kept frame memory. Call :meth:`accept` first.
    """

    __slots__ = ("_open", "_receive", "_send")

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._open = False

    async def accept(self) -> bool:
        """Complete the handshake; False if the client went away before it."""
        message = await self._receive()
        if message["type"] != "websocket.connect":
            return False
        await self._send({"type": "websocket.accept"})
        self._open = True
        return True

    async def send(self, message: Outgoing) -> None:
        if not self._open:
            raise ConnectionError("channel closed")
        try:
            await self._send(cast("dict[str, object]", message))
        except (OSError, RuntimeError) as exc:
            # uvicorn raises ClientDisconnected (an OSError) once the client is gone.
            self._open = False
            raise ConnectionError("channel closed") from exc

    async def close(self, code: int, reason: str) -> None:
        if not self._open:
            return
        self._open = False
        try:
            await self._send(
                {"type": "websocket.close", "code": code, "reason": _clip_reason(reason)}
            )
        except (OSError, RuntimeError):
            # The peer is already gone; there is nobody left to tell.
            return

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._receive()
            if message["type"] != "websocket.receive":
                self._open = False  # websocket.disconnect
                return
            data = message.get("bytes")
            if data is None:
                raise ProtocolError("text frames are not accepted: send binary Yjs messages")
            yield data


class MemoryChannel:
    """An in-process :class:`Channel` for tests of rooms without a network."""

    def __init__(self) -> None:
        self.sent: asyncio.Queue[bytes] = asyncio.Queue()
        self.closed: tuple[int, str] | None = None
        self.closed_event = asyncio.Event()
        self._incoming: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def send(self, message: Outgoing) -> None:
        if self.closed is not None:
            raise ConnectionError("channel closed")
        self.sent.put_nowait(message["bytes"])

    async def close(self, code: int, reason: str) -> None:
        if self.closed is None:
            self.closed = (code, reason)
            self.closed_event.set()
            self._incoming.put_nowait(None)

    def feed(self, data: bytes | None) -> None:
        """Deliver a message from the client, or None for a disconnect."""
        self._incoming.put_nowait(data)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            data = await self._incoming.get()
            if data is None:
                return
            yield data
