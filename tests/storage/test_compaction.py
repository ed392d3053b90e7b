"""Compaction on SQLite and PostgreSQL: automatic, and racing other compactions and appends."""

from __future__ import annotations

import random

import anyio
import pytest
import sqlalchemy as sa

from storage import SqlStore, create_engine
from storage import _queries as queries
from storage._fold import Fold, fold
from storage._fold_worker import fold_off_loop
from storage.engine import snapshot_reader
from storage.schema import doc_updates
from tests.storage.helpers import Editor, StoreOpener, log_counts, text_of, write_lock


async def test_log_is_compacted_in_the_background_past_the_threshold(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    editor = Editor()
    async with open_sql_store(compact_threshold=10) as store:
        await store.load(doc_id)
        for n in range(25):
            await store.append(doc_id, editor.append(f"{n} "))
    # Leaving the store waited for the background compactions it had started.
    folded, logged = await log_counts(store_url, doc_id)
    assert folded >= 10
    assert folded + logged == 25
    async with open_sql_store() as store:
        assert text_of(await store.load(doc_id)) == editor.value


async def test_threshold_zero_disables_automatic_compaction(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    editor = Editor()
    async with open_sql_store(compact_threshold=0) as store:
        await store.load(doc_id)
        for n in range(12):
            await store.append(doc_id, editor.append(str(n)))
    assert await log_counts(store_url, doc_id) == (0, 12)


async def test_count_at_load_counts_towards_the_threshold(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    editor = Editor()
    async with open_sql_store(compact_threshold=0) as store:
        await store.load(doc_id)
        for n in range(8):
            await store.append(doc_id, editor.append(str(n)))
    async with open_sql_store(compact_threshold=10) as store:
        await store.load(doc_id)
        await store.append(doc_id, editor.append("8"))
        assert await log_counts(store_url, doc_id) == (0, 9)
        await store.append(doc_id, editor.append("9"))
    assert await log_counts(store_url, doc_id) == (10, 0)


async def test_long_log_is_folded_in_several_transactions(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    editor = Editor()
    async with open_sql_store(compact_threshold=0, max_fold_entries=7) as store:
        await store.load(doc_id)
        async with anyio.create_task_group() as tg:
            for n in range(30):
                tg.start_soon(store.append, doc_id, editor.append(f"{n:02}"))
        assert await store.compact(doc_id)
        assert await log_counts(store_url, doc_id) == (30, 0)
        assert text_of(await store.load(doc_id)) == editor.value


async def test_concurrent_compactions_and_appends_lose_nothing(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    """Two stores, each with its own engine (as two server nodes), compact one document at
    the same time while both keep appending to it."""
    rng = random.Random(7)
    editors = [Editor() for _ in range(3)]
    updates: list[bytes] = []

    def edit() -> bytes:
        editor = rng.choice(editors)
        if len(editor.text) > 4 and rng.random() < 0.3:
            start = rng.randrange(len(editor.text) - 2)
            update = editor.delete(start, start + 2)
        else:
            update = editor.insert(rng.randint(0, len(editor.text)), f"<{len(updates)}>")
        updates.append(update)
        return update

    async with open_sql_store(compact_threshold=0) as first:
        async with open_sql_store(compact_threshold=0) as second:
            stores: list[SqlStore] = [first, second]
            await first.load(doc_id)
            await second.load(doc_id)
            for _ in range(100):
                await first.append(doc_id, edit())
            for _ in range(4):
                with anyio.fail_after(30):
                    async with anyio.create_task_group() as tg:
                        for store in stores * 2:
                            tg.start_soon(store.compact, doc_id)
                        for n in range(40):
                            tg.start_soon(stores[n % 2].append, doc_id, edit())
            loaded = await second.load(doc_id)
    folded, logged = await log_counts(store_url, doc_id)
    # Every entry is either in the log or was folded into the snapshot, exactly once.
    assert folded + logged == len(updates) == 260
    assert text_of(loaded) == text_of(updates)
    # Updates commute: the stored order does not matter.
    assert text_of(loaded) == text_of(reversed(updates))


async def test_a_compaction_holds_no_lock_while_it_reads_and_folds(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    """The log's write lock is held by someone else for the whole read and fold: the
    compaction still gets that far, and only its short swap waits for the lock."""
    editor = Editor()
    async with open_sql_store(compact_threshold=0) as store:
        await store.load(doc_id)
        for n in range(20):
            await store.append(doc_id, editor.append(f"{n} "))
        engine = create_engine(store_url)
        try:
            async with snapshot_reader(engine).begin() as connection:
                async with write_lock(store_url):
                    read = await queries.read_fold_input(connection, doc_id, max_entries=100)
        finally:
            await engine.dispose()
        assert read is not None and len(read.entries) == 20
        assert await store.compact(doc_id)
    assert await log_counts(store_url, doc_id) == (20, 0)


async def test_a_fold_overtaken_by_another_is_not_swapped_in(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    """A fold computed before another compaction committed would put back a snapshot without
    that compaction's entries: the swap sees the snapshot changed and changes nothing."""
    editor = Editor()
    async with open_sql_store(compact_threshold=0) as store:
        await store.load(doc_id)
        for n in range(5):
            await store.append(doc_id, editor.append(f"{n} "))
        engine = create_engine(store_url)
        try:
            async with snapshot_reader(engine).begin() as connection:
                stale = await queries.read_fold_input(connection, doc_id, max_entries=100)
            assert stale is not None
            assert await store.compact(doc_id)  # another node, say, got there first
            await store.append(doc_id, editor.append("later"))
            result = fold(doc_id, stale.snapshot, stale.entries)
            async with engine.begin() as connection:
                assert not await queries.swap_fold(connection, doc_id, stale, result)
        finally:
            await engine.dispose()
        assert await log_counts(store_url, doc_id) == (5, 1)
        assert text_of(await store.load(doc_id)) == editor.value


async def test_a_fold_whose_entries_are_gone_rolls_back(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    """Same snapshot, but one folded entry was deleted meanwhile: nothing is swapped in."""
    editor = Editor()
    async with open_sql_store(compact_threshold=0) as store:
        await store.load(doc_id)
        for n in range(3):
            await store.append(doc_id, editor.append(f"{n} "))
        engine = create_engine(store_url)
        try:
            async with snapshot_reader(engine).begin() as connection:
                read = await queries.read_fold_input(connection, doc_id, max_entries=100)
            assert read is not None
            result = fold(doc_id, read.snapshot, read.entries)
            async with engine.begin() as connection:
                await connection.execute(
                    sa.delete(doc_updates).where(doc_updates.c.id == read.entries[-1][0])
                )
            with pytest.raises(queries.FoldConflict):
                async with engine.begin() as connection:
                    await queries.swap_fold(connection, doc_id, read, result)
        finally:
            await engine.dispose()
        assert await log_counts(store_url, doc_id) == (0, 2)


def test_a_large_fold_runs_in_another_process(doc_id: str):
    """A fold of megabytes gives the same snapshot in a worker process as in this one."""
    editor = Editor()
    entries = [(n, editor.append("x" * 100_000)) for n in range(12)]

    async def off_loop() -> Fold:
        return await fold_off_loop(doc_id, None, entries)

    assert anyio.run(off_loop) == fold(doc_id, None, entries)
