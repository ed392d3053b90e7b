"""A tiny y-websocket client over a raw ``websockets`` connection, for protocol-level tests.

It speaks the wire protocol with :mod:`crdt.protocol` and keeps a pycrdt document in step
with the server, so a test can send exactly the bytes it wants (garbage included) and see
exactly what comes back::

    async with RawClient.connect(server.ws_url, "doc-1", saved=True) as writer:
        await writer.insert_text("hello")
        await writer.wait_saved_covers(writer.state_vector())
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from pycrdt import Doc, Text
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from crdt import (
    AwarenessEntry,
    AwarenessMessage,
    Message,
    ProtocolError,
    Saved,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    decode_awareness,
    decode_state_vector,
    encode,
    encode_awareness,
)
from tests.interop.node import scaled

__all__ = ["RawClient", "covers", "decode_state_vector", "is_malformed"]


def covers(big: Mapping[int, int], small: Mapping[int, int]) -> bool:
    """Whether state vector ``big`` has seen everything ``small`` has."""
    return all(big.get(client, 0) >= clock for client, clock in small.items())


class RawClient:
    """One WebSocket connection and the document it syncs; create it with :meth:`connect`.

    A background task reads every message: it answers sync step 1, applies step 2 and
    updates, and records "saved" state vectors, awareness states and the close code.
    """

    def __init__(self, ws: ClientConnection, *, text_name: str = "text") -> None:
        self.ws = ws
        self.doc: Doc[Any] = Doc()
        self.text_name = text_name
        self.received: list[Message] = []
        self.saved: list[bytes] = []
        """State vectors of the "saved" messages received, oldest first."""
        self.awareness: dict[int, dict[str, object]] = {}
        self.synced = False
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.updates_received = 0
        self.error: BaseException | None = None
        """What went wrong reading from the server (a message that did not decode...)."""
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None
        self._awareness_clock = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls,
        ws_url: str,
        document_id: str,
        *,
        saved: bool = False,
        params: Mapping[str, str] | None = None,
        sync: bool = True,
        within: float = 10.0,
    ) -> AsyncIterator[RawClient]:
        """Open ``ws_url/document_id`` and yield the client, synced unless ``sync=False``.

        Args:
            saved: opt in to GESS "saved" messages (``?saved=1``).
            params: further query parameters.
            sync: send sync step 1 and wait for step 2 before yielding.
            within: bound (scaled) on opening and syncing.
        """
        query = dict(params or {})
        if saved:
            query["saved"] = "1"
        url = f"{ws_url}/{document_id}"
        if query:
            url += "?" + urlencode(query)
        async with ws_connect(
            url, max_size=None, open_timeout=scaled(within), close_timeout=scaled(5)
        ) as ws:
            client = cls(ws)
            client._reader = asyncio.create_task(client._read())
            try:
                if sync:
                    await client.sync(within)
                yield client
            finally:
                client._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await client._reader

    # -- the document ------------------------------------------------------------------------

    @property
    def text(self) -> Text:
        text: Text = self.doc.get(self.text_name, type=Text)
        return text

    def content(self) -> str:
        return str(self.text)

    def state_vector(self) -> bytes:
        return self.doc.get_state()

    def vector(self) -> dict[int, int]:
        """This client's document state vector, decoded."""
        return decode_state_vector(self.doc.get_state())

    def full_state(self) -> bytes:
        return self.doc.get_update()

    def local_update(self, edit: Callable[[Text], None]) -> bytes:
        """Apply ``edit`` to the local text and return the update it made (not sent)."""
        before = self.doc.get_state()
        edit(self.text)
        return self.doc.get_update(before)

    async def insert_text(self, text: str, index: int | None = None) -> bytes:
        """Insert locally (at the end by default), send the update, and return it."""

        def edit(target: Text) -> None:
            target.insert(len(target) if index is None else index, text)

        update = self.local_update(edit)
        await self.send(SyncUpdate(update))
        return update

    # -- the wire ----------------------------------------------------------------------------

    async def send(self, message: Message) -> None:
        await self.ws.send(encode(message))

    async def send_raw(self, data: bytes) -> None:
        """Send exactly these bytes as one binary message."""
        await self.ws.send(data)

    async def sync(self, within: float = 10.0) -> None:
        """Send sync step 1 and wait until the server's step 2 has been applied."""
        await self.send(SyncStep1(self.doc.get_state()))
        await self.wait(lambda: self.synced, within, "sync step 2 from the server")

    async def set_awareness(self, state: dict[str, object] | None) -> None:
        """Send this client's awareness state (None: it left)."""
        self._awareness_clock += 1
        entry = AwarenessEntry(self.doc.client_id, self._awareness_clock, state)
        await self.send(AwarenessMessage(encode_awareness([entry])))

    async def wait(
        self, predicate: Callable[[], bool], within: float = 10.0, what: str = "a condition"
    ) -> None:
        """Wait until ``predicate()`` holds; it is checked after every message received.

        Raises:
            AssertionError: not within ``within`` seconds (scaled), or the connection closed first.
        """
        try:
            async with asyncio.timeout(scaled(within)), self._changed:
                while not predicate():
                    if self.error is not None:
                        raise AssertionError(f"reading from the server failed: {self.error!r}")
                    if self.close_code is not None:
                        raise AssertionError(
                            f"connection closed ({self.close_code} {self.close_reason!r}) "
                            f"while waiting for {what}"
                        )
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"timed out after {scaled(within):.1f} s waiting for {what}"
            ) from None

    async def wait_content(self, expected: str, within: float = 10.0) -> None:
        await self.wait(lambda: self.content() == expected, within, f"content {expected!r}")

    async def wait_saved_covers(self, state_vector: bytes, within: float = 10.0) -> None:
        """Wait for a "saved" message whose state vector covers ``state_vector``."""
        wanted = decode_state_vector(state_vector)
        await self.wait(
            lambda: covers(self.saved_vector(), wanted), within, "a covering saved message"
        )

    def saved_vector(self) -> dict[int, int]:
        """The newest "saved" state vector, decoded ({} if none came yet)."""
        return decode_state_vector(self.saved[-1]) if self.saved else {}

    async def wait_closed(self, within: float = 10.0) -> tuple[int, str]:
        """Wait until the server closes the connection; return (code, reason)."""
        try:
            async with asyncio.timeout(scaled(within)), self._changed:
                while self.close_code is None:
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"the server did not close the connection within {scaled(within):.1f} s"
            ) from None
        assert self.close_reason is not None
        return self.close_code, self.close_reason

    async def _read(self) -> None:
        try:
            async for data in self.ws:
                if isinstance(data, str):
                    raise AssertionError(f"the server sent a text frame: {data[:200]!r}")
                message = decode(data)
                await self._handle(message)
                async with self._changed:
                    self.received.append(message)
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        except Exception as exc:
            self.error = exc
            raise
        finally:
            frame = self.ws.protocol.close_rcvd
            async with self._changed:
                self.close_code = frame.code if frame is not None else 1006
                self.close_reason = frame.reason if frame is not None else ""
                self._changed.notify_all()

    async def _handle(self, message: Message) -> None:
        match message:
            case SyncStep1(state_vector):
                await self.send(SyncStep2(self.doc.get_update(state_vector)))
            case SyncStep2(update):
                self.doc.apply_update(update)
                self.updates_received += 1
                self.synced = True
            case SyncUpdate(update):
                self.doc.apply_update(update)
                self.updates_received += 1
            case Saved(state_vector):
                self.saved.append(state_vector)
            case AwarenessMessage(payload):
                for entry in decode_awareness(payload):
                    if entry.state is None:
                        self.awareness.pop(entry.client_id, None)
                    else:
                        self.awareness[entry.client_id] = entry.state
            case _:
                pass


def is_malformed(data: bytes) -> bool:
    """Whether :func:`crdt.decode` rejects ``data`` (tests use it to check their garbage)."""
    try:
        decode(data)
    except ProtocolError:
        return True
    return False
