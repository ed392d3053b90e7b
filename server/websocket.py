"""Document sockets from the upgrade on: which requests get one, and who serves them.

The listener (:mod:`server.listener`) hands every ``/ws/{document_id}`` upgrade to
:meth:`Sockets.upgrade`, which answers the handshake on a
:class:`~server.document_socket.DocumentSocket` of its own, refuses with an HTTP answer what
:class:`~server.admission.Admission` refuses, and gives an accepted socket a
:class:`~server.session.Session` (authentication, the room, the client's messages).
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

import httptools
from starlette.requests import cookie_parser
from starlette.types import Message, Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from websockets.datastructures import Headers
from websockets.http11 import Request

from server.admission import Refusal, client_address
from server.auth import ConnectRequest
from server.config import Settings
from server.document_socket import DocumentSocket, Handshake, Protocols
from server.session import Hub, Session

__all__ = ["SOCKET_PREFIX", "Keepalive", "Sockets"]

logger = logging.getLogger("gess.websocket")

SOCKET_PREFIX = "/ws/"
"""Document sockets live at ``/ws/{document_id}``."""

FRAME_ALLOWANCE = 1024 * 1024
"""How far above ``max_message_bytes`` the frame parser reads before refusing with 1009, so
that an oversize message is refused with our readable 4413 instead."""


class Sockets:
    """The node's document sockets: takes the upgrades, keeps them alive.

    Made with the app; it serves sockets while the app runs (:attr:`hub` is set by the
    app's lifespan) and answers 503 before and after.
    """

    def __init__(self, settings: Settings) -> None:
        self.hub: Hub | None = None
        self._protocols = Protocols(settings.max_message_bytes + FRAME_ALLOWANCE)
        self._handshake = Handshake()
        self._forwarded = (
            None
            if settings.forwarded_allow_ips == "none"
            else _Forwarded(settings.forwarded_allow_ips)
        )
        self._ping_interval = settings.ping_interval
        self._keepalive: Keepalive | None = None

    def wants(self, target: bytes) -> bool:
        try:
            return _decoded(httptools.parse_url(target).path).startswith(SOCKET_PREFIX)
        except (ValueError, httptools.HttpParserError):
            return False  # uvicorn answers it

    def upgrade(
        self,
        transport: asyncio.Transport,
        scope: Mapping[str, Any],
        target: bytes,
        connections: set[Any],
    ) -> None:
        """Take over a connection whose complete HTTP request asks for a document socket.

        Args:
            transport: the connection.
            scope: the HTTP scope uvicorn made of the request.
            target: the request target as sent (path and query).
            connections: uvicorn's open connections; the socket counts among them.
        """
        socket = DocumentSocket(transport, self._protocols, connections)
        request = handshake_request(scope, target)
        if request is None:
            # What `websockets` refuses to read as a handshake: no answer, as it would.
            transport.close()
            return
        response = self._handshake.answer(request)
        if response.status_code != 101:
            socket.respond(response)
            return
        hub = self.hub
        if hub is None:
            stopped = Refusal(503, "unavailable", "the server is starting or stopping; retry")
            socket.refuse(stopped.status, stopped.headers(), stopped.body())
            return
        handshake = _websocket_scope(scope, target)
        if self._forwarded is not None:
            handshake = self._forwarded(handshake)
        connect = _connect_request(handshake, request.headers)
        address = client_address(handshake)
        refusal = hub.admission.screen(connect, address)
        if refusal is not None:
            socket.refuse(refusal.status, refusal.headers(), refusal.body())
            return
        socket.respond(response)
        if self._keepalive is None:
            self._keepalive = Keepalive(connections, self._ping_interval)
            self._keepalive.start()
        Session(hub, socket, address).start(connect)

    def stop(self) -> None:
        """The app stops: no more sockets, no more pings."""
        self.hub = None
        if self._keepalive is not None:
            self._keepalive.stop()
            self._keepalive = None


def handshake_request(scope: Mapping[str, Any], target: bytes) -> Request | None:
    """The upgrade request uvicorn parsed, as the `websockets` handshake checks take it;
    None for one with a body, which `websockets` does not read as a handshake either.

    uvicorn's parser (httptools) has read the request line and the headers; reading them
    again from bytes would cost a socket's handshake about a quarter of its time.
    """
    raw: Iterable[tuple[bytes, bytes]] = scope["headers"]
    headers = Headers((name.decode("latin-1"), value.decode("latin-1")) for name, value in raw)
    if "Transfer-Encoding" in headers or not set(headers.get_all("Content-Length")) <= {"0"}:
        return None
    version = scope.get("http_version", "1.1")
    return Request(target.decode("latin-1"), headers, scope["method"], f"HTTP/{version}")


def _decoded(raw_path: bytes) -> str:
    """A request target's path, decoded as uvicorn decodes it for HTTP requests.

    Raises:
        ValueError: not ASCII.
    """
    path = raw_path.decode("ascii")
    return urllib.parse.unquote(path) if "%" in path else path


def _websocket_scope(scope: Mapping[str, Any], target: bytes) -> Scope:
    """The ASGI ``websocket`` scope of an upgrade request (uvicorn made a partial ``http``
    one: it stops before the path when it sees an upgrade)."""
    url = httptools.parse_url(target)
    return {
        "type": "websocket",
        "scheme": "wss" if scope["scheme"] == "https" else "ws",
        "path": _decoded(url.path),
        "raw_path": url.path,
        "query_string": url.query or b"",
        "headers": scope["headers"],
        "client": scope.get("client"),
        "server": scope.get("server"),
        "root_path": "",
    }


def _connect_request(scope: Scope, fields: Headers) -> ConnectRequest:
    """What authentication needs of the handshake; the scope itself is not kept.

    Read as Starlette reads a request (the first of repeated headers, the last of repeated
    query parameters, its cookie parser), without building its request objects. ``fields``
    are the headers :func:`handshake_request` decoded already (uvicorn gives their names in
    lower case).
    """
    headers: dict[str, str] = {}
    for name, value in fields.raw_items():
        headers.setdefault(name, value)
    query = scope["query_string"].decode("latin-1")
    cookie = headers.get("cookie")
    return ConnectRequest(
        document_id=scope["path"][len(SOCKET_PREFIX) :],
        query=dict(urllib.parse.parse_qsl(query, keep_blank_values=True)) if query else {},
        headers=headers,
        cookies=cookie_parser(cookie) if cookie else {},
        scheme=scope["scheme"],
    )


class _Forwarded:
    """uvicorn's proxy-headers rules applied to a handshake (as they are to every HTTP
    request): the scheme and client address a trusted proxy reports."""

    def __init__(self, trusted: str) -> None:
        self._seen: Scope | None = None
        self._middleware = ProxyHeadersMiddleware(self._keep, trusted_hosts=trusted)  # type: ignore[arg-type]

    async def _keep(self, scope: Scope, receive: object, send: object) -> None:
        self._seen = scope

    def __call__(self, scope: Scope) -> Scope:
        step = self._middleware(scope, _no_receive, _no_send)  # type: ignore[arg-type]
        try:
            step.send(None)
        except StopIteration:
            pass
        else:  # pragma: no cover - the middleware only rewrites the scope
            step.close()
            raise RuntimeError("the proxy-headers middleware waited on something")
        seen, self._seen = self._seen, None
        return seen if seen is not None else scope


async def _no_receive() -> Message:  # pragma: no cover - never called
    raise RuntimeError("nothing to receive during a handshake")


async def _no_send(message: Message) -> None:  # pragma: no cover - never called
    raise RuntimeError("nothing to send during a handshake")


class Keepalive:
    """Pings every open document socket every ``interval`` seconds, in one sweep, and drops
    those it heard nothing from since the previous sweep (not even the pong).

    Args:
        connections: the node's open connections (uvicorn's set; other kinds are skipped).
        interval: seconds between sweeps; 0 turns keepalive off.
    """

    def __init__(self, connections: Iterable[object], interval: float) -> None:
        self._connections = connections
        self._interval = interval
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self._interval > 0 and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._sweep)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _sweep(self) -> None:
        self._timer = None
        silent = 0
        for connection in list(self._connections):
            if not isinstance(connection, DocumentSocket) or connection.receiver is None:
                continue
            if connection.heard:
                connection.heard = False
                connection.ping()
            else:
                silent += 1
                connection.abort()
        if silent:
            logger.info("dropped %d document sockets that answered no ping", silent)
        self.start()
