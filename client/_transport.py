"""The WebSocket side of the SDK: the socket URL, opening it, and what a close means."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus, WebSocketException

from client._errors import AuthError
from crdt.errors import CollabError, DocumentNotFound, ProtocolError

__all__ = [
    "ConnectFailed",
    "close_error",
    "document_uri",
    "open_socket",
]

# Every other close (1001 going away, 1006 network error, 1011/4500 server error, 4429 too
# slow, even 1000) is worth reconnecting after: a y-websocket client does the same.
_FATAL_CLOSE_CODES: dict[int, type[CollabError]] = {
    1002: ProtocolError,
    1003: ProtocolError,
    1007: ProtocolError,
    1009: ProtocolError,
    4400: ProtocolError,
    4413: ProtocolError,
    4401: AuthError,
    4403: AuthError,
    4404: DocumentNotFound,
}

_FATAL_HTTP_STATUS: dict[int, type[CollabError]] = {
    400: ProtocolError,
    401: AuthError,
    403: AuthError,
    404: DocumentNotFound,
}


def document_uri(url: str, document_id: str, params: Mapping[str, str] | None = None) -> str:
    """The socket URL of a document: ``{url}/{document_id}?saved=1&{params}``.

    Raises:
        ValueError: ``url`` is not a ws:// or wss:// URL, or ``document_id`` is empty.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"not a WebSocket URL: {url!r} (expected ws://host[:port]/path)")
    if not document_id:
        raise ValueError("document_id is empty")
    path = f"{parts.path.rstrip('/')}/{quote(document_id, safe='')}"
    query = urlencode([("saved", "1"), *(params or {}).items()])
    if parts.query:
        query = f"{parts.query}&{query}"
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


class ConnectFailed(Exception):
    """Opening the socket failed; ``error`` is what to report, ``fatal`` whether to stop."""

    def __init__(self, error: CollabError, *, fatal: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.fatal = fatal


async def open_socket(uri: str, *, max_size: int | None, open_timeout: float) -> ClientConnection:
    """Open the WebSocket.

    Raises:
        ConnectFailed: wrapping the reason; fatal for an HTTP status that retrying cannot fix
            (400, 401, 403, 404), transient otherwise.
    """
    try:
        return await ws_connect(
            uri,
            max_size=max_size,
            open_timeout=open_timeout,
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        kind = _FATAL_HTTP_STATUS.get(status)
        error = (kind or CollabError)(f"the server refused the connection with HTTP {status}")
        error.__cause__ = exc
        raise ConnectFailed(error, fatal=kind is not None) from exc
    except (OSError, TimeoutError, WebSocketException) as exc:
        where = uri.split("?", 1)[0]  # the query may hold a token
        error = CollabError(f"cannot connect to {where}: {exc or type(exc).__name__}")
        error.__cause__ = exc
        raise ConnectFailed(error, fatal=False) from exc


def close_error(code: int | None, reason: str) -> tuple[CollabError, bool]:
    """What a close by the server means.

    Args:
        code: the close code received (None or 1006 when the connection just dropped).
        reason: the close reason received.

    Returns:
        The error to report (ProtocolError for 1002/1003/1007/1009/4400/4413, AuthError for
        4401/4403, DocumentNotFound for 4404, CollabError otherwise) and whether it is fatal:
        retrying cannot help, so the session must stop instead of reconnecting.
    """
    kind = _FATAL_CLOSE_CODES.get(code or 1006)
    message = f"connection closed by the server ({code or 1006}): {reason or 'no reason given'}"
    return (kind or CollabError)(message), kind is not None
