"""The refusals port: the same contract for the SQL table (SQLite, PostgreSQL) and the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import SqlStore, create_engine
from storage.refusals import MAX_REFUSED_CLIENTS, MemoryRefusals, Refusals, SqlRefusals
from tests.storage.conftest import _migrated_url


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def pair(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Refusals, AsyncEngine | None]]:
    if request.param == "memory":
        yield MemoryRefusals(), None
        return
    engine = create_engine(_migrated_url(request.param, request, tmp_path))
    try:
        yield SqlRefusals(engine), engine
    finally:
        await engine.dispose()


async def _create(engine: AsyncEngine | None, doc_id: str) -> None:
    """The store creates documents; a refusal is only recorded for one it created."""
    if engine is not None:
        async with SqlStore(engine) as store:
            await store.load(doc_id)


async def test_the_lowest_refused_clock_is_kept(
    pair: tuple[Refusals, AsyncEngine | None], doc_id: str
):
    refusals, engine = pair
    await _create(engine, doc_id)
    assert await refusals.load(doc_id) == {}
    await refusals.record(doc_id, {7: 10, 2**32 - 1: 2**53 - 1})
    await refusals.record(doc_id, {7: 15})
    await refusals.record(doc_id, {7: 4, 8: 0})
    assert await refusals.load(doc_id) == {7: 4, 8: 0, 2**32 - 1: 2**53 - 1}
    assert await refusals.load(doc_id + "-other") == {}


async def test_refusals_are_bounded_per_document(
    pair: tuple[Refusals, AsyncEngine | None], doc_id: str
):
    refusals, engine = pair
    await _create(engine, doc_id)
    await refusals.record(doc_id, {client: 1 for client in range(MAX_REFUSED_CLIENTS + 40)})
    assert len(await refusals.load(doc_id)) == MAX_REFUSED_CLIENTS


async def test_refusals_go_with_their_document(engine: AsyncEngine, doc_id: str):
    refusals = SqlRefusals(engine)
    await refusals.record(doc_id, {1: 1})  # never created: nothing to remember
    assert await refusals.load(doc_id) == {}
    async with SqlStore(engine) as store:
        await store.load(doc_id)
        await refusals.record(doc_id, {1: 1})
        assert await refusals.load(doc_id) == {1: 1}
        await store.delete(doc_id)
    assert await refusals.load(doc_id) == {}
