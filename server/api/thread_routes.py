"""Comment threads over HTTP: list a document's threads, open one on a range of its text,
read one, resolve or reopen it, delete it.

The rules, the storage, the activity and the live events are :mod:`server.services.threads`';
these routes translate requests into its calls and its results into responses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from server.api.dependencies import SignedInCall
from server.api.routing import api_router, errors
from server.api.thread_models import (
    ThreadCreate,
    ThreadListQuery,
    ThreadPage,
    ThreadPatch,
)
from server.services import threads
from server.services.records import ThreadOut
from storage.people import UserRecord

router = api_router("comments")


def _user(call: SignedInCall) -> UserRecord:
    assert call.signed_in is not None
    return call.signed_in.user


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
    found = await threads.list_of(
        call.services,
        call.user_id,
        document_id,
        status=query.status,
        limit=query.limit,
        cursor=query.cursor,
    )
    return ThreadPage(items=found.items, next_cursor=found.next_cursor)


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
    anchor = (body.anchor.start, body.anchor.end)
    return await threads.create(call.services, _user(call), document_id, anchor, body.body)


@router.get(
    "/api/threads/{thread_id}",
    summary="A thread and its comments",
    response_model=ThreadOut,
    responses=errors(403, 404),
)
async def get_thread_details(call: SignedInCall, thread_id: str) -> ThreadOut:
    """Members only (any role)."""
    return await threads.details(call.services, call.user_id, thread_id)


@router.patch(
    "/api/threads/{thread_id}",
    summary="Resolve or reopen a thread",
    response_model=ThreadOut,
    responses=errors(403, 404),
)
async def patch_thread(call: SignedInCall, thread_id: str, body: ThreadPatch) -> ThreadOut:
    """Commenters and above. Setting the status it has already changes nothing."""
    return await threads.set_status(call.services, _user(call), thread_id, body.status)


@router.delete(
    "/api/threads/{thread_id}",
    summary="Delete a thread with its comments",
    response_model=None,
    status_code=204,
    responses=errors(403, 404),
)
async def delete_thread_for_good(call: SignedInCall, thread_id: str) -> None:
    """Its author or an owner."""
    await threads.remove(call.services, _user(call), thread_id)
