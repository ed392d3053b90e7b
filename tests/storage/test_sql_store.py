"""SqlStore beyond the shared contract: group commit, failures, lifecycle, on SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.abc
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from crdt.errors import DocumentNotFound
from storage import SqlStore, create_engine
from storage.errors import StorageError
from storage.sql import StoreState
from tests.storage.helpers import Editor, StoreOpener, rejecting_trigger, text_of, write_lock


async def test_appends_survive_reopening(open_sql_store: StoreOpener, doc_id: str):
    editor = Editor()
    async with open_sql_store() as store:
        await store.load(doc_id)
        await store.append(doc_id, editor.append("durable"))
    async with open_sql_store() as store:
        assert text_of(await store.load(doc_id)) == "durable"


async def test_concurrent_appends_are_group_committed(open_sql_store: StoreOpener, doc_id: str):
    batches: list[int] = []
    documents = [f"{doc_id}-{n}" for n in range(6)]
    editors = {document: Editor() for document in documents}
    per_document = 50
    async with open_sql_store(on_commit=lambda size, _seconds: batches.append(size)) as store:
        for document in documents:
            await store.load(document)
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for index in range(per_document):
                    for document, editor in editors.items():
                        tg.start_soon(store.append, document, editor.append(f"{index} "))
        assert store.pending == 0
        loaded = {document: await store.load(document) for document in documents}
    total = per_document * len(documents)
    assert sum(batches) == total
    assert len(batches) < total / 10, batches
    for document, editor in editors.items():
        assert len(loaded[document]) == per_document
        assert text_of(loaded[document]) == editor.value


async def test_batches_are_bounded(open_sql_store: StoreOpener, doc_id: str):
    batches: list[int] = []
    editor = Editor()
    updates = [editor.append(f"{n:03}") for n in range(40)]
    record = batches.append
    async with open_sql_store(max_batch_rows=7, on_commit=lambda n, _: record(n)) as store:
        await store.load(doc_id)
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for update in updates:
                    tg.start_soon(store.append, doc_id, update)
    assert sum(batches) == 40
    assert max(batches) <= 7
    byte_batches: list[int] = []
    limit = 3 * max(len(update) for update in updates)
    async with open_sql_store(
        max_batch_bytes=limit, on_commit=lambda n, _: byte_batches.append(n)
    ) as store:
        async with anyio.create_task_group() as tg:
            for update in updates:
                tg.start_soon(store.append, doc_id, update)
    assert sum(byte_batches) == 40
    assert max(byte_batches) <= 3


async def test_pending_counts_appends_until_committed(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    editor = Editor()
    async with open_sql_store() as store:
        await store.load(doc_id)
        assert store.pending == 0
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                async with write_lock(store_url):
                    for n in range(5):
                        tg.start_soon(store.append, doc_id, editor.append(str(n)))
                    await anyio.wait_all_tasks_blocked()
                    assert store.pending == 5
        assert store.pending == 0
        assert text_of(await store.load(doc_id)) == editor.value


async def test_failed_batch_fails_every_append_and_stores_nothing(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    documents = [f"{doc_id}-{n}" for n in range(3)]
    editors = {document: Editor() for document in documents}
    poison = Editor().append("poison")
    warmup = editors[documents[0]].append("first ")
    committed: list[int] = []
    outcomes: dict[str, BaseException | None] = {}

    async def append(store: SqlStore, label: str, document: str, update: bytes) -> None:
        try:
            await store.append(document, update)
        except StorageError as exc:
            outcomes[label] = exc
        else:
            outcomes[label] = None

    async with rejecting_trigger(store_url, poison):
        async with open_sql_store(on_commit=lambda n, _: committed.append(n)) as store:
            for document in documents:
                await store.load(document)
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    async with write_lock(store_url):
                        # The first append's commit waits on the lock: everything after it
                        # queues up and becomes the next batch, poison included.
                        tg.start_soon(append, store, "warmup", documents[0], warmup)
                        await anyio.wait_all_tasks_blocked()
                        for n, (document, editor) in enumerate(editors.items()):
                            tg.start_soon(append, store, f"good-{n}", document, editor.append("x"))
                        tg.start_soon(append, store, "poison", documents[1], poison)
                        await anyio.wait_all_tasks_blocked()
                        assert store.pending == 5
            loaded = {document: await store.load(document) for document in documents}
    assert outcomes.pop("warmup") is None
    assert committed == [1]
    assert len(outcomes) == 4
    for label, error in outcomes.items():
        assert isinstance(error, StorageError), label
        assert "rejected by test trigger" in str(error.__cause__)
    assert [text_of(loaded[document]) for document in documents] == ["first ", "", ""]


async def test_append_to_deleted_document_fails_alone(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    kept, deleted = f"{doc_id}-kept", f"{doc_id}-deleted"
    editor = Editor()
    errors: list[BaseException] = []

    async def append_stale() -> None:
        try:
            await store.append(deleted, Editor().append("late"))
        except DocumentNotFound as exc:
            errors.append(exc)

    async with open_sql_store() as store:
        await store.load(kept)
        await store.load(deleted)
        await store.delete(deleted)
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                async with write_lock(store_url):
                    tg.start_soon(store.append, kept, editor.append("a"))
                    await anyio.wait_all_tasks_blocked()
                    # Same batch: the stale append must not fail its neighbour.
                    tg.start_soon(append_stale)
                    tg.start_soon(store.append, kept, editor.append("b"))
                    await anyio.wait_all_tasks_blocked()
        assert len(errors) == 1
        assert text_of(await store.load(kept)) == "ab"
        assert not await store.exists(deleted)


async def test_leaving_the_store_commits_what_is_queued(open_sql_store: StoreOpener, doc_id: str):
    editor = Editor()
    async with open_sql_store() as store:
        await store.load(doc_id)
    async with anyio.create_task_group() as tg:
        async with open_sql_store() as store:
            for n in range(20):
                tg.start_soon(store.append, doc_id, editor.append(f"{n},"))
            await anyio.wait_all_tasks_blocked()
        assert store.pending == 0
        assert store.state is StoreState.CLOSED
    async with open_sql_store() as store:
        assert text_of(await store.load(doc_id)) == editor.value


async def test_lifecycle_is_enforced(engine: AsyncEngine, doc_id: str):
    store = SqlStore(engine)
    states = [store.state]
    with pytest.raises(StorageError):
        await store.load(doc_id)
    async with store:
        states.append(store.state)
        await store.load(doc_id)
        with pytest.raises(RuntimeError):
            await store.__aenter__()
    states.append(store.state)
    assert states == [StoreState.CREATED, StoreState.OPEN, StoreState.CLOSED]
    with pytest.raises(StorageError):
        await store.append(doc_id, Editor().append("late"))
    with pytest.raises(RuntimeError):
        async with store:
            pass


async def test_a_failing_metrics_callback_does_not_fail_appends(
    open_sql_store: StoreOpener, doc_id: str, caplog: pytest.LogCaptureFixture
):
    def broken(_size: int, _seconds: float) -> None:
        raise ZeroDivisionError("metrics bug")

    async with open_sql_store(on_commit=broken) as store:
        await store.load(doc_id)
        await store.append(doc_id, Editor().append("fine"))
        assert text_of(await store.load(doc_id)) == "fine"
    assert "on_commit callback failed" in caplog.text


async def test_database_errors_become_storage_errors(tmp_path, doc_id: str):
    # A real database without the schema: every statement fails in the driver.
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}")
    try:
        async with SqlStore(engine) as store:
            for call in (store.load, store.exists, store.compact, store.delete):
                with pytest.raises(StorageError) as caught:
                    await call(doc_id)
                assert "no such table" in str(caught.value.__cause__)
            with pytest.raises(StorageError):
                await store.append(doc_id, Editor().append("x"))
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "options",
    [
        {"compact_threshold": -1},
        {"max_batch_rows": 0},
        {"max_batch_bytes": 0},
        {"max_queued": 0},
        {"max_fold_entries": 0},
    ],
)
def test_nonsense_limits_are_rejected(engine: AsyncEngine, options: dict[str, Any]):
    with pytest.raises(ValueError):
        SqlStore(engine, **options)


async def test_cancelled_store_finishes_its_commit_and_fails_the_queue(store_url: str, doc_id: str):
    """As on Ctrl-C: the store is left by a cancellation while a commit waits on a lock."""
    editor = Editor()
    first = editor.append("committed")
    outcomes: dict[str, BaseException | None] = {}
    release = anyio.Event()

    async def append(store: SqlStore, label: str, update: bytes) -> None:
        try:
            await store.append(doc_id, update)
        except StorageError as exc:
            outcomes[label] = exc
        else:
            outcomes[label] = None

    async def hold_lock(*, task_status: anyio.abc.TaskStatus[None]) -> None:
        async with write_lock(store_url):
            task_status.started()
            await release.wait()

    engine = create_engine(store_url)
    try:
        async with SqlStore(engine) as loader:
            await loader.load(doc_id)
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                await tg.start(hold_lock)
                with anyio.CancelScope() as scope:
                    async with SqlStore(engine) as store:
                        tg.start_soon(append, store, "in flight", first)
                        await anyio.wait_all_tasks_blocked()
                        for n in range(2):
                            tg.start_soon(append, store, f"queued {n}", editor.append("lost"))
                        await anyio.wait_all_tasks_blocked()
                        scope.cancel()
                        # The commit in flight still runs to its end once the lock goes.
                        release.set()
                        await anyio.sleep_forever()
        async with SqlStore(engine) as reader:
            stored = text_of(await reader.load(doc_id))
    finally:
        await engine.dispose()
    assert outcomes.pop("in flight") is None
    assert stored == "committed"
    assert len(outcomes) == 2
    for error in outcomes.values():
        assert isinstance(error, StorageError)
        assert "may not be stored" in str(error.__cause__)
