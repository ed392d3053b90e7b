"""Who may open a socket, before and right after the upgrade, and how a refusal is sent.

Checked before the upgrade, so that a refused client costs no WebSocket: the node's
connection cap (503), a credential at all when accounts are on (401), and the sockets of
the client's address (429). Checked once the account is known: its sockets (4429). Each
socket's message and byte rates are kept by :class:`~server.limits.MessageRate`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import Scope, Send

from server.auth import ConnectRequest
from server.config import Settings
from server.limits import Counter, RateSettings
from server.listener import ConnectionGuard

__all__ = [
    "Admission",
    "Refusal",
    "client_address",
    "send_http_refusal",
]

RETRY_AFTER_SECONDS = 5
"""What a 503 or 429 refusal tells the client to wait."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """An HTTP answer instead of an upgrade (or of a call), in the API's error shape."""

    status: int
    code: str
    message: str

    def body(self) -> bytes:
        return json.dumps({"error": {"code": self.code, "message": self.message}}).encode()

    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"content-type", b"application/json"),
            (b"connection", b"close"),
        ]
        if self.status in (429, 503):
            headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
        return headers


def client_address(scope: Scope) -> str:
    """The client's address (uvicorn applied trusted ``X-Forwarded-For`` headers already),
    interned: a socket keeps it until it closes (to give back its place in the address's
    count), and the sockets of one address (a NAT, a proxy) then share one string."""
    client = scope.get("client")
    return sys.intern(str(client[0])) if client else "unknown"


class Admission:
    """The node's admission rules for sockets.

    Args:
        settings: the node's limits.
        guard: the listener's connection guard, when the node runs under ``gess serve``
            (in-process test clients have none, hence no connection cap).
        presents_credential: with accounts on, whether a request carries a token at all.
    """

    def __init__(
        self,
        settings: Settings,
        guard: ConnectionGuard | None = None,
        presents_credential: Callable[[ConnectRequest], bool] | None = None,
    ) -> None:
        self.guard = guard
        self.presents_credential = presents_credential
        self.addresses = Counter(settings.max_connections_per_ip)
        self.accounts = Counter(settings.max_connections_per_account)
        self.rates = RateSettings(
            messages_per_second=settings.max_messages_per_second,
            bytes_per_second=settings.max_bytes_per_second,
            max_message_bytes=settings.max_message_bytes,
        )

    def full(self) -> Refusal | None:
        """503 if the node holds more connections than its cap."""
        if self.guard is not None and self.guard.full():
            return Refusal(503, "unavailable", "the server is at its connection limit; retry")
        return None

    def screen(self, request: ConnectRequest, address: str) -> Refusal | None:
        """The checks before the upgrade: a refusal to send, or None once the socket is
        counted for ``address`` (give its place back with :meth:`release`)."""
        refusal = self.full()
        if refusal is not None:
            return refusal
        if self.presents_credential is not None and not self.presents_credential(request):
            return Refusal(
                401,
                "unauthenticated",
                "sign in first: pass ?token=... or send the session cookie",
            )
        if not self.addresses.acquire(address):
            limit = self.addresses.limit
            return Refusal(
                429, "too_many_connections", f"at most {limit} sockets per address; close some"
            )
        return None

    def join_account(self, user_id: str | None) -> str | None:
        """Count an admitted socket for its account (None: a guest, not counted); None if
        within the cap (give its place back with :meth:`release`), else the reason to close
        it with."""
        if user_id is None:
            return None
        if not self.accounts.acquire(user_id):
            return f"too many connections for this account: at most {self.accounts.limit}"
        return None

    def release(self, address: str, account: str | None) -> None:
        """A socket that :meth:`screen` admitted closed: give back its place in the counts of
        its address and, if :meth:`join_account` counted it, of its account. Call once."""
        self.addresses.release(address)
        if account is not None:
            self.accounts.release(account)


async def send_http_refusal(send: Send, refusal: Refusal) -> None:
    """Answer an HTTP call with ``refusal`` and close the connection."""
    await send(
        {"type": "http.response.start", "status": refusal.status, "headers": refusal.headers()}
    )
    await send({"type": "http.response.body", "body": refusal.body()})
