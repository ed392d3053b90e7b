"""The SQL of the store, in SQLAlchemy Core, for both dialects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage._fold import Fold
from storage.clock import as_utc
from storage.edits import LogEntry, record_edits
from storage.schema.log import doc_edits, doc_snapshots, doc_updates, documents

__all__ = [
    "FoldConflict",
    "FoldInput",
    "delete_document",
    "existing_documents",
    "insert_document",
    "insert_updates",
    "load_document",
    "read_fold_input",
    "stored_size",
    "swap_fold",
]

# Bound on the ids in one IN (...) list: both drivers cap bind parameters per statement
# (SQLite 32766, asyncpg 32767).
_IDS_PER_STATEMENT = 1000


@dataclass(frozen=True, slots=True)
class FoldInput:
    """What a fold starts from: a document's snapshot and log, read at one moment."""

    snapshot: bytes | None
    generation: int | None
    """The snapshot's ``folded_updates`` (None: no snapshot): it grows with every fold, so
    an unchanged value at swap time means no other fold committed since the read."""
    entries: list[tuple[int, bytes]]
    """``(id, update)`` of the log entries read, in id order."""
    attribution: dict[int, LogEntry]
    """Who wrote each entry read, and when, by id."""
    exhausted: bool
    """False if the read limit was hit: more entries may be waiting."""


class FoldConflict(Exception):
    """A fold's entries were no longer all in the log when it was to be swapped in."""


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
    """Delete a document with its log, the log's attribution and its snapshot.

    The log's tables are deleted explicitly (SQLite cascades only with its ``foreign_keys``
    pragma on); the rows that features hang off a document (refusals, for one) go by their
    ``ON DELETE CASCADE``.
    """
    await connection.execute(sa.delete(doc_updates).where(doc_updates.c.document_id == document_id))
    await connection.execute(sa.delete(doc_edits).where(doc_edits.c.document_id == document_id))
    await connection.execute(
        sa.delete(doc_snapshots).where(doc_snapshots.c.document_id == document_id)
    )
    await connection.execute(sa.delete(documents).where(documents.c.id == document_id))


async def read_fold_input(
    connection: AsyncConnection, document_id: str, *, max_entries: int
) -> FoldInput | None:
    """The snapshot and the first ``max_entries`` log entries, for a fold outside any lock.

    Call it in a :func:`storage.engine.snapshot_reader` transaction, so that the snapshot and
    the entries are of one moment: a compaction committing between two reads would otherwise
    pair the old snapshot with a log it has already emptied.

    Returns:
        None if the document does not exist or its log is empty.
    """
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
    if not rows:
        return None
    return FoldInput(
        snapshot=None if current is None else bytes(current.state),
        generation=None if current is None else int(current.folded_updates),
        entries=[(int(row.id), bytes(row.data)) for row in rows],
        attribution={
            int(row.id): LogEntry(int(row.id), row.author_id, as_utc(row.created_at))
            for row in rows
        },
        exhausted=len(rows) < max_entries,
    )


async def swap_fold(
    connection: AsyncConnection, document_id: str, read: FoldInput, result: Fold
) -> bool:
    """Replace the snapshot by a fold's and delete exactly the entries it folded.

    Run it in a write transaction of its own: it is short (a few statements, no CPU work),
    so it holds the write lock (SQLite) or the document's row lock (PostgreSQL) briefly.
    It is safe against concurrent compactions of the document, on this node or another:
    they serialize on the row lock (``FOR NO KEY UPDATE``, which leaves appends alone: their
    foreign key check takes ``FOR KEY SHARE``), and the swap happens only if nothing changed
    what the fold was computed from, that is, if the snapshot is still the one read (its
    ``folded_updates`` only grows) and every folded entry is still in the log. Appends
    committed since the read are not folded and stay in the log; entries are deleted by id,
    never by an id bound, since on PostgreSQL a lower id can commit after a higher one. The
    attribution of the folded entries is recorded (``doc_edits``) in the same transaction.

    Returns:
        False if the document is gone or another fold committed since the read (nothing
        was changed).

    Raises:
        FoldConflict: a folded entry was no longer in the log. Let it leave the
            transaction's block, which then rolls back the deletions already made.
    """
    locked = await connection.execute(
        sa.select(documents.c.id)
        .where(documents.c.id == document_id)
        .with_for_update(key_share=True)
    )
    if locked.first() is None:
        return False
    generation = await connection.scalar(
        sa.select(doc_snapshots.c.folded_updates).where(doc_snapshots.c.document_id == document_id)
    )
    if (None if generation is None else int(generation)) != read.generation:
        return False
    deleted = 0
    for start in range(0, len(result.folded), _IDS_PER_STATEMENT):
        chunk = result.folded[start : start + _IDS_PER_STATEMENT]
        outcome = await connection.execute(
            sa.delete(doc_updates).where(
                doc_updates.c.document_id == document_id, doc_updates.c.id.in_(chunk)
            )
        )
        deleted += outcome.rowcount
    if deleted != len(result.folded):
        # Another fold took some of these entries: roll the deletions back.
        raise FoldConflict(document_id)
    now = sa.func.current_timestamp()
    if read.generation is None:
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
    await record_edits(connection, document_id, [read.attribution[i] for i in result.folded])
    await connection.execute(
        sa.update(documents).where(documents.c.id == document_id).values(updated_at=now)
    )
    return True


async def stored_size(connection: AsyncConnection, document_id: str) -> int:
    """Bytes stored for a document: its snapshot plus its log entries (0 if unknown)."""
    snapshot = (
        sa.select(sa.func.length(doc_snapshots.c.state))
        .where(doc_snapshots.c.document_id == document_id)
        .scalar_subquery()
    )
    log = (
        sa.select(sa.func.sum(sa.func.length(doc_updates.c.data)))
        .where(doc_updates.c.document_id == document_id)
        .scalar_subquery()
    )
    total = await connection.scalar(
        sa.select(sa.func.coalesce(snapshot, 0) + sa.func.coalesce(log, 0))
    )
    return int(total or 0)
