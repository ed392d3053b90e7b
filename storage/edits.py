"""Who wrote the log: each entry's author, and the edit sessions compaction keeps of them.

Every log entry (``doc_updates``) knows its author. An edit session is a run of one author's
consecutive entries, each less than a gap after the previous one (:data:`SESSION_GAP` unless
asked otherwise). Compaction deletes log entries, so in the same transaction it records their
sessions in ``doc_edits`` (:func:`record_edits`): the attribution is part of the log and
survives compaction. Reading it, with the authors' names, is :mod:`storage.history`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema.log import doc_edits

__all__ = [
    "SESSION_GAP",
    "EditSession",
    "LogEntry",
    "coalesce",
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
