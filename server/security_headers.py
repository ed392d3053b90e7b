"""Security headers on every HTTP response, as a pure ASGI middleware.

A pure ASGI wrapper rather than Starlette's ``BaseHTTPMiddleware``: it only rewrites the
``http.response.start`` message, so streaming responses stay streams and no task or request
copy is added per call. WebSocket scopes pass through untouched (document sockets do not even
reach it: :class:`server.app._Node` dispatches them first).

Each header is added only when the response has not set it: an export keeps its stricter
Content-Security-Policy (:mod:`server.api.downloads`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["APP_POLICY", "SECURITY_HEADERS", "SecurityHeaders"]

APP_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
"""The default Content-Security-Policy: the web app's own files only, no inline script, never
framed (``frame-ancestors``), no ``<base>`` rewriting, forms posted only here."""

SECURITY_HEADERS: Final[Sequence[tuple[str, str]]] = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", APP_POLICY),
)
"""What every HTTP response carries unless it sets the header itself (names in lower case)."""


class SecurityHeaders:
    """Wraps an ASGI app; see the module docstring.

    Args:
        app: the app whose HTTP responses get the headers.
        headers: (lower-case name, value) pairs; :data:`SECURITY_HEADERS` by default.
    """

    def __init__(self, app: ASGIApp, headers: Sequence[tuple[str, str]] = SECURITY_HEADERS) -> None:
        self.app = app
        self._headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                missing = [(n, v) for n, v in self._headers if n not in present]
                if missing:
                    message = {**message, "headers": [*message.get("headers", ()), *missing]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
