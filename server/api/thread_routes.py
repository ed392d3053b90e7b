"""Comment threads anchored to the text of a document, and their comments.

Members of the document's workspace read threads (any role); commenters and above open
threads, reply, resolve and reopen. A comment's author edits it and may delete it, and
owners may delete any; a thread is deleted by its author or an owner. The first comment is
the thread's body: it goes with the thread, not alone.

Anchors are resolved against the committed content of the document when threads are served
(one load per request). Every change is pushed live to the document's clients that asked for
events (``thread.*``, ``comment.*``); opening, resolving, reopening and deleting a thread are
also workspace activity. Mentions of members notify them (see :mod:`.mentions`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from sqlalchemy.ext.asyncio import AsyncConnection

from crdt import Document
from crdt.anchors import Anchor, AnchorError, quote
from server.accounts import new_id
from server.api.dependencies import Call, SignedInCall
from server.api.errors import bad_request, conflict, forbidden, unprocessable
from server.api.routing import api_router, errors
from server.api.thread_models import (
    ThreadCreate,
    ThreadListQuery,
    ThreadOut,
    ThreadPage,
    ThreadPatch,
    mentioned_ids,
)
from server.permissions import Role
from server.services.access import load_document, require_role
from server.services.activity import push, record
from server.services.content import committed_content
from server.services.mentions import notify_mentions
from server.services.paging import decode_cursor, split_page
from server.services.threads import ThreadContext, load_thread, may_delete, publish, serve_threads
from storage.catalog import DocumentRecord
from storage.clock import utcnow
from storage.comments import (
    ThreadRecord,
    delete_thread,
    get_thread,
    insert_comment,
    insert_thread,
    list_threads,
    set_thread_status,
)

router = api_router("comments")

__all__ = ["MAX_QUOTE_LENGTH"]

MAX_QUOTE_LENGTH = 10_000
"""The longest range a thread may anchor to, in characters."""


def _activity_data(document: DocumentRecord, thread: ThreadRecord) -> dict[str, str | None]:
    return {"title": document.title, "thread_id": thread.id, "quote": thread.quote[:200]}


def _thread_key(created_at: str, thread_id: str) -> tuple[datetime, str]:
    try:
        when = datetime.fromisoformat(created_at)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise bad_request("invalid cursor: pass back a next_cursor unchanged", code="bad_cursor")
    return when, thread_id


@router.get(
    "/api/documents/{document_id}/threads",
    summary="The comment threads of a document, oldest first",
    response_model=ThreadPage,
    responses=errors(400, 403, 404),
)
async def list_document_threads(
    call: SignedInCall,
    document_id: str,
    query: Annotated[ThreadListQuery, Query()],
) -> ThreadPage:
    """Members only (any role). ``?status=open|resolved`` filters."""
    after = decode_cursor(query.cursor, str, str)
    start = None if after is None else _thread_key(str(after[0]), str(after[1]))
    async with call.services.database.transaction() as connection:
        document, _, role = await load_document(connection, document_id, call.user_id)
        require_role(role, Role.VIEWER, "read comments")
        rows = await list_threads(
            connection, document.id, status=query.status, limit=query.limit + 1, after=start
        )
    page, cursor = split_page(
        rows, query.limit, lambda thread: (thread.created_at.isoformat(), thread.id)
    )
    return ThreadPage(items=await serve_threads(call.services, document, page), next_cursor=cursor)


def _anchor(body: ThreadCreate, content: Document) -> tuple[Anchor, str]:
    """The anchor of a new thread and the text it quotes.

    Raises:
        ApiError: 422 if it is not two sticky indexes around live text, or too long a range.
    """
    try:
        anchor = Anchor.from_base64(body.anchor.start, body.anchor.end)
        text = quote(content, anchor)
    except AnchorError as exc:
        raise unprocessable(
            f"invalid anchor: {exc}; send two Yjs relative positions "
            "(Y.encodeRelativePosition, base64) around text of the document"
        ) from None
    if len(text) > MAX_QUOTE_LENGTH:
        raise unprocessable(
            f"invalid anchor: the range holds {len(text)} characters; "
            f"a thread anchors to at most {MAX_QUOTE_LENGTH}"
        )
    return anchor, text


@router.post(
    "/api/documents/{document_id}/threads",
    summary="Open a thread on a range of the document",
    response_model=ThreadOut,
    status_code=201,
    responses=errors(403, 404, 409),
)
async def create_thread(call: SignedInCall, document_id: str, body: ThreadCreate) -> ThreadOut:
    """Commenters and above. The anchor must cover live text of the document (422 if not);
    the thread keeps that text as its quote. Not in the trash (409)."""
    assert call.signed_in is not None
    document_id = document_id
    async with call.services.database.transaction() as connection:
        document, _, role = await load_document(connection, document_id, call.user_id)
        require_role(role, Role.COMMENTER, "comment")
    if document.trashed:
        raise conflict("the document is in the trash", code="trash_state")
    anchor, text = _anchor(body, await committed_content(call.services, document.id))
    now = utcnow()
    thread_id = new_id()
    async with call.services.database.transaction() as connection:
        # Checked again: the role may have changed while the content was read.
        document, _, role = await load_document(connection, document_id, call.user_id)
        require_role(role, Role.COMMENTER, "comment")
        await insert_thread(
            connection,
            thread_id=thread_id,
            document_id=document.id,
            anchor=(anchor.start, anchor.end),
            quote=text,
            author_id=call.user_id,
            now=now,
        )
        comment = await insert_comment(
            connection,
            comment_id=new_id(),
            thread_id=thread_id,
            author_id=call.user_id,
            body=body.body,
            now=now,
        )
        thread = await get_thread(connection, thread_id)
        assert thread is not None
        entry = await record(
            connection,
            document.workspace_id,
            call.signed_in.user,
            "thread.created",
            ("document", document.id),
            _activity_data(document, thread),
        )
        sent = await notify_mentions(connection, document, comment, mentioned_ids(body.body), now)
    out = (await serve_threads(call.services, document, [thread]))[0]
    publish(call.services, "thread.added", out)
    await push(call.services, [entry])
    sent.deliver(call.services)
    return out


@router.get(
    "/api/threads/{thread_id}",
    summary="A thread and its comments",
    response_model=ThreadOut,
    responses=errors(403, 404),
)
async def get_thread_details(call: SignedInCall, thread_id: str) -> ThreadOut:
    """Members only (any role)."""
    async with call.services.database.transaction() as connection:
        found = await load_thread(connection, thread_id, call.user_id)
    return (await serve_threads(call.services, found.document, [found.thread]))[0]


@router.patch(
    "/api/threads/{thread_id}",
    summary="Resolve or reopen a thread",
    response_model=ThreadOut,
    responses=errors(403, 404),
)
async def patch_thread(call: SignedInCall, thread_id: str, body: ThreadPatch) -> ThreadOut:
    """Commenters and above. Setting the status it has already changes nothing."""
    assert call.signed_in is not None
    async with call.services.database.transaction() as connection:
        found = await load_thread(connection, thread_id, call.user_id, lock=True)
        require_role(found.role, Role.COMMENTER, "resolve or reopen threads")
        changed = found.thread.status != body.status
        entry = None
        if changed:
            await set_thread_status(
                connection, found.thread.id, body.status, call.user_id, utcnow()
            )
            verb = "thread.resolved" if body.status == "resolved" else "thread.reopened"
            entry = await record(
                connection,
                found.document.workspace_id,
                call.signed_in.user,
                verb,
                ("document", found.document.id),
                _activity_data(found.document, found.thread),
            )
        thread = await get_thread(connection, found.thread.id)
        assert thread is not None
    out = (await serve_threads(call.services, found.document, [thread]))[0]
    if entry is not None:
        publish(call.services, entry.verb, out)
        await push(call.services, [entry])
    return out


async def _deletable(connection: AsyncConnection, call: Call) -> ThreadContext:
    found = await load_thread(connection, call.path["thread_id"], call.user_id, lock=True)
    if not may_delete(found.role, found.thread.author_id, call.user_id):
        raise forbidden("only its author or an owner may delete a thread")
    return found


@router.delete(
    "/api/threads/{thread_id}",
    summary="Delete a thread with its comments",
    response_model=None,
    status_code=204,
    responses=errors(403, 404),
)
async def delete_thread_for_good(call: SignedInCall, thread_id: str) -> None:
    """Its author or an owner."""
    assert call.signed_in is not None
    async with call.services.database.transaction() as connection:
        found = await _deletable(connection, call)
    # Served before it goes, so that the event carries the thread as it was.
    out = (await serve_threads(call.services, found.document, [found.thread]))[0]
    async with call.services.database.transaction() as connection:
        found = await _deletable(connection, call)
        await delete_thread(connection, found.thread.id)
        entry = await record(
            connection,
            found.document.workspace_id,
            call.signed_in.user,
            "thread.deleted",
            ("document", found.document.id),
            _activity_data(found.document, found.thread),
        )
    publish(call.services, "thread.deleted", out)
    await push(call.services, [entry])
