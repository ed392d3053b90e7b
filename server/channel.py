"""The transport seam: connections write to a :class:`Channel`, never to a socket directly."""

from __future__ import annotations

import asyncio
from enum import IntEnum
from typing import Protocol

from websockets.frames import Frame, Opcode

__all__ = ["Channel", "CloseCode", "MemoryChannel", "Outgoing"]


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


class Outgoing:
    """One message for clients, made once and handed as is to every connection it goes to.

    A server's WebSocket frames are not masked, so the frame that carries a message is the
    same bytes for every reader: it is built by the first socket that writes it
    (:attr:`frame`) and the others write those bytes again.
    """

    __slots__ = ("_frame", "data", "update")

    def __init__(self, data: bytes, update: bytes | None = None) -> None:
        self.data = data
        """The encoded message."""
        self.update = update
        """The document update the message carries (a run of them merges into one while a
        client is behind), or None for any other message."""
        self._frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        """The message as one unmasked binary WebSocket frame."""
        frame = self._frame
        if frame is None:
            frame = self._frame = Frame(Opcode.BINARY, self.data).serialize(mask=False)
        return frame


class Channel(Protocol):
    """One client's stream of outgoing messages.

    Writing never waits. A channel that cannot take more for now (its socket's buffer is
    full) says so, and the connection keeps its messages until it is told to go on
    (:meth:`~server.connection.Connection.writable`).
    """

    def write(self, message: Outgoing) -> bool:
        """Write one message if the channel can take it now.

        Returns:
            True if it was written, False if the channel is full (nothing was written).

        Raises:
            ConnectionError: the channel is closed.
        """
        ...

    def close(self, code: int, reason: str) -> None:
        """Close with a code and a reason a person can read; closing twice is a no-op."""
        ...


class MemoryChannel:
    """An in-process :class:`Channel` for tests of rooms and connections without a network.

    Set :attr:`full` to make it refuse writes, as a socket whose buffer is full does.
    """

    def __init__(self) -> None:
        self.sent: asyncio.Queue[bytes] = asyncio.Queue()
        self.closed: tuple[int, str] | None = None
        self.closed_event = asyncio.Event()
        self.full = False

    def write(self, message: Outgoing) -> bool:
        if self.closed is not None:
            raise ConnectionError("channel closed")
        if self.full:
            return False
        self.sent.put_nowait(message.data)
        return True

    def close(self, code: int, reason: str) -> None:
        if self.closed is None:
            self.closed = (code, reason)
            self.closed_event.set()
