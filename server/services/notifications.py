"""The notifications service: a user's own notifications, listed, counted and marked read.

A member mentioned in a comment (``<@USER_ID>``) is told so; :mod:`server.services.mentions`
creates and pushes the notifications, in the comment's transaction. Everyone reads and marks
only their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.services.context import ApiServices
from server.services.errors import not_found
from server.services.paging import decode_cursor, split_page
from storage.clock import utcnow
from storage.notifications import (
    NotificationRecord,
    count_unread,
    list_notifications,
    mark_all_read,
    mark_read,
)

__all__ = ["NotificationPage", "count_unread_of", "list_for", "read", "read_all"]

_MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class NotificationPage:
    items: list[NotificationRecord]
    next_cursor: str | None


async def list_for(
    services: ApiServices, user_id: str, *, unread_only: bool, limit: int, cursor: str | None
) -> NotificationPage:
    """Newest first; those of workspaces the user has left are not listed.

    Raises:
        ApiError: 400 for a cursor this list did not make.
    """
    before = decode_cursor(cursor, int)
    async with services.database.transaction() as connection:
        rows = await list_notifications(
            connection,
            user_id,
            unread_only=unread_only,
            limit=limit + 1,
            before=None if before is None else int(before[0]),
        )
    page, next_cursor = split_page(rows, limit, lambda record: (record.id,))
    return NotificationPage(page, next_cursor)


async def count_unread_of(services: ApiServices, user_id: str) -> int:
    async with services.database.transaction() as connection:
        return await count_unread(connection, user_id)


async def read(services: ApiServices, user_id: str, notification_id: str) -> NotificationRecord:
    """Mark one of the user's notifications read (again: no change).

    Raises:
        ApiError: 404 for an unknown id, or anyone else's notification.
    """
    number = (
        int(notification_id) if notification_id.isascii() and notification_id.isdigit() else None
    )
    if number is None or number > _MAX_ID:
        raise not_found(f"no notification {notification_id}")
    async with services.database.transaction() as connection:
        record = await mark_read(connection, user_id, number, utcnow())
    if record is None:
        raise not_found(f"no notification {notification_id}")
    return record


async def read_all(services: ApiServices, user_id: str) -> int:
    """Mark all the user's notifications read; how many were unread."""
    async with services.database.transaction() as connection:
        return await mark_all_read(connection, user_id, utcnow())
