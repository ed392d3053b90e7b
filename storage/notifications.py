"""Queries of the notifications of users: a comment that mentions them, for now.

The table is :class:`storage.schema.comments.Notification`. A user sees the notifications of the
workspaces they still belong to: one who left a workspace no longer reads what was said
there. Every query takes a connection inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Record, UtcDatetime
from storage.schema import comments, memberships, notifications, users, workspace_documents

__all__ = [
    "EXCERPT_LENGTH",
    "NewNotification",
    "NotificationRecord",
    "count_unread",
    "get_notification",
    "insert_notifications",
    "list_notifications",
    "mark_all_read",
    "mark_read",
]

EXCERPT_LENGTH = 200
"""How much of a comment's body a notification carries."""


@dataclass(frozen=True, slots=True)
class NewNotification:
    """A notification to add: who gets it, and the comment it is about."""

    user_id: str
    actor_id: str
    workspace_id: str
    document_id: str
    thread_id: str
    comment_id: str
    kind: str = "mention"


class NotificationRecord(Record):
    """A notification, with the actor's name, the document's title and the comment's first
    :data:`EXCERPT_LENGTH` characters."""

    id: int
    user_id: str
    kind: str
    actor_id: str | None
    actor_name: str | None
    workspace_id: str
    document_id: str
    document_title: str | None
    thread_id: str
    comment_id: str
    excerpt: str
    created_at: UtcDatetime
    read_at: UtcDatetime | None


_actor = users.alias("notification_actor")
_NOTIFICATION_QUERY = sa.select(
    notifications,
    _actor.c.name.label("actor_name"),
    workspace_documents.c.title.label("document_title"),
    sa.func.coalesce(sa.func.substr(comments.c.body, 1, EXCERPT_LENGTH), "").label("excerpt"),
).select_from(
    notifications.join(comments, comments.c.id == notifications.c.comment_id)
    .join(
        memberships,
        sa.and_(
            memberships.c.workspace_id == notifications.c.workspace_id,
            memberships.c.user_id == notifications.c.user_id,
        ),
    )
    .outerjoin(_actor, _actor.c.id == notifications.c.actor_id)
    .outerjoin(
        workspace_documents, workspace_documents.c.document_id == notifications.c.document_id
    )
)


async def insert_notifications(
    connection: AsyncConnection, new: Sequence[NewNotification], now: datetime
) -> list[NotificationRecord]:
    """Add notifications; each as it will be read back, with the id the database gave it."""
    ids = []
    for item in new:
        result = await connection.execute(
            notifications.insert()
            .values(
                user_id=item.user_id,
                kind=item.kind,
                actor_id=item.actor_id,
                workspace_id=item.workspace_id,
                document_id=item.document_id,
                thread_id=item.thread_id,
                comment_id=item.comment_id,
                created_at=now,
            )
            .returning(notifications.c.id)
        )
        ids.append(int(result.scalar_one()))
    if not ids:
        return []
    rows = await connection.execute(
        _NOTIFICATION_QUERY.where(notifications.c.id.in_(ids)).order_by(notifications.c.id)
    )
    return [NotificationRecord.model_validate(row) for row in rows]


async def get_notification(
    connection: AsyncConnection, user_id: str, notification_id: int
) -> NotificationRecord | None:
    """One of a user's notifications (None: not theirs, or not visible to them any more)."""
    statement = _NOTIFICATION_QUERY.where(
        notifications.c.id == notification_id, notifications.c.user_id == user_id
    )
    row = (await connection.execute(statement)).first()
    return None if row is None else NotificationRecord.model_validate(row)


async def list_notifications(
    connection: AsyncConnection,
    user_id: str,
    *,
    unread_only: bool,
    limit: int,
    before: int | None,
) -> list[NotificationRecord]:
    """A user's notifications, newest first, starting before the id ``before``."""
    statement = (
        _NOTIFICATION_QUERY.where(notifications.c.user_id == user_id)
        .order_by(notifications.c.id.desc())
        .limit(limit)
    )
    if unread_only:
        statement = statement.where(notifications.c.read_at.is_(None))
    if before is not None:
        statement = statement.where(notifications.c.id < before)
    return [NotificationRecord.model_validate(row) for row in await connection.execute(statement)]


async def count_unread(connection: AsyncConnection, user_id: str) -> int:
    statement = (
        sa.select(sa.func.count())
        .select_from(
            notifications.join(
                memberships,
                sa.and_(
                    memberships.c.workspace_id == notifications.c.workspace_id,
                    memberships.c.user_id == notifications.c.user_id,
                ),
            )
        )
        .where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
    )
    return int((await connection.execute(statement)).scalar_one())


async def mark_read(
    connection: AsyncConnection, user_id: str, notification_id: int, now: datetime
) -> NotificationRecord | None:
    """Mark one of a user's notifications read (a read one keeps its first read time)."""
    await connection.execute(
        notifications.update()
        .where(
            notifications.c.id == notification_id,
            notifications.c.user_id == user_id,
            notifications.c.read_at.is_(None),
        )
        .values(read_at=now)
    )
    return await get_notification(connection, user_id, notification_id)


async def mark_all_read(connection: AsyncConnection, user_id: str, now: datetime) -> int:
    """Mark every unread notification of a user read; how many were."""
    result = await connection.execute(
        notifications.update()
        .where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
        .values(read_at=now)
    )
    return int(result.rowcount)
