"""The tables of comment threads, their comments, and the notifications of mentions.

A thread hangs on a workspace document (deleting the document deletes its threads), a
comment on its thread, a notification on the comment that mentioned someone: each deletion
cascades down that chain. The queries live in :mod:`storage.comments` and
:mod:`storage.notifications`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from storage.schema._base import (
    ID_LENGTH,
    MAX_DOCUMENT_ID_LENGTH,
    ROW_ID,
    Base,
    metadata,
    timestamp,
    user_ref,
)

__all__ = ["Comment", "Notification", "Thread", "comments", "notifications", "threads"]


class Thread(Base, table=True):
    """A discussion anchored to a range of a document; its first comment is its body."""

    __tablename__ = "threads"
    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'resolved')", name="status"),
        sa.Index("ix_threads_document_id_created_at", "document_id", "created_at"),
    )

    id: str = Field(sa_column=sa.Column(sa.String(ID_LENGTH), primary_key=True, nullable=False))
    document_id: str = Field(
        sa_column=sa.Column(
            sa.String(MAX_DOCUMENT_ID_LENGTH),
            sa.ForeignKey("workspace_documents.document_id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    anchor_start: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    anchor_end: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    quote: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    """The text of the range when the thread was made, kept once the range is gone."""
    status: str = Field(
        default="open", sa_column=sa.Column(sa.String(16), nullable=False, server_default="open")
    )
    author_id: str | None = Field(default=None, sa_column=user_ref())
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    resolved_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    resolved_by: str | None = Field(default=None, sa_column=user_ref())


class Comment(Base, table=True):
    """One message of a thread."""

    __tablename__ = "comments"
    __table_args__ = (sa.Index("ix_comments_thread_id_created_at", "thread_id", "created_at"),)

    id: str = Field(sa_column=sa.Column(sa.String(ID_LENGTH), primary_key=True, nullable=False))
    thread_id: str = Field(
        sa_column=sa.Column(
            sa.String(ID_LENGTH), sa.ForeignKey("threads.id", ondelete="CASCADE"), nullable=False
        )
    )
    author_id: str | None = Field(default=None, sa_column=user_ref())
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    edited_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))


class Notification(Base, table=True):
    """Something a user should look at: for now, a comment that mentions them."""

    __tablename__ = "notifications"
    # AUTOINCREMENT: ids order a user's notifications and are the paging cursor.
    __table_args__ = (
        sa.CheckConstraint("kind IN ('mention')", name="kind"),
        sa.Index("ix_notifications_user_id_id", "user_id", "id"),
        sa.Index("ix_notifications_comment_id", "comment_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            ROW_ID,
            sa.Identity(),
            primary_key=True,
        ),
    )
    user_id: str = Field(sa_column=user_ref(nullable=False, on_delete="CASCADE"))
    kind: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    actor_id: str | None = Field(default=None, sa_column=user_ref())
    # Where the comment is, for a reader's link; the comment's foreign key is what deletes
    # the notification with it (and so with its thread and document).
    workspace_id: str = Field(sa_column=sa.Column(sa.String(ID_LENGTH), nullable=False))
    document_id: str = Field(sa_column=sa.Column(sa.String(MAX_DOCUMENT_ID_LENGTH), nullable=False))
    thread_id: str = Field(sa_column=sa.Column(sa.String(ID_LENGTH), nullable=False))
    comment_id: str = Field(
        sa_column=sa.Column(
            sa.String(ID_LENGTH), sa.ForeignKey("comments.id", ondelete="CASCADE"), nullable=False
        )
    )
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    read_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))


threads: sa.Table = metadata.tables["threads"]
comments: sa.Table = metadata.tables["comments"]
notifications: sa.Table = metadata.tables["notifications"]
