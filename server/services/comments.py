"""The comments service: replying to a thread, editing one's own comment, deleting a comment.

Replying takes the commenter role; editing and deleting a comment take being its author and
still a commenter, except that owners may delete any comment. The first comment of a thread
is its body: delete the thread instead (409). Each change is stored, then pushed to the
document's clients as ``comment.added``/``comment.edited``/``comment.deleted`` with the thread
as it is after it, then the notifications of the members it newly mentions are pushed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounts import new_id
from server.permissions import Role
from server.services.access import require_role
from server.services.context import ApiServices
from server.services.errors import conflict, forbidden, not_found
from server.services.mentions import notify_mentions
from server.services.records import CommentOut, ThreadOut, comment_out, mentioned_ids
from server.services.threads import ThreadContext, load_thread, may_delete, publish, serve_threads
from storage.clock import utcnow
from storage.comments import (
    CommentRecord,
    comments_of,
    count_comments,
    delete_comment,
    get_comment,
    insert_comment,
    member_names,
    update_comment,
)

__all__ = ["MAX_COMMENTS_PER_THREAD", "Served", "add", "edit", "remove"]

MAX_COMMENTS_PER_THREAD = 1000
"""Replies beyond this are refused (409): a thread is served whole, comments included."""


@dataclass(frozen=True, slots=True)
class Served:
    """A comment as served, with its thread as it is after the change."""

    thread: ThreadOut
    comment: CommentOut


async def _load_comment(
    connection: AsyncConnection, comment_id: str, user_id: str
) -> tuple[CommentRecord, ThreadContext]:
    comment = await get_comment(connection, comment_id)
    if comment is None:
        raise not_found(f"no comment {comment_id}")
    return comment, await load_thread(connection, comment.thread_id, user_id, lock=True)


def _by_author(found: ThreadContext, comment: CommentRecord, user_id: str, action: str) -> None:
    """Raises ApiError 403 unless the caller wrote the comment and may still comment."""
    if comment.author_id != user_id:
        raise forbidden(f"only its author may {action} a comment")
    require_role(found.role, Role.COMMENTER, f"{action} comments")


async def _serve(services: ApiServices, found: ThreadContext, comment_id: str) -> Served:
    thread = (await serve_threads(services, found.document, [found.thread]))[0]
    comment = next(item for item in thread.comments if item.id == comment_id)
    return Served(thread, comment)


async def add(services: ApiServices, user_id: str, thread_id: str, body: str) -> Served:
    """Reply to a thread; the members the reply mentions are notified.

    Raises:
        ApiError: 404 no such thread; 403 not a commenter there; 409 the document is in the
            trash or the thread has :data:`MAX_COMMENTS_PER_THREAD` comments.
    """
    now = utcnow()
    async with services.database.transaction() as connection:
        found = await load_thread(connection, thread_id, user_id, lock=True)
        require_role(found.role, Role.COMMENTER, "comment")
        if found.document.trashed:
            raise conflict("the document is in the trash", code="trash_state")
        if await count_comments(connection, found.thread.id) >= MAX_COMMENTS_PER_THREAD:
            raise conflict(
                f"the thread has {MAX_COMMENTS_PER_THREAD} comments, the most it may have",
                code="too_many_comments",
            )
        comment = await insert_comment(
            connection,
            comment_id=new_id(),
            thread_id=found.thread.id,
            author_id=user_id,
            body=body,
            now=now,
        )
        sent = await notify_mentions(connection, found.document, comment, mentioned_ids(body), now)
    served = await _serve(services, found, comment.id)
    publish(services, "comment.added", served.thread, served.comment.model_dump(mode="json"))
    sent.deliver(services)
    return served


async def edit(services: ApiServices, user_id: str, comment_id: str, body: str) -> Served:
    """Edit one's own comment; the members it newly mentions are notified.

    Raises:
        ApiError: 404 no such comment; 403 not its author, or no longer a commenter.
    """
    now = utcnow()
    async with services.database.transaction() as connection:
        comment, found = await _load_comment(connection, comment_id, user_id)
        _by_author(found, comment, user_id, "edit")
        before = set(mentioned_ids(comment.body))
        updated = await update_comment(connection, comment.id, body, now)
        assert updated is not None
        added = [mentioned for mentioned in mentioned_ids(body) if mentioned not in before]
        sent = await notify_mentions(connection, found.document, updated, added, now)
    served = await _serve(services, found, comment.id)
    publish(services, "comment.edited", served.thread, served.comment.model_dump(mode="json"))
    sent.deliver(services)
    return served


async def remove(services: ApiServices, user_id: str, comment_id: str) -> None:
    """Delete a comment: its author's while a commenter, or anyone's for an owner.

    Raises:
        ApiError: 404 no such comment; 403 not allowed; 409 it is the thread's body.
    """
    async with services.database.transaction() as connection:
        comment, found = await _load_comment(connection, comment_id, user_id)
        if not may_delete(found.role, comment.author_id, user_id):
            raise forbidden("only its author (while a commenter) or an owner may delete a comment")
        first = (await comments_of(connection, [found.thread.id]))[found.thread.id][0]
        if first.id == comment.id:
            raise conflict(
                "this comment is the thread's body: delete the thread instead",
                code="thread_body",
            )
        members = await member_names(
            connection, found.document.workspace_id, mentioned_ids(comment.body)
        )
        await delete_comment(connection, comment.id)
    thread = (await serve_threads(services, found.document, [found.thread]))[0]
    deleted = comment_out(comment, members).model_dump(mode="json")
    publish(services, "comment.deleted", thread, deleted)
