"""Queries of the documents a workspace lists and of its activity feed.

A document's content lives in the store (``documents`` and its log, keyed by the same id);
this is what the workspace knows of it: title, template, published, trashed. Every function
takes a connection inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from pydantic import field_validator
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Record, UtcDatetime
from storage.schema import activities, memberships, users, workspace_documents, workspaces

__all__ = [
    "AccessRow",
    "ActivityRecord",
    "DocumentRecord",
    "access_rows",
    "delete_document",
    "document_ids",
    "get_document",
    "insert_activity",
    "insert_document",
    "list_activity",
    "list_documents",
    "update_document",
]

DOCUMENT_FIELDS = frozenset({"title", "published", "trashed_at"})
"""The columns :func:`update_document` may change."""

_ID_CHUNK = 500


class DocumentRecord(Record):
    """What a workspace knows of a document (``workspace_documents``, ``document_id`` read as
    ``id``)."""

    id: str
    workspace_id: str
    title: str
    template: str | None
    published: bool
    trashed_at: UtcDatetime | None
    created_by: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @property
    def trashed(self) -> bool:
        return self.trashed_at is not None


class ActivityRecord(Record):
    """An entry of a workspace's feed, with the actor's name."""

    id: int
    workspace_id: str
    actor_id: str | None
    actor_name: str | None
    verb: str
    object_type: str
    object_id: str
    data: dict[str, object]
    created_at: UtcDatetime

    @field_validator("data", mode="before")
    @classmethod
    def _decode(cls, value: object) -> object:
        """Stored as JSON text; what is not a JSON object reads as an empty one."""
        if isinstance(value, str | bytes):
            try:
                value = json.loads(value)
            except ValueError:
                return {}
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class AccessRow:
    """What decides who may open a document: its state, its workspace's, a member's role."""

    document: DocumentRecord
    visibility: str
    roles: Mapping[str, str]
    """Role by user id, for the users asked about who are members."""


_DOCUMENT_COLUMNS = [
    workspace_documents.c.document_id.label("id"),
    *[workspace_documents.c[name] for name in DocumentRecord.model_fields if name != "id"],
]


# -- documents ----------------------------------------------------------------------------------


async def insert_document(
    connection: AsyncConnection,
    *,
    document_id: str,
    workspace_id: str,
    title: str,
    template: str | None,
    created_by: str,
    now: datetime,
) -> DocumentRecord:
    await connection.execute(
        workspace_documents.insert().values(
            document_id=document_id,
            workspace_id=workspace_id,
            title=title,
            template=template,
            published=False,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
    )
    return DocumentRecord(
        id=document_id,
        workspace_id=workspace_id,
        title=title,
        template=template,
        published=False,
        trashed_at=None,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )


async def get_document(connection: AsyncConnection, document_id: str) -> DocumentRecord | None:
    statement = sa.select(*_DOCUMENT_COLUMNS).where(
        workspace_documents.c.document_id == document_id
    )
    row = (await connection.execute(statement)).first()
    return None if row is None else DocumentRecord.model_validate(row)


async def list_documents(
    connection: AsyncConnection,
    workspace_id: str,
    *,
    trashed: bool,
    published_only: bool,
    limit: int,
    after: tuple[str, str] | None,
) -> list[DocumentRecord]:
    """A workspace's documents by (title, id): those in the trash, or those not in it."""
    trash = workspace_documents.c.trashed_at
    statement = (
        sa.select(*_DOCUMENT_COLUMNS)
        .where(
            workspace_documents.c.workspace_id == workspace_id,
            trash.is_not(None) if trashed else trash.is_(None),
        )
        .order_by(workspace_documents.c.title, workspace_documents.c.document_id)
        .limit(limit)
    )
    if published_only:
        statement = statement.where(workspace_documents.c.published.is_(True))
    if after is not None:
        key = sa.tuple_(workspace_documents.c.title, workspace_documents.c.document_id)
        statement = statement.where(key > sa.tuple_(*after))
    return [DocumentRecord.model_validate(row) for row in await connection.execute(statement)]


async def document_ids(connection: AsyncConnection, workspace_id: str) -> list[str]:
    """Every document of a workspace, trashed or not."""
    result = await connection.execute(
        sa.select(workspace_documents.c.document_id).where(
            workspace_documents.c.workspace_id == workspace_id
        )
    )
    return [str(document_id) for document_id in result.scalars()]


