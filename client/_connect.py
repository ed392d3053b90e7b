"""``connect()``: the one entry point of the SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
from pycrdt import Doc

from client._backoff import Backoff
from client._session import Session
from client._transport import document_uri

__all__ = ["connect"]


@asynccontextmanager
async def connect(
    url: str,
    document_id: str,
    *,
    params: Mapping[str, str] | None = None,
    reconnect: bool = True,
    doc: Doc[Any] | None = None,
    backoff: Backoff | None = None,
    max_size: int | None = 64 * 2**20,
    open_timeout: float = 10.0,
    event_queue_size: int = 256,
) -> AsyncIterator[Session]:
    """Connect a document to a GESS server and keep it in sync until the block exits.

    ::

        async with connect("ws://127.0.0.1:8000/ws", "plan-2025", params={"token": t}) as s:
            s.doc.get("text", type=Text).insert(0, "Hello")
            await s.saved()

    Entering returns once the document is in sync: the server's state is applied to
    :attr:`Session.doc` and ours is sent. While inside the block the session reconnects
    after network errors and server restarts (with ``backoff``), and resyncs without losing
    edits made while disconnected. Exiting announces that we left (a null awareness state),
    closes the socket with 1000 and stops the session's tasks. Requires the asyncio backend.

    Args:
        url: the server's WebSocket base, e.g. ``ws://127.0.0.1:8000/ws``; the socket is
            ``{url}/{document_id}?saved=1&{params}``.
        document_id: the document to open.
        params: extra query parameters, e.g. ``{"token": ...}``.
        reconnect: reconnect after a dropped connection (and retry the first connection);
            if False, the first failure is final.
        doc: the document to sync (its content is sent to the server); a new one if None.
        backoff: the reconnection delays; :class:`Backoff` defaults if None.
        max_size: the largest message accepted from the server, in bytes (None: no limit).
        open_timeout: seconds allowed for each opening handshake.
        event_queue_size: server events kept for :meth:`Session.events`.

    Returns:
        An async context manager yielding the :class:`Session`.

    Raises:
        ValueError: ``url`` is not a ws:// or wss:// URL.
        AuthError: the server refused us (4401 / 4403, HTTP 401 / 403).
        DocumentNotFound: no such document (4404, HTTP 404).
        ProtocolError: the server or we sent something malformed (4400, 4413...).
        CollabError: with ``reconnect=False``, the connection could not be made or was lost;
            also raised on exit if the session failed and nothing awaited on it reported the
            error.
    """
    session = Session(
        document_uri(url, document_id, params),
        doc=doc,
        reconnect=reconnect,
        backoff=backoff or Backoff(),
        max_size=max_size,
        open_timeout=open_timeout,
        event_queue_size=event_queue_size,
    )
    body_error: Exception | None = None
    async with anyio.create_task_group() as tasks:
        try:
            await session._start(tasks)
            try:
                yield session
            except Exception as exc:
                # Re-raised below, outside the task group, so that it is not wrapped in an
                # ExceptionGroup.
                body_error = exc
        except Exception as exc:
            body_error = body_error or exc
        finally:
            with anyio.CancelScope(shield=True):
                await session._close()
            tasks.cancel_scope.cancel()
    if body_error is not None:
        raise body_error
    if session.error is not None and not session._error_raised:
        raise session.error
