"""Notifications: a member mentioned in a comment (``<@USER_ID>``) is told so.

These routes read and mark them; :mod:`server.api.mentions` creates and pushes them.

Each mentioned member of the document's workspace other than the author gets one
notification per comment (and, when a comment is edited, per mention it gains); a mention of
anyone else stays plain text. A notification is stored with the comment, in its transaction,
and pushed live as ``{"type": "notification", "notification": {...}}`` to the mentioned
user's own connections on this node that asked for events. Everyone reads and marks only
their own notifications.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from server.api.dependencies import SignedInCall
from server.api.errors import not_found
from server.api.paging import decode_cursor, split_page
from server.api.routing import api_router, errors
from server.api.thread_models import (
    NotificationListQuery,
    NotificationOut,
    NotificationPage,
    ReadAllOut,
    UnreadCount,
    notification_out,
)
from storage.clock import utcnow
from storage.notifications import (
    count_unread,
    list_notifications,
    mark_all_read,
    mark_read,
)

router = api_router("notifications")

_MAX_ID = 2**63 - 1


@router.get(
    "/api/notifications",
    summary="Your notifications, newest first",
    response_model=NotificationPage,
    responses=errors(400),
)
async def list_my_notifications(
    call: SignedInCall,
    query: Annotated[NotificationListQuery, Query()],
) -> NotificationPage:
    """``?unread=true``: only those not read yet. Those of workspaces you have left are not
    listed."""
    before = decode_cursor(query.cursor, int)
    async with call.services.database.transaction() as connection:
        rows = await list_notifications(
            connection,
            call.user_id,
            unread_only=query.unread,
            limit=query.limit + 1,
            before=None if before is None else int(before[0]),
        )
    page, cursor = split_page(rows, query.limit, lambda record: (record.id,))
    return NotificationPage(items=[notification_out(row) for row in page], next_cursor=cursor)


@router.get(
    "/api/notifications/unread-count",
    summary="How many of your notifications are unread",
    response_model=UnreadCount,
)
async def count_my_unread_notifications(call: SignedInCall) -> UnreadCount:
    async with call.services.database.transaction() as connection:
        return UnreadCount(unread=await count_unread(connection, call.user_id))


@router.post(
    "/api/notifications/{notification_id}/read",
    summary="Mark one of your notifications read",
    response_model=NotificationOut,
    responses=errors(404),
)
async def read_notification(call: SignedInCall, notification_id: str) -> NotificationOut:
    """Only your own (404 for anyone else's). Marking a read one again changes nothing."""
    number = (
        int(notification_id) if notification_id.isascii() and notification_id.isdigit() else None
    )
    if number is None or number > _MAX_ID:
        raise not_found(f"no notification {notification_id}")
    async with call.services.database.transaction() as connection:
        record = await mark_read(connection, call.user_id, number, utcnow())
    if record is None:
        raise not_found(f"no notification {notification_id}")
    return notification_out(record)


@router.post(
    "/api/notifications/read-all",
    summary="Mark all your notifications read",
    response_model=ReadAllOut,
)
async def read_all_notifications(call: SignedInCall) -> ReadAllOut:
    async with call.services.database.transaction() as connection:
        marked = await mark_all_read(connection, call.user_id, utcnow())
    return ReadAllOut(marked=marked)