async def update_document(
    connection: AsyncConnection, document_id: str, values: Mapping[str, object], now: datetime
) -> DocumentRecord | None:
    """Change fields of :data:`DOCUMENT_FIELDS`; the document, or None if unknown.

    Raises:
        ValueError: ``values`` names another column.
    """
    unknown = set(values) - DOCUMENT_FIELDS
    if unknown:
        raise ValueError(f"not document fields: {', '.join(sorted(unknown))}")
    if values:
        await connection.execute(
            workspace_documents.update()
            .where(workspace_documents.c.document_id == document_id)
            .values(**values, updated_at=now)
        )
    return await get_document(connection, document_id)


async def delete_document(connection: AsyncConnection, document_id: str) -> bool:
    """Forget a document's entry (its content is the store's to delete)."""
    result = await connection.execute(
        workspace_documents.delete().where(workspace_documents.c.document_id == document_id)
    )
    return bool(result.rowcount)


async def access_rows(
    connection: AsyncConnection, document_ids: Collection[str], user_ids: Collection[str]
) -> dict[str, AccessRow]:
    """For each known document: its entry, its workspace's visibility, and the roles of
    those of ``user_ids`` who are members. Unknown documents are left out.
    """
    found: dict[str, AccessRow] = {}
    ids = list(document_ids)
    people = list(user_ids)
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        statement = (
            sa.select(*_DOCUMENT_COLUMNS, workspaces.c.visibility)
            .select_from(
                workspace_documents.join(
                    workspaces, workspaces.c.id == workspace_documents.c.workspace_id
                )
            )
            .where(workspace_documents.c.document_id.in_(chunk))
        )
        rows = [
            (DocumentRecord.model_validate(row), str(row._mapping["visibility"]))
            for row in await connection.execute(statement)
        ]
        roles: dict[str, dict[str, str]] = {}
        workspace_ids = {document.workspace_id for document, _ in rows}
        if workspace_ids and people:
            result = await connection.execute(
                sa.select(memberships.c.workspace_id, memberships.c.user_id, memberships.c.role)
                .where(memberships.c.workspace_id.in_(workspace_ids))
                .where(memberships.c.user_id.in_(people))
            )
            for workspace_id, user_id, role in result:
                roles.setdefault(workspace_id, {})[user_id] = role
        for document, visibility in rows:
            found[document.id] = AccessRow(
                document, visibility, roles.get(document.workspace_id, {})
            )
    return found


# -- activity -----------------------------------------------------------------------------------


async def insert_activity(
    connection: AsyncConnection,
    *,
    workspace_id: str,
    actor_id: str | None,
    actor_name: str | None,
    verb: str,
    object_type: str,
    object_id: str,
    data: Mapping[str, object],
    now: datetime,
) -> ActivityRecord:
    """Append to a workspace's feed; the entry, with the id the database gave it."""
    result = await connection.execute(
        activities.insert()
        .values(
            workspace_id=workspace_id,
            actor_id=actor_id,
            verb=verb,
            object_type=object_type,
            object_id=object_id,
            data=json.dumps(dict(data), separators=(",", ":")),
            created_at=now,
        )
        .returning(activities.c.id)
    )
    activity_id = int(result.scalar_one())
    return ActivityRecord(
        id=activity_id,
        workspace_id=workspace_id,
        actor_id=actor_id,
        actor_name=actor_name,
        verb=verb,
        object_type=object_type,
        object_id=object_id,
        data=dict(data),
        created_at=now,
    )


async def list_activity(
    connection: AsyncConnection, workspace_id: str, *, limit: int, before: int | None
) -> list[ActivityRecord]:
    """A workspace's feed, newest first, starting before the entry id ``before``."""
    statement = (
        sa.select(activities, users.c.name.label("actor_name"))
        .select_from(activities.outerjoin(users, users.c.id == activities.c.actor_id))
        .where(activities.c.workspace_id == workspace_id)
        .order_by(activities.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        statement = statement.where(activities.c.id < before)
    return [ActivityRecord.model_validate(row) for row in await connection.execute(statement)]
