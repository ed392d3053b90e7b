"""Comments of a thread: reply, edit one's own, delete one's own (owners delete any).

Replying takes the commenter role; editing and deleting a comment take being its author and
still a commenter, except that owners may delete any comment. The first comment of a thread
is its body: delete the thread instead (409). Each change is pushed to the document's clients
as ``comment.added``/``comment.edited``/``comment.deleted`` with the thread as it is after it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounts import new_id
from server.api.dependencies import Call, SignedInCall
from server.api.errors import conflict, forbidden, not_found
from server.api.routing import api_router, errors
from server.api.thread_models import (
    CommentCreate,
    CommentOut,
    CommentPatch,
    ThreadOut,
    comment_out,
    mentioned_ids,
)
from server.api.threads import (
    ThreadContext,
    load_thread,
    may_delete,
    publish,
    serve_threads,
)
from server.permissions import Role
from server.services.access import require_role
from server.services.mentions import notify_mentions
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

router = api_router("comments")

__all__ = ["MAX_COMMENTS_PER_THREAD"]

MAX_COMMENTS_PER_THREAD = 1000
"""Replies beyond this are refused (409): a thread is served whole, comments included."""


async def _load_comment(
    connection: AsyncConnection, call: Call
) -> tuple[CommentRecord, ThreadContext]:
    comment_id = call.path["comment_id"]
    comment = await get_comment(connection, comment_id)
    if comment is None:
        raise not_found(f"no comment {comment_id}")
    return comment, await load_thread(connection, comment.thread_id, call.user_id, lock=True)


def _by_author(found: ThreadContext, comment: CommentRecord, user_id: str, action: str) -> None:
    """Raises ApiError 403 unless the caller wrote the comment and may still comment."""
    if comment.author_id != user_id:
        raise forbidden(f"only its author may {action} a comment")
    require_role(found.role, Role.COMMENTER, f"{action} comments")


async def _served(
    call: Call, found: ThreadContext, comment_id: str
) -> tuple[ThreadOut, CommentOut]:
    thread = (await serve_threads(call, found.document, [found.thread]))[0]
    comment = next(item for item in thread.comments if item.id == comment_id)
    return thread, comment


@router.post(
    "/api/threads/{thread_id}/comments",
    summary="Reply to a thread",
    response_model=CommentOut,
    status_code=201,
    responses=errors(403, 404, 409),
)
async def add_comment(call: SignedInCall, thread_id: str, body: CommentCreate) -> CommentOut:
    """Commenters and above. Members it mentions are notified."""
    now = utcnow()
    async with call.services.database.transaction() as connection:
        found = await load_thread(connection, thread_id, call.user_id, lock=True)
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
            author_id=call.user_id,
            body=body.body,
            now=now,
        )
        sent = await notify_mentions(
            connection, found.document, comment, mentioned_ids(body.body), now
        )
    thread, out = await _served(call, found, comment.id)
    publish(call, "comment.added", thread, out.model_dump(mode="json"))
    sent.deliver(call.services)
    return out


@router.patch(
    "/api/comments/{comment_id}",
    summary="Edit your comment",
    response_model=CommentOut,
    responses=errors(403, 404),
)
async def edit_comment(call: SignedInCall, comment_id: str, body: CommentPatch) -> CommentOut:
    """Its author, while a commenter or above. Members it newly mentions are notified."""
    now = utcnow()
    async with call.services.database.transaction() as connection:
        comment, found = await _load_comment(connection, call)
        _by_author(found, comment, call.user_id, "edit")
        before = set(mentioned_ids(comment.body))
        updated = await update_comment(connection, comment.id, body.body, now)
        assert updated is not None
        added = [user_id for user_id in mentioned_ids(body.body) if user_id not in before]
        sent = await notify_mentions(connection, found.document, updated, added, now)
    thread, out = await _served(call, found, comment.id)
    publish(call, "comment.edited", thread, out.model_dump(mode="json"))
    sent.deliver(call.services)
    return out


@router.delete(
    "/api/comments/{comment_id}",
    summary="Delete a comment",
    response_model=None,
    status_code=204,
    responses=errors(403, 404, 409),
)
async def remove_comment(call: SignedInCall, comment_id: str) -> None:
    """Its author while a commenter or above, or an owner. Not the first comment of a
    thread, which is the thread's body: delete the thread (409)."""
    async with call.services.database.transaction() as connection:
        comment, found = await _load_comment(connection, call)
        if not may_delete(found.role, comment.author_id, call.user_id):
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
    thread = (await serve_threads(call, found.document, [found.thread]))[0]
    deleted = comment_out(comment, members).model_dump(mode="json")
    publish(call, "comment.deleted", thread, deleted)
