"""The authenticate seam: every connection passes through one :class:`Authenticator`.

Accounts plug in here: an authenticator returns the :class:`Principal` a connection acts as,
or denies it by raising :class:`~server.errors.AuthError` (or
:class:`~crdt.errors.DocumentNotFound`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from server.connection import Principal

__all__ = ["GUEST", "Authenticator", "ConnectRequest", "Principal", "allow_guests"]


@dataclass(frozen=True, slots=True)
class ConnectRequest:
    """What is known about a connection before it joins a room."""

    document_id: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    cookies: Mapping[str, str]
    scheme: str = "ws"
    """``ws`` or ``wss``, as the client reached the server (trusted proxies included)."""


class Authenticator(Protocol):
    async def __call__(self, request: ConnectRequest) -> Principal:
        """Establish who is connecting.

        Raises:
            AuthError: not authenticated (closes with 4401).
            Forbidden: authenticated but not allowed (closes with 4403).
            DocumentNotFound: no such document (closes with 4404).
        """
        ...


GUEST = Principal(user_id=None, name="Guest", can_write=True)


async def allow_guests(request: ConnectRequest) -> Principal:
    """The open mode of the foundation: everyone is a guest editor."""
    return GUEST
