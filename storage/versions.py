"""Queries of the named versions of documents (the table: :mod:`storage.schema.versions`).

A version is a snapshot of a workspace document at a position of its log: ``state`` is the
whole document as one Yjs update, and ``upto_update_id`` the highest ``doc_updates`` id folded
into it, so that "who contributed since the previous version" is the set of authors of the
updates between two positions. A version is never changed once saved.

The log loses its rows when compaction folds them into the snapshot; before it deletes them,
it folds their attribution into ``doc_edits`` (edit sessions, see :mod:`storage.schema.log`)
in the same transaction, so the history of a document survives compaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Record, UtcDatetime
from storage.schema import doc_edits, doc_snapshots, doc_updates, doc_versions, users

__all__ = [
    "KINDS",
    "StoredState",
    "VersionRecord",
    "get_version",
    "insert_version",
    "latest_version",
    "list_versions",
    "previous_version",
    "stored_state",
]

KINDS = ("manual", "auto", "restore-backup")
"""What made a version: someone saving it, an automatic checkpoint, or a restore (which first
saves the state it replaces, so that restoring that version undoes the restore)."""


class VersionRecord(Record):
    """A version (its columns of ``doc_versions``, ``upto_update_id`` read as ``upto``), with
    its author's name."""

    id: int
    document_id: str
    name: str
    kind: str
    upto: int
    """The log position: the highest ``doc_updates`` id folded into the state."""
    author_id: str | None
    author_name: str | None
    created_at: UtcDatetime
    state: bytes | None = None
    """None when the query did not read it (lists)."""


@dataclass(frozen=True, slots=True)
class StoredState:
    """What the store holds of a document at one moment, and the log position that is."""

    updates: list[bytes]
    """The snapshot (if any), then the log entries."""
    position: int
    """The highest update id in them (0: none was ever stored)."""


async def stored_state(connection: AsyncConnection, document_id: str) -> StoredState:
    """The committed content of a document and its log position, read consistently.

    One statement, so that it reads one database snapshot even under PostgreSQL's READ
    COMMITTED: a compaction committing meanwhile cannot move entries out of the log and into
    ``doc_edits`` between two reads.
    """
    snapshot = sa.select(
        sa.literal_column("0").label("kind"),
        doc_snapshots.c.state.label("data"),
        sa.literal_column("0").label("id"),
    ).where(doc_snapshots.c.document_id == document_id)
    log = sa.select(sa.literal_column("1"), doc_updates.c.data, doc_updates.c.id).where(
        doc_updates.c.document_id == document_id
    )
    folded = sa.select(
        sa.literal_column("2"),
        sa.cast(sa.null(), sa.LargeBinary()),
        sa.func.coalesce(sa.func.max(doc_edits.c.last_update_id), 0),
    ).where(doc_edits.c.document_id == document_id)
    statement = sa.union_all(snapshot, log, folded).order_by(sa.text("kind"), sa.text("id"))
    rows = (await connection.execute(statement)).all()
    updates = [bytes(row.data) for row in rows if row.kind != 2]
    position = max((int(row.id) for row in rows if row.kind != 0), default=0)
    return StoredState(updates, position)


_COLUMNS = (
    doc_versions.c.id,
    doc_versions.c.document_id,
    doc_versions.c.name,
    doc_versions.c.kind,
    doc_versions.c.upto_update_id.label("upto"),
    doc_versions.c.author_id,
    users.c.name.label("author_name"),
    doc_versions.c.created_at,
)


def _select(*, with_state: bool) -> sa.Select[tuple[object, ...]]:
    columns = (*_COLUMNS, doc_versions.c.state) if with_state else _COLUMNS
    return sa.select(*columns).select_from(
        doc_versions.outerjoin(users, users.c.id == doc_versions.c.author_id)
    )


async def insert_version(
    connection: AsyncConnection,
    *,
    document_id: str,
    name: str,
    kind: str,
    state: bytes,
    upto: int,
    author_id: str | None,
    now: datetime,
) -> VersionRecord:
    """Save a version of a workspace document.

    Raises:
        ValueError: ``kind`` is not one of :data:`KINDS`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown version kind {kind!r}")
    result = await connection.execute(
        doc_versions.insert()
        .values(
            document_id=document_id,
            name=name,
            kind=kind,
            state=state,
            upto_update_id=upto,
            author_id=author_id,
            created_at=now,
        )
        .returning(doc_versions.c.id)
    )
    found = await get_version(connection, document_id, int(result.scalar_one()), with_state=False)
    assert found is not None
    return found


async def get_version(
    connection: AsyncConnection, document_id: str, version_id: int, *, with_state: bool = True
) -> VersionRecord | None:
    """A version of the document (with its state unless told otherwise); None if the
    document has no such version."""
    statement = _select(with_state=with_state).where(
        doc_versions.c.document_id == document_id, doc_versions.c.id == version_id
    )
    row = (await connection.execute(statement)).first()
    return None if row is None else VersionRecord.model_validate(row)


async def list_versions(
    connection: AsyncConnection, document_id: str, *, limit: int, before: int | None = None
) -> list[VersionRecord]:
    """The document's versions, newest first, without their states; ``before``: an id, for
    the next page."""
    statement = _select(with_state=False).where(doc_versions.c.document_id == document_id)
    if before is not None:
        statement = statement.where(doc_versions.c.id < before)
    rows = await connection.execute(statement.order_by(doc_versions.c.id.desc()).limit(limit))
    return [VersionRecord.model_validate(row) for row in rows]


async def latest_version(connection: AsyncConnection, document_id: str) -> VersionRecord | None:
    """The newest version of the document, without its state."""
    found = await list_versions(connection, document_id, limit=1)
    return found[0] if found else None


async def previous_version(
    connection: AsyncConnection, document_id: str, version_id: int
) -> VersionRecord | None:
    """The version saved just before ``version_id``, without its state."""
    found = await list_versions(connection, document_id, limit=1, before=version_id)
    return found[0] if found else None
