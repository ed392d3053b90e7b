"""The request bodies, queries and pages of the comment and notification endpoints.

The threads, comments and notifications themselves are the services' records
(:mod:`server.services.records`). A new thread's anchor is two Yjs relative positions
(``Y.encodeRelativePosition``) in base64. A comment's body may mention members as
``<@USER_ID>``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from server.api.models import PageQuery
from server.services.records import NotificationOut, Status, ThreadOut

__all__ = [
    "MAX_ANCHOR_TEXT",
    "MAX_BODY_LENGTH",
    "AnchorIn",
    "CommentCreate",
    "CommentPatch",
    "NotificationListQuery",
    "NotificationPage",
    "ReadAllOut",
    "ThreadCreate",
    "ThreadListQuery",
    "ThreadPage",
    "ThreadPatch",
    "UnreadCount",
]

MAX_BODY_LENGTH = 10_000
"""The longest comment, in characters."""

MAX_ANCHOR_TEXT = 1024
"""The longest base64 text of one sticky index (a real one is a few dozen characters)."""

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


class ThreadPage(BaseModel):
    items: list[ThreadOut]
    next_cursor: str | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


class UnreadCount(BaseModel):
    unread: int


class ReadAllOut(BaseModel):
    marked: int = Field(description="how many notifications were unread")
