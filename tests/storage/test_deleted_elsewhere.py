"""An append to a document another store deleted fails alone, on both dialects."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from crdt import DocumentNotFound
from storage import SqlStore, create_engine


async def test_append_to_a_document_deleted_by_another_node(store_url: str) -> None:
    gone, kept = f"gone-{uuid.uuid4().hex}", f"kept-{uuid.uuid4().hex}"
    engine_a, engine_b = create_engine(store_url), create_engine(store_url)
    try:
        async with SqlStore(engine_a) as node_a, SqlStore(engine_b) as node_b:
            await node_a.load(gone)
            await node_a.load(kept)
            await node_b.delete(gone)
            results = await asyncio.gather(
                node_a.append(gone, b"\x00\x00"),
                node_a.append(kept, b"\x00\x00"),
                return_exceptions=True,
            )
            assert isinstance(results[0], DocumentNotFound)
            assert results[1] is None
            assert await node_b.load(kept) == [b"\x00\x00"]
            assert not await node_b.exists(gone)
            # Once the store knows, later appends are refused without touching the others.
            with pytest.raises(DocumentNotFound):
                await node_a.append(gone, b"\x00\x00")
    finally:
        await engine_a.dispose()
        await engine_b.dispose()
