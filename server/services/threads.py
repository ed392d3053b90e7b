"""The threads service's shared part: loading a thread with the caller's role, serving
threads with their anchors resolved, pushing changes live, and who may delete.

Used by the thread routes and by :mod:`server.services.comments`.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from crdt import Document
from crdt.anchors import Anchor, AnchorError, resolve_all
from server.api.thread_models import ThreadOut, mentioned_ids, thread_out
from server.permissions import Role, at_least
from server.services.access import load_document, require_role
from server.services.content import committed_content
from server.services.context import ApiServices
from server.services.errors import not_found
from storage.catalog import DocumentRecord
from storage.comments import ThreadRecord, comments_of, get_thread, member_names

__all__ = ["ThreadContext", "load_thread", "may_delete", "publish", "serve_threads"]

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
