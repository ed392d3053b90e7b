"""Edit sessions: grouping (pure), and attribution that survives compaction (SQLite and
PostgreSQL)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from storage import create_engine
from storage.edits import EditSession, LogEntry, coalesce, sessions_of
from storage.history import contributors, edit_history
from storage.versions import stored_state
from tests.storage.helpers import Editor, StoreOpener, text_of

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def entries(*rows: tuple[int, str | None, float]) -> list[LogEntry]:
    return [LogEntry(key, author, at(minutes)) for key, author, minutes in rows]


def shape(sessions: list[EditSession]) -> list[tuple[str | None, int, int, int]]:
    return [(s.author_id, s.first_update_id, s.last_update_id, s.updates) for s in sessions]


def test_one_authors_consecutive_updates_within_the_gap_are_one_session():
    log = entries((1, "ana", 0), (2, "ana", 4), (3, "ana", 13), (4, "ana", 30))
    assert shape(coalesce(sessions_of(log))) == [("ana", 1, 3, 3), ("ana", 4, 4, 1)]
    grouped = coalesce(sessions_of(log))
    assert (grouped[0].started_at, grouped[0].ended_at) == (at(0), at(13))


def test_a_pause_of_exactly_the_gap_starts_a_new_session():
    log = entries((1, "ana", 0), (2, "ana", 10))
    assert shape(coalesce(sessions_of(log))) == [("ana", 1, 1, 1), ("ana", 2, 2, 1)]
    assert shape(coalesce(sessions_of(log), timedelta(minutes=11))) == [("ana", 1, 2, 2)]


def test_another_author_in_between_splits_sessions():
    log = entries((1, "ana", 0), (2, "ben", 1), (3, "ana", 2), (4, None, 3), (5, None, 4))
    assert shape(coalesce(sessions_of(log))) == [
        ("ana", 1, 1, 1),
        ("ben", 2, 2, 1),
        ("ana", 3, 3, 1),
        (None, 4, 5, 2),
    ]


def test_grouping_follows_update_order_whatever_the_input_order():
    log = entries(*((n, "ana" if n % 3 else "ben", n) for n in range(1, 20)))
    expected = coalesce(sessions_of(log))
    shuffled = list(sessions_of(log))
    random.Random(4).shuffle(shuffled)
    assert coalesce(shuffled) == expected


def test_stored_sessions_and_log_entries_merge_across_a_compaction():
    stored = coalesce(sessions_of(entries((1, "ana", 0), (2, "ana", 1))))
    log = sessions_of(entries((3, "ana", 2), (4, "ben", 3)))
    assert shape(coalesce([*stored, *log])) == [("ana", 1, 3, 3), ("ben", 4, 4, 1)]
    # Grouping grouped sessions again changes nothing.
    assert coalesce(coalesce([*stored, *log])) == coalesce([*stored, *log])


def test_the_gap_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        coalesce([], timedelta(0))


async def test_compaction_folds_attribution_into_stored_sessions(
    open_sql_store: StoreOpener, store_url: str, doc_id: str
):
    editor = Editor()
    async with open_sql_store(compact_threshold=0) as store:
        await store.load(doc_id)
        for author in ("ana", "ana", "ben", None):
            await store.append(doc_id, editor.append(f"{author} "), author=author)
        engine = create_engine(store_url)
        try:
            async with engine.connect() as connection:
                before = await edit_history(connection, doc_id)
                position = (await stored_state(connection, doc_id)).position
            assert await store.compact(doc_id)
            await store.append(doc_id, editor.append("again "), author=None)
            async with engine.connect() as connection:
                after = await edit_history(connection, doc_id)
                stored = await stored_state(connection, doc_id)
                first_two = await contributors(
                    connection, doc_id, after=0, upto=before[0].last_update_id
                )
                everyone = await contributors(connection, doc_id, after=0, upto=stored.position)
                nobody = await contributors(connection, doc_id, after=position, upto=position)
        finally:
            await engine.dispose()
    assert shape(before) == [
        ("ana", before[0].first_update_id, before[0].first_update_id + 1, 2),
        ("ben", before[1].first_update_id, before[1].first_update_id, 1),
        (None, before[2].first_update_id, position, 1),
    ]
    # The log is folded, the sessions are not lost, and the one still open goes on.
    assert shape(after) == [
        *shape(before[:2]),
        (None, before[2].first_update_id, stored.position, 2),
    ]
    assert text_of(stored.updates) == editor.value
    assert len(stored.updates) == 2 and stored.position > position
    assert [c.id for c in first_two] == ["ana"]
    assert [c.id for c in everyone] == ["ana", "ben"]
    assert nobody == []
