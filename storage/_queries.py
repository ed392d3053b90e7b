"""The SQL of the store, in SQLAlchemy Core, for both dialects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import anyio
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage._fold import fold
from storage.accounts import as_utc
from storage.history import LogEntry, record_edits
from storage.models import doc_snapshots, doc_updates, documents
from storage.versions import doc_edits

__all__ = [
    "FoldOutcome",
    "delete_document",
    "existing_documents",
    "fold_document",
    "insert_document",
    "insert_updates",
    "load_document",
]

# Bound on the ids in one IN (...) list: both drivers cap bind parameters per statement
# (SQLite 32766, asyncpg 32767).
_IDS_PER_STATEMENT = 1000


@dataclass(frozen=True, slots=True)
class FoldOutcome:
    """What one compaction transaction did."""

    folded: int
    """Log entries folded into the snapshot and deleted."""
    kept: int
    """Entries read but left in the log (corrupt or not integrated)."""
    exhausted: bool
    """False if the read limit was hit: more entries may be waiting."""


async def insert_document(connection: AsyncConnection, document_id: str) -> None:
    """Create the document's row unless it exists, without failing if a peer does it too."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(documents).values(id=document_id).on_conflict_do_nothing()
    await connection.execute(statement)


async def load_document(connection: AsyncConnection, document_id: str) -> tuple[list[bytes], int]:
    """The snapshot (if any) then the log entries, and how many log entries there were."""
    # One statement, so that it reads from one database snapshot even under PostgreSQL's
    # READ COMMITTED: with two, a compaction committing in between could delete entries
    # after the old snapshot was read and before the log was, and they would be lost.
    snapshot = sa.select(
        sa.literal_column("0").label("kind"),
        doc_snapshots.c.state.label("data"),
        sa.literal_column("0").label("id"),
    ).where(doc_snapshots.c.document_id == document_id)
    log = sa.select(sa.literal_column("1"), doc_updates.c.data, doc_updates.c.id).where(
        doc_updates.c.document_id == document_id
    )
    statement = sa.union_all(snapshot, log).order_by(sa.text("kind"), sa.text("id"))
    rows = (await connection.execute(statement)).all()
    return [bytes(row.data) for row in rows], sum(1 for row in rows if row.kind == 1)


async def existing_documents(connection: AsyncConnection, document_ids: Sequence[str]) -> set[str]:
    """Which of ``document_ids`` exist."""
    found: set[str] = set()
    for start in range(0, len(document_ids), _IDS_PER_STATEMENT):
        chunk = document_ids[start : start + _IDS_PER_STATEMENT]
        result = await connection.execute(
            sa.select(documents.c.id).where(documents.c.id.in_(chunk))
        )
        found.update(result.scalars())
    return found


async def insert_updates(
    connection: AsyncConnection, rows: Sequence[tuple[str, bytes, str | None]]
) -> None:
    """Append ``(document_id, update, author_id)`` rows to the log in one statement."""
    await connection.execute(
        sa.insert(doc_updates),
        [{"document_id": d, "data": data, "author_id": author} for d, data, author in rows],
    )


async def delete_document(connection: AsyncConnection, document_id: str) -> None:
    """Delete a document with its log, history and snapshot (explicitly: cascades need the
    pragma)."""
    await connection.execute(sa.delete(doc_updates).where(doc_updates.c.document_id == document_id))
    await connection.execute(sa.delete(doc_edits).where(doc_edits.c.document_id == document_id))
    await connection.execute(
        sa.delete(doc_snapshots).where(doc_snapshots.c.document_id == document_id)
    )
    await connection.execute(sa.delete(documents).where(documents.c.id == document_id))


async def fold_document(
    connection: AsyncConnection, document_id: str, *, max_entries: int
) -> FoldOutcome:
    """Fold up to ``max_entries`` log entries into the snapshot, within the caller's transaction.

    Concurrent folds of one document serialize: on PostgreSQL on a lock of the document's
    row, on SQLite on the write lock that ``BEGIN IMMEDIATE`` took. The second one then reads
    what the first committed, so every entry is folded exactly once, and so is its attribution
    (recorded as edit sessions in ``doc_edits`` before the entries are deleted, in the same
    transaction: the history survives compaction). Appends are not blocked:
    they run in other transactions and whatever they commit after the read below is simply
    not folded this time. The entries folded are deleted by id, never by an id bound: on
    PostgreSQL an append holding a lower id can commit after one holding a higher id.
    """
    # FOR NO KEY UPDATE rather than FOR UPDATE: it excludes a second compaction but not the
    # FOR KEY SHARE lock that each append's foreign key check takes on the row.
    locked = await connection.execute(
        sa.select(documents.c.id)
        .where(documents.c.id == document_id)
        .with_for_update(key_share=True)
    )
    if locked.first() is None:
        return FoldOutcome(folded=0, kept=0, exhausted=True)
    current = (
        await connection.execute(
            sa.select(doc_snapshots.c.state, doc_snapshots.c.folded_updates).where(
                doc_snapshots.c.document_id == document_id
            )
        )
    ).first()
    rows = (
        await connection.execute(
            sa.select(
                doc_updates.c.id,
                doc_updates.c.data,
                doc_updates.c.author_id,
                doc_updates.c.created_at,
            )
            .where(doc_updates.c.document_id == document_id)
            .order_by(doc_updates.c.id)
            .limit(max_entries)
        )
    ).all()
    entries = [(int(row.id), bytes(row.data)) for row in rows]
    exhausted = len(entries) < max_entries
    if not entries:
        return FoldOutcome(folded=0, kept=0, exhausted=True)
    snapshot = None if current is None else bytes(current.state)
    # Applying thousands of updates is CPU work; a worker thread keeps the event loop (and
    # every other room's edits) responsive meanwhile.
    result = await anyio.to_thread.run_sync(fold, document_id, snapshot, entries)
    if not result.folded:
        return FoldOutcome(folded=0, kept=len(result.kept), exhausted=exhausted)
    now = sa.func.current_timestamp()
    if current is None:
        await connection.execute(
            sa.insert(doc_snapshots).values(
                document_id=document_id, state=result.state, folded_updates=len(result.folded)
            )
        )
    else:
        await connection.execute(
            sa.update(doc_snapshots)
            .where(doc_snapshots.c.document_id == document_id)
            .values(
                state=result.state,
                folded_updates=doc_snapshots.c.folded_updates + len(result.folded),
                updated_at=now,
            )
        )
    folded = set(result.folded)
    attribution = [
        LogEntry(int(row.id), row.author_id, as_utc(row.created_at))
        for row in rows
        if int(row.id) in folded
    ]
    await record_edits(connection, document_id, attribution)
    for start in range(0, len(result.folded), _IDS_PER_STATEMENT):
        chunk = result.folded[start : start + _IDS_PER_STATEMENT]
        await connection.execute(sa.delete(doc_updates).where(doc_updates.c.id.in_(chunk)))
    await connection.execute(
        sa.update(documents).where(documents.c.id == document_id).values(updated_at=now)
    )
    return FoldOutcome(folded=len(result.folded), kept=len(result.kept), exhausted=exhausted)
