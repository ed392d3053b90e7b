"""The bodies of the comment and notification endpoints, and the conversion of their records.

A thread's anchor is two Yjs relative positions (``Y.encodeRelativePosition``) in base64; its
JSON adds the range they resolve to now (``index``/``length`` in UTF-16 code units, as in
Yjs), or ``detached`` once the anchored text is gone. A comment's body may mention members as
``<@USER_ID>``; its ``mentions`` name the members it mentions, so that clients show names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from server.api.models import ActorOut, PageQuery
from storage.comments import CommentRecord, ThreadRecord
from storage.notifications import NotificationRecord

__all__ = [
    "MAX_ANCHOR_TEXT",
    "MAX_BODY_LENGTH",
    "AnchorIn",
    "AnchorOut",
    "CommentCreate",
    "CommentOut",
    "CommentPatch",
    "NotificationListQuery",
    "NotificationOut",
    "NotificationPage",
    "ReadAllOut",
    "ThreadCreate",
    "ThreadListQuery",
    "ThreadOut",
    "ThreadPage",
    "ThreadPatch",
    "UnreadCount",
    "actor",
    "comment_out",
    "mentioned_ids",
    "notification_out",
    "thread_out",
]

MAX_BODY_LENGTH = 10_000
"""The longest comment, in characters."""

MAX_ANCHOR_TEXT = 1024
"""The longest base64 text of one sticky index (a real one is a few dozen characters)."""

MENTION = re.compile(r"<@([0-9a-f]{32})>")
"""The markup of a mention: a user's id, which stays the same when they are renamed."""

_BASE64 = r"^[A-Za-z0-9+/]+={0,2}$"
_BLANK_MESSAGE = "may not be blank or contain NUL characters"


def _not_blank(value: str) -> str:
    if not value.strip() or "\x00" in value:
        raise ValueError(_BLANK_MESSAGE)
    return value


Body = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_BODY_LENGTH,
        description="the text; mention a member with <@USER_ID>",
        json_schema_extra={"pattern": r"^[^\x00]*[^\s\x00][^\x00]*$"},
    ),
    AfterValidator(_not_blank),
]
StickyIndex = Annotated[
    str,
    Field(
        min_length=4,
        max_length=MAX_ANCHOR_TEXT,
        pattern=_BASE64,
        description="a Yjs relative position (Y.encodeRelativePosition), in base64",
    ),
]
Status = Literal["open", "resolved"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AnchorIn(_In):
    start: StickyIndex
    end: StickyIndex


class ThreadCreate(_In):
    anchor: AnchorIn
    body: Body


class ThreadPatch(_In):
    status: Status


class CommentCreate(_In):
    body: Body


class CommentPatch(_In):
    body: Body


class ThreadListQuery(PageQuery):
    status: Status | None = Field(None, description="only the open, or the resolved, threads")


class NotificationListQuery(PageQuery):
    unread: bool = Field(False, description="only the notifications not read yet")


class AnchorOut(BaseModel):
    start: str
    end: str
    index: int | None = Field(description="where the range starts now; null once detached")
    length: int | None = Field(description="its length now; null once detached")


class CommentOut(BaseModel):
    id: str
    thread_id: str
    author: ActorOut | None = Field(description="null once the account is deleted")
    body: str
    mentions: list[ActorOut] = Field(description="the members the body mentions")
    created_at: datetime
    edited_at: datetime | None


class ThreadOut(BaseModel):
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


class ThreadPage(BaseModel):
    items: list[ThreadOut]
    next_cursor: str | None


class NotificationOut(BaseModel):
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


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


class UnreadCount(BaseModel):
    unread: int


class ReadAllOut(BaseModel):
    marked: int = Field(description="how many notifications were unread")


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
