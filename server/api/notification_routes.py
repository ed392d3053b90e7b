"""Notifications over HTTP: a user's own, listed, counted and marked read (the rules:
:mod:`server.services.notifications`).

Each mentioned member of the document's workspace other than the author gets one
notification per comment (and, when a comment is edited, per mention it gains); a mention of
anyone else stays plain text. A notification is pushed live as
``{"type": "notification", "notification": {...}}`` to the mentioned user's own connections
on this node that asked for events.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from server.api.dependencies import SignedInCall
from server.api.routing import api_router, errors
from server.api.thread_models import (
    NotificationListQuery,
    NotificationPage,
    ReadAllOut,
    UnreadCount,
)
from server.services import notifications
from server.services.records import NotificationOut, notification_out

router = api_router("notifications")


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
    page = await notifications.list_for(
        call.services,
        call.user_id,
        unread_only=query.unread,
        limit=query.limit,
        cursor=query.cursor,
    )
    return NotificationPage(
        items=[notification_out(row) for row in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/api/notifications/unread-count",
    summary="How many of your notifications are unread",
    response_model=UnreadCount,
)
async def count_my_unread_notifications(call: SignedInCall) -> UnreadCount:
    return UnreadCount(unread=await notifications.count_unread_of(call.services, call.user_id))


@router.post(
    "/api/notifications/{notification_id}/read",
    summary="Mark one of your notifications read",
    response_model=NotificationOut,
    responses=errors(404),
)
async def read_notification(call: SignedInCall, notification_id: str) -> NotificationOut:
    """Only your own (404 for anyone else's). Marking a read one again changes nothing."""
    record = await notifications.read(call.services, call.user_id, notification_id)
    return notification_out(record)


@router.post(
    "/api/notifications/read-all",
    summary="Mark all your notifications read",
    response_model=ReadAllOut,
)
async def read_all_notifications(call: SignedInCall) -> ReadAllOut:
    return ReadAllOut(marked=await notifications.read_all(call.services, call.user_id))
