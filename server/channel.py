"""The transport seam: rooms talk to a :class:`Channel`, never to Starlette directly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from enum import IntEnum
from typing import Protocol

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from crdt import ProtocolError

__all__ = ["Channel", "CloseCode", "MemoryChannel", "StarletteChannel"]


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
    TOO_LARGE = 4413
    """A message exceeded the size limit."""
    TOO_SLOW = 4429
    """The client did not read fast enough; reconnecting resyncs it."""
    INTERNAL = 4500
    """The server could not store the client's changes; reconnecting resends them."""


class Channel(Protocol):
    """One client's bidirectional stream of binary messages."""

    async def send(self, data: bytes) -> None:
        """Send one message. Raises ConnectionError once the channel is closed."""
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


class StarletteChannel:
    """A :class:`Channel` over an accepted Starlette WebSocket."""

    __slots__ = ("_ws",)

    def __init__(self, websocket: WebSocket) -> None:
        self._ws = websocket

    async def send(self, data: bytes) -> None:
        if self._ws.application_state is not WebSocketState.CONNECTED:
            raise ConnectionError("channel closed")
        try:
            await self._ws.send_bytes(data)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise ConnectionError("channel closed") from exc

    async def close(self, code: int, reason: str) -> None:
        if WebSocketState.DISCONNECTED in (self._ws.application_state, self._ws.client_state):
            return
        try:
            await self._ws.close(code, _clip_reason(reason))
        except (RuntimeError, OSError):
            # The peer is already gone; there is nobody left to tell.
            return

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            try:
                message = await self._ws.receive()
            except RuntimeError:
                return
            kind = message["type"]
            if kind == "websocket.disconnect":
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

    async def send(self, data: bytes) -> None:
        if self.closed is not None:
            raise ConnectionError("channel closed")
        self.sent.put_nowait(data)

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
