"""Where a fold runs: off the event loop, in a thread or in a worker process by its size."""

from __future__ import annotations

import anyio
import anyio.to_process

from storage._fold import Fold, fold

__all__ = ["fold_off_loop"]

# Input of a fold (snapshot plus entries) from which it runs in a worker process.
_PROCESS_FOLD_BYTES = 1024 * 1024


async def fold_off_loop(
    document_id: str, snapshot: bytes | None, entries: list[tuple[int, bytes]]
) -> Fold:
    """:func:`storage._fold.fold`, computed where it cannot stall the event loop.

    Yrs holds the GIL while it applies or encodes an update, for seconds with a document of
    tens of megabytes: a thread would still freeze every connection of the node meanwhile.
    A large fold therefore runs in a worker process (anyio's pool, kept between calls); a
    small one in a thread, where a pause of a few milliseconds costs less than sending the
    data to another process.
    """
    size = sum(len(update) for _, update in entries) + len(snapshot or b"")
    if size < _PROCESS_FOLD_BYTES:
        return await anyio.to_thread.run_sync(fold, document_id, snapshot, entries)
    return await anyio.to_process.run_sync(fold, document_id, snapshot, entries)
