"""The committed content of a document, as the handlers read it (exports, threads, versions)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from crdt import Document
from server.services.context import ApiServices
from storage.versions import stored_state

__all__ = ["build_document", "committed_content"]


def build_document(document_id: str, updates: Iterable[bytes]) -> Document:
    """A document from stored updates, skipping (and logging) corrupt ones."""
    return Document.from_stored(list(updates), name=document_id)


async def committed_content(services: ApiServices, document_id: str) -> Document:
    """What is committed of a document now: its room's if loaded here, else the store's."""
    state = await services.live.committed_state(document_id)
    if state is not None:
        return build_document(document_id, [state])
    async with services.database.transaction() as connection:
        stored = await stored_state(connection, document_id)
    return await asyncio.to_thread(build_document, document_id, stored.updates)
