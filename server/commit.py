"""What a room's commit loop commits: pending updates, and one batch's append to the store.

A batch is everything a room took since its last commit. It is stored as one log entry per
author (the log keeps who wrote what, for versions and activity), and sent to the clients
as one merged update.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from crdt import merge_updates
from server.connection import Connection
from storage import DocumentStore

__all__ = ["Pending", "append_batch"]


@dataclass(slots=True)
class Pending:
    """An update applied to the room's document and waiting for its commit."""

    update: bytes
    author: str | None
    """The account it is attributed to in the log (None: a guest)."""
    writer: Connection | None
    """The connection that sent it; None for a change the server made."""
    done: asyncio.Future[None] | None = None
    """Resolved once it is committed, for a change the server made."""


async def append_batch(store: DocumentStore, document_id: str, batch: list[Pending]) -> bytes:
    """Commit a batch, one log entry per author; return the whole batch as one update.

    Raises:
        StorageError: an append failed (others of the batch may have committed: the room
            rebuilds from the store).
        ProtocolError: the updates could not be merged.
    """
    by_author: dict[str | None, list[bytes]] = {}
    for pending in batch:
        by_author.setdefault(pending.author, []).append(pending.update)
    if len(by_author) == 1:
        ((author, updates),) = by_author.items()
        merged = merge_updates(updates)
        await store.append(document_id, merged, author=author)
        return merged
    parts = {author: merge_updates(updates) for author, updates in by_author.items()}
    # Concurrent appends share one transaction of the store's group commit.
    results = await asyncio.gather(
        *(store.append(document_id, part, author=a) for a, part in parts.items()),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return merge_updates(list(parts.values()))
