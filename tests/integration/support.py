"""Small helpers shared by the integration tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tests.integration.raw import RawClient
from tests.integration.server import GessServer

__all__ = ["Snapshot", "new_document_id", "snapshot"]


def new_document_id(prefix: str = "doc") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Snapshot:
    """What a freshly connected client sees of a document."""

    text: str
    vector: dict[int, int]
    full_state: bytes


async def snapshot(server: GessServer, document_id: str) -> Snapshot:
    """Connect a new raw client, sync, and return what it got."""
    async with RawClient.connect(server.ws_url, document_id) as client:
        return Snapshot(client.content(), client.vector(), client.full_state())
