"""Who edited a document when: edit sessions and contributors, with the authors' names.

The history of a document is the sessions compaction stored in ``doc_edits`` followed by the
entries still in the log, grouped the same way (:mod:`storage.edits`), so the moment a
compaction ran never shows. Every query takes a connection inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.clock import as_utc
from storage.edits import SESSION_GAP, EditSession, coalesce
from storage.schema import doc_edits, doc_updates, users

__all__ = [
    "SESSION_GAP",
    "Contributor",
    "EditSession",
    "contributors",
    "edit_history",
]


@dataclass(frozen=True, slots=True)
class Contributor:
    id: str
    name: str | None
    """None: the account was deleted since."""


def _edits(document_id: str) -> sa.Subquery:
    """Stored sessions and log entries as sessions, in one statement (one database snapshot:
    a compaction that commits meanwhile cannot hide entries or show them twice)."""
    stored = sa.select(
        doc_edits.c.author_id,
        doc_edits.c.first_update_id,
        doc_edits.c.last_update_id,
        doc_edits.c.started_at,
        doc_edits.c.ended_at,
        doc_edits.c.updates,
    ).where(doc_edits.c.document_id == document_id)
    log = sa.select(
        doc_updates.c.author_id,
        doc_updates.c.id,
        doc_updates.c.id,
        doc_updates.c.created_at,
        doc_updates.c.created_at,
        sa.literal_column("1"),
    ).where(doc_updates.c.document_id == document_id)
    return sa.union_all(stored, log).subquery("edits")


async def edit_history(
    connection: AsyncConnection, document_id: str, *, gap: timedelta = SESSION_GAP
) -> list[EditSession]:
    """Every edit session of a document, oldest first, with its author's name."""
    edits = _edits(document_id)
    rows = await connection.execute(
        sa.select(edits, users.c.name.label("author_name")).select_from(
            edits.outerjoin(users, users.c.id == edits.c.author_id)
        )
    )
    sessions = [
        EditSession(
            author_id=row.author_id,
            first_update_id=int(row.first_update_id),
            last_update_id=int(row.last_update_id),
            started_at=as_utc(row.started_at),
            ended_at=as_utc(row.ended_at),
            updates=int(row.updates),
            author_name=row.author_name,
        )
        for row in rows
    ]
    return coalesce(sessions, gap)


async def contributors(
    connection: AsyncConnection, document_id: str, *, after: int, upto: int
) -> list[Contributor]:
    """The accounts whose updates have ids in ``(after, upto]``, by name.

    Updates compaction folded count by their session: a session that overlaps the range
    counts as a whole.
    """
    edits = _edits(document_id)
    rows = await connection.execute(
        sa.select(edits.c.author_id, users.c.name)
        .select_from(edits.outerjoin(users, users.c.id == edits.c.author_id))
        .where(
            edits.c.author_id.is_not(None),
            edits.c.first_update_id <= upto,
            edits.c.last_update_id > after,
        )
        .distinct()
    )
    found = [Contributor(str(row.author_id), row.name) for row in rows]
    return sorted(found, key=lambda c: ((c.name or "").casefold(), c.id))
