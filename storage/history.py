"""Who edited a document when: edit sessions, from the log and from what compaction folded.

Every log entry knows its author. An edit session is a run of one author's consecutive
entries, each less than a gap after the previous one (:data:`SESSION_GAP` unless asked
otherwise). Compaction deletes log entries, so it first records their sessions in
``doc_edits`` (:func:`record_edits`, in its own transaction); the history of a document is
those stored sessions followed by the entries still in the log, grouped the same way, so the
moment a compaction ran never shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.clock import as_utc
from storage.schema import doc_edits, doc_updates, users

__all__ = [
    "SESSION_GAP",
    "Contributor",
    "EditSession",
    "LogEntry",
    "coalesce",
    "contributors",
    "edit_history",
    "record_edits",
    "sessions_of",
]

SESSION_GAP = timedelta(minutes=10)
"""Entries of one author closer together than this belong to one session."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """The attribution of one log entry."""

    id: int
    author_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EditSession:
    """One author's consecutive updates of a document."""

    author_id: str | None
    """None: a guest, or the system."""
    first_update_id: int
    last_update_id: int
    started_at: datetime
    ended_at: datetime
    updates: int
    author_name: str | None = None
    """Filled by the queries that read sessions (None: no such account)."""


@dataclass(frozen=True, slots=True)
class Contributor:
    id: str
    name: str | None
    """None: the account was deleted since."""


def sessions_of(entries: Iterable[LogEntry]) -> list[EditSession]:
    """One single-update session per entry (group them with :func:`coalesce`)."""
    return [
        EditSession(entry.author_id, entry.id, entry.id, entry.created_at, entry.created_at, 1)
        for entry in entries
    ]


def coalesce(sessions: Iterable[EditSession], gap: timedelta = SESSION_GAP) -> list[EditSession]:
    """Merge sessions into the longest runs of one author, in update order.

    Two sessions are merged when they are next to each other in update order, have the same
    author, and the second starts less than ``gap`` after the first ends.

    Args:
        sessions: in any order.
        gap: the longest pause within one session; must be positive.

    Returns:
        The merged sessions, oldest first.

    Raises:
        ValueError: ``gap`` is not positive.
    """
    if gap <= timedelta(0):
        raise ValueError("the session gap must be positive")
    merged: list[EditSession] = []
    for session in sorted(sessions, key=lambda s: (s.first_update_id, s.last_update_id)):
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.author_id == session.author_id
            and session.started_at - last.ended_at < gap
        ):
            merged[-1] = replace(
                last,
                last_update_id=max(last.last_update_id, session.last_update_id),
                started_at=min(last.started_at, session.started_at),
                ended_at=max(last.ended_at, session.ended_at),
                updates=last.updates + session.updates,
            )
        else:
            merged.append(session)
    return merged


async def record_edits(
    connection: AsyncConnection, document_id: str, entries: Sequence[LogEntry]
) -> int:
    """Store the sessions of log entries about to be deleted, in the caller's transaction.

    Returns:
        How many sessions were stored.
    """
    sessions = coalesce(sessions_of(entries))
    if sessions:
        await connection.execute(
            sa.insert(doc_edits),
            [
                {
                    "document_id": document_id,
                    "author_id": s.author_id,
                    "first_update_id": s.first_update_id,
                    "last_update_id": s.last_update_id,
                    "started_at": s.started_at,
                    "ended_at": s.ended_at,
                    "updates": s.updates,
                }
                for s in sessions
            ],
        )
    return len(sessions)


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
