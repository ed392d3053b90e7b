"""The SQLite store's appends: one call to one thread per batch, on a connection of their own."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import anyio
import pytest

from crdt import DocumentNotFound
from storage import SqlStore, create_engine, upgrade_database
from storage.engine import open_sqlite_appender
from storage.errors import StorageError
from tests.storage.helpers import Editor, text_of


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gess.db'}"
    await upgrade_database(url)
    return url


def log_rows(path: Path, document_id: str) -> list[tuple[bytes, str | None]]:
    with sqlite3.connect(path) as connection:
        query = "SELECT data, author_id FROM doc_updates WHERE document_id = ? ORDER BY id"
        return [(bytes(data), author) for data, author in connection.execute(query, [document_id])]


@pytest.mark.parametrize(("durability", "level"), [("power", 2), ("process", 1)])
async def test_appends_commit_through_the_appender_with_the_engines_durability(
    sqlite_url: str, tmp_path: Path, durability: str, level: int
) -> None:
    document_id = f"doc-{uuid.uuid4().hex}"
    editor = Editor()
    engine = create_engine(sqlite_url, durability=durability)
    try:
        async with SqlStore(engine) as store:
            appender = store._appender
            assert appender is not None
            assert appender.synchronous == level
            await store.load(document_id)
            updates = [editor.append(word) for word in ("one ", "two ", "three")]
            # Concurrent appends share one batch of the group commit.
            await asyncio.gather(
                *(store.append(document_id, u, author=f"user-{i}") for i, u in enumerate(updates))
            )
            assert text_of(await store.load(document_id)) == "one two three"
    finally:
        await engine.dispose()
    assert log_rows(tmp_path / "gess.db", document_id) == [
        (update, f"user-{i}") for i, update in enumerate(updates)
    ]


async def test_a_deleted_document_in_a_batch_fails_alone(sqlite_url: str, tmp_path: Path) -> None:
    gone, kept, never = (f"{name}-{uuid.uuid4().hex}" for name in ("gone", "kept", "never"))
    engine_a, engine_b = create_engine(sqlite_url), create_engine(sqlite_url)
    try:
        async with SqlStore(engine_a) as node_a, SqlStore(engine_b) as node_b:
            await node_a.load(gone)
            await node_a.load(kept)
            await node_b.delete(gone)
            # gone: taken to exist (loaded here), then found missing; never: looked up first.
            results = await asyncio.gather(
                node_a.append(gone, b"\x00\x00"),
                node_a.append(kept, b"\x00\x00", author="someone"),
                node_a.append(never, b"\x00\x00"),
                return_exceptions=True,
            )
            assert isinstance(results[0], DocumentNotFound)
            assert results[1] is None
            assert isinstance(results[2], DocumentNotFound)
    finally:
        await engine_a.dispose()
        await engine_b.dispose()
    assert log_rows(tmp_path / "gess.db", kept) == [(b"\x00\x00", "someone")]
    assert log_rows(tmp_path / "gess.db", gone) == []


async def test_a_failed_transaction_is_a_storage_error_and_stores_nothing(
    sqlite_url: str, tmp_path: Path
) -> None:
    document_id = f"doc-{uuid.uuid4().hex}"
    engine = create_engine(sqlite_url)
    try:
        async with SqlStore(engine) as store:
            await store.load(document_id)
            with sqlite3.connect(tmp_path / "gess.db") as other:
                other.execute(
                    "CREATE TRIGGER refuse BEFORE INSERT ON doc_updates WHEN NEW.data = X'0102' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            results = await asyncio.gather(
                store.append(document_id, b"\x00\x00"),
                store.append(document_id, b"\x01\x02"),
                return_exceptions=True,
            )
            for result in results:
                assert isinstance(result, StorageError)
                assert "refused by the test" in str(result.__cause__)
            # The appender's connection is still usable afterwards.
            with sqlite3.connect(tmp_path / "gess.db") as other:
                other.execute("DROP TRIGGER refuse")
            await store.append(document_id, b"\x00\x00")
    finally:
        await engine.dispose()
    assert log_rows(tmp_path / "gess.db", document_id) == [(b"\x00\x00", None)]


async def test_postgresql_and_in_memory_sqlite_append_through_the_engine(
    backend: str, store_url: str
) -> None:
    urls = [store_url] if backend == "postgresql" else ["sqlite+aiosqlite:///:memory:"]
    for url in urls:
        engine = create_engine(url)
        try:
            assert await open_sqlite_appender(engine) is None
        finally:
            await engine.dispose()


async def test_a_cancelled_append_finishes_its_transaction_first(
    sqlite_url: str, tmp_path: Path
) -> None:
    document_id = f"doc-{uuid.uuid4().hex}"
    engine = create_engine(sqlite_url)
    blocker = sqlite3.connect(tmp_path / "gess.db", isolation_level=None)
    try:
        async with SqlStore(engine) as store:
            await store.load(document_id)
            appender = store._appender
            assert appender is not None
            # Another writer holds the lock: the append waits inside its thread, on SQLite's
            # busy timeout, until it is released.
            blocker.execute("BEGIN IMMEDIATE")
            submitted = asyncio.Event()
            scope = anyio.CancelScope()

            async def append() -> set[str] | None:
                with scope:
                    submitted.set()
                    return await appender.append([(document_id, b"update", None)], check=False)
                return None

            with anyio.fail_after(10):
                task = asyncio.create_task(append())
                await submitted.wait()
                scope.cancel()
                await asyncio.sleep(0.2)
                # Cancelled, yet still waiting for its transaction: its outcome is not dropped.
                assert not task.done()
                blocker.execute("ROLLBACK")
                assert await task == {document_id}
    finally:
        blocker.close()
        await engine.dispose()
    assert log_rows(tmp_path / "gess.db", document_id) == [(b"update", None)]
