"""Property: whatever the interleaving of appends and compactions (automatic or not, from two
stores on one database), loading gives the text of applying every update directly."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import SqlStore, create_engine
from tests.pg import run_async
from tests.storage.helpers import Editor, log_counts, text_of

EDITORS = 3


@dataclass(frozen=True)
class Insert:
    editor: int
    position: int
    value: str


@dataclass(frozen=True)
class Delete:
    editor: int
    position: int
    length: int


@dataclass(frozen=True)
class Sync:
    source: int
    target: int


@dataclass(frozen=True)
class Compact:
    store: int


Op = Insert | Delete | Sync | Compact
editor_index = st.integers(0, EDITORS - 1)
operations = st.lists(
    st.one_of(
        st.builds(
            Insert, editor_index, st.integers(0, 200), st.text("abcxyz ", min_size=1, max_size=4)
        ),
        st.builds(Delete, editor_index, st.integers(0, 200), st.integers(1, 4)),
        st.builds(Sync, editor_index, editor_index),
        st.builds(Compact, st.integers(0, 1)),
    ),
    min_size=1,
    max_size=40,
)


def plan(ops: list[Op]) -> tuple[list[bytes], list[list[bytes | Compact]]]:
    """Turn operations into updates, grouped in waves that end with a compaction."""
    editors = [Editor() for _ in range(EDITORS)]
    updates: list[bytes] = []
    waves: list[list[bytes | Compact]] = [[]]
    for op in ops:
        if isinstance(op, Sync):
            # The target then edits on top of the source's updates: causal dependencies
            # between concurrent appends, which a compaction may see out of order.
            source, target = editors[op.source], editors[op.target]
            target.doc.apply_update(source.doc.get_update(target.doc.get_state()))
        elif isinstance(op, Compact):
            waves[-1].append(op)
            waves.append([])
        else:
            editor = editors[op.editor]
            size = len(editor.text)
            if isinstance(op, Insert):
                update = editor.insert(min(op.position, size), op.value)
            elif size:
                start = min(op.position, size - 1)
                update = editor.delete(start, min(size, start + op.length))
            else:
                continue
            updates.append(update)
            waves[-1].append(update)
    return updates, waves


async def run(url: str, waves: list[list[bytes | Compact]]) -> tuple[list[bytes], int]:
    """Play the waves on a new document; return what loads and how many entries were kept
    (in the log or folded)."""
    doc_id = f"prop-{uuid.uuid4().hex}"
    engines = [create_engine(url), create_engine(url)]
    try:
        async with (
            SqlStore(engines[0], compact_threshold=3) as auto,
            SqlStore(engines[1], compact_threshold=0) as manual,
        ):
            stores = [auto, manual]
            for store in stores:
                await store.load(doc_id)
            with anyio.fail_after(30):
                for wave in waves:
                    # Everything in a wave runs at once: appends through both stores and
                    # the compaction that ends the wave.
                    async with anyio.create_task_group() as tg:
                        for n, step in enumerate(wave):
                            if isinstance(step, Compact):
                                tg.start_soon(stores[step.store].compact, doc_id)
                            else:
                                tg.start_soon(stores[n % 2].append, doc_id, step)
            loaded = await manual.load(doc_id)
        folded, logged = await log_counts(url, doc_id)
        return loaded, folded + logged
    finally:
        for engine in engines:
            await engine.dispose()


@settings(
    max_examples=15,
    deadline=None,
    # The database is shared by the examples on purpose; each example uses its own document.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=operations)
def test_any_interleaving_loads_to_the_text_of_all_updates(store_url: str, ops: list[Op]):
    updates, waves = plan(ops)
    loaded, entries = run_async(lambda: run(store_url, waves))
    assert text_of(loaded) == text_of(updates)
    assert entries == len(updates)
