"""The DocumentStore contract, checked on every implementation: memory, SQLite, PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from crdt.errors import DocumentNotFound
from storage import DocumentStore, MemoryStore, SqlStore
from tests.storage.helpers import Editor, text_of

Opener = Callable[[], AbstractAsyncContextManager[DocumentStore]]


def test_implementations_satisfy_the_protocol() -> None:
    # Checked by mypy: an assignment fails type checking if a signature drifts.
    stores: list[type[DocumentStore]] = [MemoryStore, SqlStore]
    assert len(stores) == 2


async def test_unknown_document_loads_empty_and_is_created(open_store: Opener, doc_id: str):
    async with open_store() as store:
        assert not await store.exists(doc_id)
        assert await store.load(doc_id) == []
        assert await store.exists(doc_id)
        assert await store.load(doc_id) == []


async def test_append_then_load_round_trips(open_store: Opener, doc_id: str):
    editor = Editor()
    async with open_store() as store:
        await store.load(doc_id)
        updates = [editor.append("Social "), editor.append("security"), editor.delete(0, 7)]
        for update in updates:
            await store.append(doc_id, update)
        loaded = await store.load(doc_id)
    assert loaded == updates
    assert text_of(loaded) == editor.value == "security"


async def test_documents_are_kept_apart(open_store: Opener, doc_id: str):
    other = f"{doc_id}-other"
    first, second = Editor(), Editor()
    async with open_store() as store:
        await store.load(doc_id)
        await store.load(other)
        await store.append(doc_id, first.append("one"))
        await store.append(other, second.append("two"))
        assert text_of(await store.load(doc_id)) == "one"
        assert text_of(await store.load(other)) == "two"


async def test_append_to_unknown_document_is_refused(open_store: Opener, doc_id: str):
    async with open_store() as store:
        with pytest.raises(DocumentNotFound):
            await store.append(doc_id, Editor().append("x"))
        assert not await store.exists(doc_id)


@pytest.mark.parametrize("bad_id", ["", "x" * 201])
async def test_invalid_document_ids_are_rejected(open_store: Opener, bad_id: str):
    async with open_store() as store:
        for call in (store.load, store.exists, store.compact, store.delete):
            with pytest.raises(ValueError):
                await call(bad_id)
        with pytest.raises(ValueError):
            await store.append(bad_id, b"\x00\x00")


async def test_longest_document_id_is_accepted(open_store: Opener, doc_id: str):
    longest = (doc_id + "é" * 200)[:200]
    async with open_store() as store:
        await store.load(longest)
        assert await store.exists(longest)
        await store.append(longest, Editor().append("long"))
        assert text_of(await store.load(longest)) == "long"


async def test_compaction_folds_the_log_and_keeps_the_content(open_store: Opener, doc_id: str):
    editor = Editor()
    async with open_store() as store:
        await store.load(doc_id)
        for word in ["ASSAP ", "plan ", "draft"]:
            await store.append(doc_id, editor.append(word))
        await store.append(doc_id, editor.delete(0, 6))
        assert await store.compact(doc_id)
        loaded = await store.load(doc_id)
        assert len(loaded) == 1
        assert text_of(loaded) == editor.value == "plan draft"
        assert not await store.compact(doc_id)
        # A second round folds into the existing snapshot.
        await store.append(doc_id, editor.append("!"))
        assert await store.compact(doc_id)
        loaded = await store.load(doc_id)
    assert len(loaded) == 1
    assert text_of(loaded) == "plan draft!"


async def test_compaction_of_unknown_or_empty_document_folds_nothing(
    open_store: Opener, doc_id: str
):
    async with open_store() as store:
        assert not await store.compact(doc_id)
        assert not await store.exists(doc_id)
        await store.load(doc_id)
        assert not await store.compact(doc_id)


async def test_corrupt_entry_stays_in_the_log(
    open_store: Opener, doc_id: str, caplog: pytest.LogCaptureFixture
):
    editor = Editor()
    corrupt = b"\xff\x01not an update"
    async with open_store() as store:
        await store.load(doc_id)
        await store.append(doc_id, editor.append("kept"))
        await store.append(doc_id, corrupt)
        await store.append(doc_id, editor.append(" safe"))
        assert await store.compact(doc_id)
        snapshot, *log = await store.load(doc_id)
    assert log == [corrupt]
    assert text_of([snapshot]) == "kept safe"
    assert "is not a Yjs update" in caplog.text


async def test_entry_that_breaks_the_engine_stays_in_the_log(open_store: Opener, doc_id: str):
    hostile = bytes.fromhex("018080800001cc9402000401047465787406c39df2a3a09000")
    editor = Editor(client_id=1)
    async with open_store() as store:
        await store.load(doc_id)
        await store.append(doc_id, editor.append("base"))
        await store.append(doc_id, hostile)
        assert await store.compact(doc_id)
        snapshot, *log = await store.load(doc_id)
    assert log == [hostile]
    assert text_of([snapshot]) == "base"


async def test_entry_with_missing_dependency_is_folded_once_it_arrives(
    open_store: Opener, doc_id: str
):
    editor = Editor()
    first = editor.append("hello")
    second = editor.append(" world")
    removal = editor.delete(0, 1)
    async with open_store() as store:
        await store.load(doc_id)
        # Stored out of causal order: both depend on ``first``, which is not stored yet. A
        # snapshot cannot hold them, so folding them now would lose them.
        await store.append(doc_id, second)
        await store.append(doc_id, removal)
        assert not await store.compact(doc_id)
        assert sorted(await store.load(doc_id)) == sorted([second, removal])
        await store.append(doc_id, first)
        assert await store.compact(doc_id)
        loaded = await store.load(doc_id)
    assert len(loaded) == 1
    assert text_of(loaded) == "ello world"


async def test_delete_removes_everything(open_store: Opener, doc_id: str):
    editor = Editor()
    async with open_store() as store:
        await store.load(doc_id)
        await store.append(doc_id, editor.append("gone"))
        await store.compact(doc_id)
        await store.append(doc_id, editor.append(" soon"))
        await store.delete(doc_id)
        assert not await store.exists(doc_id)
        with pytest.raises(DocumentNotFound):
            await store.append(doc_id, editor.append("!"))
        assert await store.load(doc_id) == []
        await store.delete(doc_id)
        await store.delete(f"{doc_id}-never-existed")


async def test_measure_counts_the_snapshot_and_the_log(open_store: Opener, doc_id: str):
    editor = Editor()
    async with open_store() as store:
        assert await store.measure(doc_id) == 0
        await store.load(doc_id)
        updates = [editor.append("x" * 1000) for _ in range(3)]
        for update in updates:
            await store.append(doc_id, update)
        assert await store.measure(doc_id) == sum(map(len, updates))
        assert await store.compact(doc_id)
        assert await store.measure(doc_id) == sum(map(len, await store.load(doc_id)))
        await store.delete(doc_id)
        assert await store.measure(doc_id) == 0
