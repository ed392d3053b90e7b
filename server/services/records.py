"""The records the services return and the live events carry: threads, comments, notifications,
versions and activity entries, as frozen pydantic models.

They are the features' shapes, not HTTP's: a service builds one from the stored rows, the route
returns it as the response body (its schema names are those of the OpenAPI document) and the
same JSON goes out in the ``thread.*``, ``comment.*``, ``notification.*``, ``version.*`` and
activity events. A thread's anchor is two Yjs relative positions (``Y.encodeRelativePosition``)
in base64 with the range they resolve to now (``index``/``length`` in UTF-16 code units, as in
Yjs), or ``detached`` once the anchored text is gone. A comment's body may mention members as
``<@USER_ID>``; its ``mentions`` name the members it mentions, so that clients show names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from storage.comments import CommentRecord, ThreadRecord
from storage.notifications import NotificationRecord

__all__ = [
    "MENTION",
    "ActivityObject",
    "ActivityOut",
    "ActorOut",
    "AnchorOut",
    "CommentOut",
    "NotificationOut",
    "Status",
    "ThreadOut",
    "VersionOut",
    "actor",
    "comment_out",
    "mentioned_ids",
    "notification_out",
    "thread_out",
]

MENTION = re.compile(r"<@([0-9a-f]{32})>")
"""The markup of a mention: a user's id, which stays the same when they are renamed."""

Status = Literal["open", "resolved"]
"""A thread's status."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class ActorOut(_Record):
    id: str
    name: str


class ActivityObject(_Record):
    type: Literal["document", "member", "invitation", "workspace"]
    id: str


class ActivityOut(_Record):
    id: str
    workspace_id: str
    verb: str = Field(description="document.created, member.role_changed, ...")
    actor: ActorOut | None
    object: ActivityObject
    data: dict[str, str | bool | None]
    created_at: datetime


class AnchorOut(_Record):
    start: str
    end: str
    index: int | None = Field(description="where the range starts now; null once detached")
    length: int | None = Field(description="its length now; null once detached")


class CommentOut(_Record):
    id: str
    thread_id: str
    author: ActorOut | None = Field(description="null once the account is deleted")
    body: str
    mentions: list[ActorOut] = Field(description="the members the body mentions")
    created_at: datetime
    edited_at: datetime | None


class ThreadOut(_Record):
    id: str
    document_id: str
    anchor: AnchorOut
    quote: str = Field(description="the anchored text when the thread was made")
    detached: bool = Field(description="the anchored text is gone; the thread is kept")
    status: Status
    author: ActorOut | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: ActorOut | None
    comments: list[CommentOut] = Field(description="oldest first; the first is the thread's body")


class NotificationOut(_Record):
    id: str
    kind: Literal["mention"]
    actor: ActorOut | None
    workspace_id: str
    document_id: str
    document_title: str | None
    thread_id: str
    comment_id: str
    excerpt: str = Field(description="the start of the comment")
    read: bool
    created_at: datetime
    read_at: datetime | None


class VersionOut(_Record):
    id: str
    document_id: str
    name: str
    kind: Literal["manual", "auto", "restore-backup"] = Field(
        description="manual: saved by someone; auto: an automatic checkpoint; restore-backup: "
        "the state a restore replaced (restore it to undo that restore)"
    )
    author: ActorOut | None = Field(description="who saved it; null for automatic checkpoints")
    created_at: datetime
    upto: int = Field(description="the log position: the last update it contains")
    contributors: list[ActorOut] = Field(
        description="who edited the document between the previous version and this one"
    )


def mentioned_ids(body: str) -> list[str]:
    """The user ids a body mentions, each once, in order."""
    return list(dict.fromkeys(MENTION.findall(body)))


def actor(user_id: str | None, name: str | None) -> ActorOut | None:
    return None if user_id is None else ActorOut(id=user_id, name=name or "")


def comment_out(comment: CommentRecord, members: Mapping[str, str]) -> CommentOut:
    """A comment; ``members`` names the workspace's members (at least those it mentions)."""
    mentions = [
        ActorOut(id=user_id, name=members[user_id])
        for user_id in mentioned_ids(comment.body)
        if user_id in members
    ]
    return CommentOut(
        id=comment.id,
        thread_id=comment.thread_id,
        author=actor(comment.author_id, comment.author_name),
        body=comment.body,
        mentions=mentions,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
    )


def thread_out(
    thread: ThreadRecord,
    anchor: tuple[str, str],
    where: tuple[int, int] | None,
    comments: Sequence[CommentRecord],
    members: Mapping[str, str],
) -> ThreadOut:
    """A thread; ``anchor`` is its sticky indexes in base64, ``where`` the (index, length)
    they resolve to now, None when detached."""
    start, end = anchor
    return ThreadOut(
        id=thread.id,
        document_id=thread.document_id,
        anchor=AnchorOut(
            start=start,
            end=end,
            index=None if where is None else where[0],
            length=None if where is None else where[1],
        ),
        quote=thread.quote,
        detached=where is None,
        status="resolved" if thread.status == "resolved" else "open",
        author=actor(thread.author_id, thread.author_name),
        created_at=thread.created_at,
        resolved_at=thread.resolved_at,
        resolved_by=actor(thread.resolved_by, thread.resolved_by_name),
        comments=[comment_out(comment, members) for comment in comments],
    )


def notification_out(record: NotificationRecord) -> NotificationOut:
    return NotificationOut(
        id=str(record.id),
        kind="mention",
        actor=actor(record.actor_id, record.actor_name),
        workspace_id=record.workspace_id,
        document_id=record.document_id,
        document_title=record.document_title,
        thread_id=record.thread_id,
        comment_id=record.comment_id,
        excerpt=record.excerpt,
        read=record.read_at is not None,
        created_at=record.created_at,
        read_at=record.read_at,
    )
