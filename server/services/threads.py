"""The threads service: comment threads anchored to the text of a document.

Members of the document's workspace read threads (any role); commenters and above open
threads, resolve and reopen them; a thread is deleted by its author or an owner, with its
comments (the first comment is its body). Anchors are resolved against the committed content
of the document when threads are served (one load per call). Every change is stored, then
pushed live to the document's clients (``thread.*``); opening, resolving, reopening and
deleting a thread are also workspace activity. Mentions notify members
(:mod:`server.services.mentions`).

Loading a thread with the caller's role, serving threads, publishing and who may delete are
shared with :mod:`server.services.comments`.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from crdt import Document
from crdt.anchors import Anchor, AnchorError, quote, resolve_all
from server.accounts import new_id
from server.permissions import Role, at_least
from server.services.access import load_document, require_role
from server.services.activity import push, record
from server.services.content import committed_content
from server.services.context import ApiServices
from server.services.errors import bad_request, conflict, forbidden, not_found, unprocessable
from server.services.mentions import notify_mentions
from server.services.paging import decode_cursor, split_page
from server.services.records import ThreadOut, mentioned_ids, thread_out
from storage.catalog import DocumentRecord
from storage.clock import utcnow
from storage.comments import (
    ThreadRecord,
    comments_of,
    delete_thread,
    get_thread,
    insert_comment,
    insert_thread,
    list_threads,
    member_names,
    set_thread_status,
)
from storage.people import UserRecord

__all__ = [
    "MAX_QUOTE_LENGTH",
    "ThreadContext",
    "ThreadList",
    "create",
    "details",
    "list_of",
    "load_thread",
    "may_delete",
    "publish",
    "remove",
    "serve_threads",
    "set_status",
]

MAX_QUOTE_LENGTH = 10_000
"""The longest range a thread may anchor to, in characters."""

logger = logging.getLogger("gess.services.threads")


@dataclass(frozen=True, slots=True)
class ThreadContext:
    """A thread with its document and the caller's role there (None: not a member)."""

    thread: ThreadRecord
    document: DocumentRecord
    role: str | None


async def load_thread(
    connection: AsyncConnection, thread_id: str, user_id: str, *, lock: bool = False
) -> ThreadContext:
    """A thread, its document and the caller's role there; members only.

    Raises:
        ApiError: 404 if there is no such thread; 403 if the caller is not a member.
    """
    thread = await get_thread(connection, thread_id, lock=lock)
    if thread is None:
        raise not_found(f"no thread {thread_id}")
    document, _, role = await load_document(connection, thread.document_id, user_id)
    require_role(role, Role.VIEWER, "read comments")
    return ThreadContext(thread, document, role)


def _where_all(content: Document, threads: Sequence[ThreadRecord]) -> list[tuple[int, int] | None]:
    """Where each thread's anchor is now (None: detached), reading the content once."""
    anchors: list[Anchor | None] = []
    for thread in threads:
        try:
            anchors.append(Anchor(thread.anchor_start, thread.anchor_end))
        except AnchorError as exc:
            logger.warning("thread %s: its anchor no longer decodes: %s", thread.id, exc)
            anchors.append(None)
    valid = [anchor for anchor in anchors if anchor is not None]
    try:
        resolved = iter(resolve_all(content, valid))
    except AnchorError as exc:
        logger.warning("cannot read the structure of a document: %s", exc)
        return [None] * len(threads)
    places: list[tuple[int, int] | None] = []
    for anchor in anchors:
        found = None if anchor is None else next(resolved)
        if found is None or found.detached or found.index is None or found.length is None:
            places.append(None)
        else:
            places.append((found.index, found.length))
    return places


def _base64(thread: ThreadRecord) -> tuple[str, str]:
    return (
        base64.b64encode(thread.anchor_start).decode(),
        base64.b64encode(thread.anchor_end).decode(),
    )


async def serve_threads(
    services: ApiServices, document: DocumentRecord, threads: Sequence[ThreadRecord]
) -> list[ThreadOut]:
    """Threads as JSON: their comments and mentioned members read in one transaction, their
    anchors resolved against one load of the content."""
    async with services.database.transaction() as connection:
        by_thread = await comments_of(connection, [thread.id for thread in threads])
        mentioned = {
            user_id
            for records in by_thread.values()
            for record in records
            for user_id in mentioned_ids(record.body)
        }
        members = await member_names(connection, document.workspace_id, mentioned)
    content = await committed_content(services, document.id)
    places = _where_all(content, threads)
    return [
        thread_out(thread, _base64(thread), place, by_thread.get(thread.id, []), members)
        for thread, place in zip(threads, places, strict=True)
    ]


def publish(
    services: ApiServices,
    kind: str,
    thread: ThreadOut,
    comment: dict[str, object] | None = None,
) -> None:
    """Push ``thread.*``/``comment.*`` to the members connected to the thread's document."""
    event: dict[str, object] = {
        "type": kind,
        "document_id": thread.document_id,
        "thread": thread.model_dump(mode="json"),
    }
    if comment is not None:
        event["comment"] = comment
    services.live.send_event([thread.document_id], event)


def may_delete(role: str | None, author_id: str | None, user_id: str) -> bool:
    """Owners delete anything; authors who may still comment delete their own."""
    if at_least(role, Role.OWNER):
        return True
    return author_id == user_id and at_least(role, Role.COMMENTER)


@dataclass(frozen=True, slots=True)
class ThreadList:
    items: list[ThreadOut]
    next_cursor: str | None


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


