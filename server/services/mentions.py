"""Mentions: storing and pushing the notifications a comment's ``<@USER_ID>`` mentions cause.

Used by the thread and comment routes inside their transactions; the notification routes
read and mark what is stored here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from server.services.context import ApiServices
from server.services.records import notification_out
from storage.catalog import DocumentRecord
from storage.comments import CommentRecord, member_names
from storage.notifications import NewNotification, NotificationRecord, insert_notifications

__all__ = ["Delivery", "notify_mentions"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """Notifications stored in a transaction, to push once it has committed."""

    notifications: Sequence[NotificationRecord]

    def deliver(self, services: ApiServices) -> None:
        for record in self.notifications:
            event: dict[str, object] = {
                "type": "notification",
                "notification": notification_out(record).model_dump(mode="json"),
            }
            services.live.send_to_user(record.user_id, event)


async def notify_mentions(
    connection: AsyncConnection,
    document: DocumentRecord,
    comment: CommentRecord,
    user_ids: Sequence[str],
    now: datetime,
) -> Delivery:
    """Store a notification for each of ``user_ids`` who is a member of the document's
    workspace and not the comment's author, inside the caller's transaction.

    Returns:
        What to push with :meth:`Delivery.deliver` after the transaction commits.
    """
    candidates = [user_id for user_id in user_ids if user_id != comment.author_id]
    if not candidates or comment.author_id is None:
        return Delivery(())
    members = await member_names(connection, document.workspace_id, candidates)
    new = [
        NewNotification(
            user_id=user_id,
            actor_id=comment.author_id,
            workspace_id=document.workspace_id,
            document_id=document.id,
            thread_id=comment.thread_id,
            comment_id=comment.id,
        )
        for user_id in candidates
        if user_id in members
    ]
    return Delivery(await insert_notifications(connection, new, now))
