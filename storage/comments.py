"""Queries of comment threads anchored to documents, and of their comments.

The tables are in :mod:`storage.schema.comments`. Anchors are stored as the bytes of two Yjs
relative positions; resolving them against the content is the caller's business
(:mod:`crdt.anchors`).

Every query takes a connection inside the caller's transaction (see
:meth:`storage.database.Database.transaction`). Lists are keyset-paginated like the others.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Record, UtcDatetime
from storage.schema import comments, memberships, threads, users

__all__ = [
    "CommentRecord",
    "ThreadRecord",
    "comments_of",
    "count_comments",
    "delete_comment",
    "delete_thread",
    "get_comment",
    "get_thread",
    "insert_comment",
    "insert_thread",
    "list_threads",
    "member_names",
    "set_thread_status",
    "update_comment",
]

_ID_CHUNK = 500


class ThreadRecord(Record):
    """A thread (its columns of ``threads``), with the names of its author and resolver."""

    id: str
    document_id: str
    anchor_start: bytes
    anchor_end: bytes
    quote: str
    status: str
    author_id: str | None
    author_name: str | None
    created_at: UtcDatetime
    resolved_at: UtcDatetime | None
    resolved_by: str | None
    resolved_by_name: str | None


class CommentRecord(Record):
    """A comment (its columns of ``comments``), with its author's name."""

    id: str
    thread_id: str
    author_id: str | None
    author_name: str | None
    body: str
    created_at: UtcDatetime
    edited_at: UtcDatetime | None


# -- threads ------------------------------------------------------------------------------------

_author = users.alias("thread_author")
_resolver = users.alias("thread_resolver")
_THREAD_QUERY = sa.select(
    threads,
    _author.c.name.label("author_name"),
    _resolver.c.name.label("resolved_by_name"),
).select_from(
    threads.outerjoin(_author, _author.c.id == threads.c.author_id).outerjoin(
        _resolver, _resolver.c.id == threads.c.resolved_by
    )
)


async def insert_thread(
    connection: AsyncConnection,
    *,
    thread_id: str,
    document_id: str,
    anchor: tuple[bytes, bytes],
    quote: str,
    author_id: str,
    now: datetime,
) -> None:
    """Add an open thread (its first comment is added with :func:`insert_comment`)."""
    start, end = anchor
    await connection.execute(
        threads.insert().values(
            id=thread_id,
            document_id=document_id,
            anchor_start=start,
            anchor_end=end,
            quote=quote,
            status="open",
            author_id=author_id,
            created_at=now,
        )
    )


async def get_thread(
    connection: AsyncConnection, thread_id: str, *, lock: bool = False
) -> ThreadRecord | None:
    """A thread; ``lock`` holds its row until the transaction ends (PostgreSQL)."""
    statement = _THREAD_QUERY.where(threads.c.id == thread_id)
    if lock and connection.dialect.name == "postgresql":
        statement = statement.with_for_update(of=threads)
    row = (await connection.execute(statement)).first()
    return None if row is None else ThreadRecord.model_validate(row)


async def list_threads(
    connection: AsyncConnection,
    document_id: str,
    *,
    status: str | None,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[ThreadRecord]:
    """A document's threads, oldest first, by (created_at, id); only ``status`` ones if set."""
    statement = (
        _THREAD_QUERY.where(threads.c.document_id == document_id)
        .order_by(threads.c.created_at, threads.c.id)
        .limit(limit)
    )
    if status is not None:
        statement = statement.where(threads.c.status == status)
    if after is not None:
        key = sa.tuple_(threads.c.created_at, threads.c.id)
        statement = statement.where(key > sa.tuple_(*after))
    return [ThreadRecord.model_validate(row) for row in await connection.execute(statement)]


async def set_thread_status(
    connection: AsyncConnection, thread_id: str, status: str, user_id: str, now: datetime
) -> None:
    """Resolve (by ``user_id``, at ``now``) or reopen a thread."""
    resolved = status == "resolved"
    await connection.execute(
        threads.update()
        .where(threads.c.id == thread_id)
        .values(
            status=status,
            resolved_at=now if resolved else None,
            resolved_by=user_id if resolved else None,
        )
    )


async def delete_thread(connection: AsyncConnection, thread_id: str) -> bool:
    """Delete a thread with its comments and their notifications."""
    result = await connection.execute(threads.delete().where(threads.c.id == thread_id))
    return bool(result.rowcount)


# -- comments -----------------------------------------------------------------------------------

_COMMENT_QUERY = sa.select(comments, users.c.name.label("author_name")).select_from(
    comments.outerjoin(users, users.c.id == comments.c.author_id)
)


async def insert_comment(
    connection: AsyncConnection,
    *,
    comment_id: str,
    thread_id: str,
    author_id: str,
    body: str,
    now: datetime,
) -> CommentRecord:
    """Add a comment to a thread; the comment as it will be read back."""
    await connection.execute(
        comments.insert().values(
            id=comment_id, thread_id=thread_id, author_id=author_id, body=body, created_at=now
        )
    )
    found = await get_comment(connection, comment_id)
    assert found is not None
    return found


async def get_comment(connection: AsyncConnection, comment_id: str) -> CommentRecord | None:
    row = (await connection.execute(_COMMENT_QUERY.where(comments.c.id == comment_id))).first()
    return None if row is None else CommentRecord.model_validate(row)


async def comments_of(
    connection: AsyncConnection, thread_ids: Collection[str]
) -> dict[str, list[CommentRecord]]:
    """The comments of each thread, oldest first (threads without any are left out)."""
    found: dict[str, list[CommentRecord]] = {}
    ids = list(thread_ids)
    for start in range(0, len(ids), _ID_CHUNK):
        statement = _COMMENT_QUERY.where(
            comments.c.thread_id.in_(ids[start : start + _ID_CHUNK])
        ).order_by(comments.c.thread_id, comments.c.created_at, comments.c.id)
        for row in await connection.execute(statement):
            record = CommentRecord.model_validate(row)
            found.setdefault(record.thread_id, []).append(record)
    return found


async def count_comments(connection: AsyncConnection, thread_id: str) -> int:
    result = await connection.execute(
        sa.select(sa.func.count()).select_from(comments).where(comments.c.thread_id == thread_id)
    )
    return int(result.scalar_one())


async def update_comment(
    connection: AsyncConnection, comment_id: str, body: str, now: datetime
) -> CommentRecord | None:
    """Replace a comment's body; the comment, or None if it is gone."""
    await connection.execute(
        comments.update().where(comments.c.id == comment_id).values(body=body, edited_at=now)
    )
    return await get_comment(connection, comment_id)


async def delete_comment(connection: AsyncConnection, comment_id: str) -> bool:
    """Delete a comment and the notifications it caused."""
    result = await connection.execute(comments.delete().where(comments.c.id == comment_id))
    return bool(result.rowcount)


async def member_names(
    connection: AsyncConnection, workspace_id: str, user_ids: Collection[str]
) -> dict[str, str]:
    """The names of those of ``user_ids`` who are members of the workspace, by id."""
    ids = list(user_ids)
    names: dict[str, str] = {}
    for start in range(0, len(ids), _ID_CHUNK):
        result = await connection.execute(
            sa.select(users.c.id, users.c.name)
            .select_from(memberships.join(users, users.c.id == memberships.c.user_id))
            .where(memberships.c.workspace_id == workspace_id)
            .where(memberships.c.user_id.in_(ids[start : start + _ID_CHUNK]))
        )
        names.update({str(user_id): str(name) for user_id, name in result})
    return names