async def list_of(
    services: ApiServices,
    user_id: str,
    document_id: str,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> ThreadList:
    """A document's threads, oldest first, only ``status`` ones if set; members only.

    Raises:
        ApiError: 400 for a cursor this list did not make; 404 no such document; 403 not a
            member.
    """
    after = decode_cursor(cursor, str, str)
    start = None if after is None else _thread_key(str(after[0]), str(after[1]))
    async with services.database.transaction() as connection:
        document, _, role = await load_document(connection, document_id, user_id)
        require_role(role, Role.VIEWER, "read comments")
        rows = await list_threads(
            connection, document.id, status=status, limit=limit + 1, after=start
        )
    page, next_cursor = split_page(
        rows, limit, lambda thread: (thread.created_at.isoformat(), thread.id)
    )
    return ThreadList(await serve_threads(services, document, page), next_cursor)


def _anchor(start: str, end: str, content: Document) -> tuple[Anchor, str]:
    """The anchor of a new thread and the text it quotes.

    Raises:
        ApiError: 422 if it is not two sticky indexes around live text, or too long a range.
    """
    try:
        anchor = Anchor.from_base64(start, end)
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


async def create(
    services: ApiServices,
    user: UserRecord,
    document_id: str,
    anchor: tuple[str, str],
    body: str,
) -> ThreadOut:
    """Open a thread on a range of the document (``anchor``: two sticky indexes in base64)
    with its first comment; the thread keeps the range's text as its quote.

    Raises:
        ApiError: 404 no such document; 403 not a commenter; 409 the document is in the
            trash; 422 an anchor not around live text of the document, or too long a range.
    """
    async with services.database.transaction() as connection:
        document, _, role = await load_document(connection, document_id, user.id)
        require_role(role, Role.COMMENTER, "comment")
    if document.trashed:
        raise conflict("the document is in the trash", code="trash_state")
    found, text = _anchor(*anchor, await committed_content(services, document.id))
    now = utcnow()
    thread_id = new_id()
    async with services.database.transaction() as connection:
        # Checked again: the role may have changed while the content was read.
        document, _, role = await load_document(connection, document_id, user.id)
        require_role(role, Role.COMMENTER, "comment")
        await insert_thread(
            connection,
            thread_id=thread_id,
            document_id=document.id,
            anchor=(found.start, found.end),
            quote=text,
            author_id=user.id,
            now=now,
        )
        comment = await insert_comment(
            connection,
            comment_id=new_id(),
            thread_id=thread_id,
            author_id=user.id,
            body=body,
            now=now,
        )
        thread = await get_thread(connection, thread_id)
        assert thread is not None
        entry = await record(
            connection,
            document.workspace_id,
            user,
            "thread.created",
            ("document", document.id),
            _activity_data(document, thread),
        )
        sent = await notify_mentions(connection, document, comment, mentioned_ids(body), now)
    out = (await serve_threads(services, document, [thread]))[0]
    publish(services, "thread.added", out)
    await push(services, [entry])
    sent.deliver(services)
    return out


async def details(services: ApiServices, user_id: str, thread_id: str) -> ThreadOut:
    """A thread and its comments; members only (404, 403)."""
    async with services.database.transaction() as connection:
        found = await load_thread(connection, thread_id, user_id)
    return (await serve_threads(services, found.document, [found.thread]))[0]


async def set_status(
    services: ApiServices, user: UserRecord, thread_id: str, status: str
) -> ThreadOut:
    """Resolve or reopen a thread; setting the status it has already changes nothing.

    Raises:
        ApiError: 404 no such thread; 403 not a commenter.
    """
    async with services.database.transaction() as connection:
        found = await load_thread(connection, thread_id, user.id, lock=True)
        require_role(found.role, Role.COMMENTER, "resolve or reopen threads")
        entry = None
        if found.thread.status != status:
            await set_thread_status(connection, found.thread.id, status, user.id, utcnow())
            verb = "thread.resolved" if status == "resolved" else "thread.reopened"
            entry = await record(
                connection,
                found.document.workspace_id,
                user,
                verb,
                ("document", found.document.id),
                _activity_data(found.document, found.thread),
            )
        thread = await get_thread(connection, found.thread.id)
        assert thread is not None
    out = (await serve_threads(services, found.document, [thread]))[0]
    if entry is not None:
        publish(services, entry.verb, out)
        await push(services, [entry])
    return out


async def _deletable(connection: AsyncConnection, thread_id: str, user_id: str) -> ThreadContext:
    found = await load_thread(connection, thread_id, user_id, lock=True)
    if not may_delete(found.role, found.thread.author_id, user_id):
        raise forbidden("only its author or an owner may delete a thread")
    return found


async def remove(services: ApiServices, user: UserRecord, thread_id: str) -> None:
    """Delete a thread with its comments: its author or an owner (404, 403)."""
    async with services.database.transaction() as connection:
        found = await _deletable(connection, thread_id, user.id)
    # Served before it goes, so that the event carries the thread as it was.
    out = (await serve_threads(services, found.document, [found.thread]))[0]
    async with services.database.transaction() as connection:
        found = await _deletable(connection, thread_id, user.id)
        await delete_thread(connection, found.thread.id)
        entry = await record(
            connection,
            found.document.workspace_id,
            user,
            "thread.deleted",
            ("document", found.document.id),
            _activity_data(found.document, found.thread),
        )
    publish(services, "thread.deleted", out)
    await push(services, [entry])
