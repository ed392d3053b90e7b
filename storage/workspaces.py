"""Queries of workspaces, their members and their invitations.

Every function takes a connection inside the caller's transaction (see
:meth:`storage.database.Database.transaction`). Lists are keyset-paginated: each takes the
sort key of the last row of the previous page (``after``) and a ``limit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Record, UtcDatetime
from storage.schema import invitations, memberships, users, workspaces

__all__ = [
    "InvitationRecord",
    "MemberRecord",
    "WorkspaceRecord",
    "count_owners",
    "delete_invitation",
    "delete_member",
    "delete_workspace",
    "get_member",
    "get_workspace",
    "insert_invitation",
    "insert_member",
    "insert_workspace",
    "invitation_by_token",
    "list_invitations",
    "list_members",
    "list_workspaces",
    "mark_invitation_accepted",
    "role_of",
    "update_member_role",
    "update_workspace",
]

WORKSPACE_FIELDS = frozenset({"name", "description", "visibility"})
"""The columns :func:`update_workspace` may change."""


class WorkspaceRecord(Record):
    """A workspace (its columns of ``workspaces``)."""

    id: str
    name: str
    description: str
    visibility: str
    created_by: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class MemberRecord(Record):
    """A membership, with the member's e-mail and name."""

    workspace_id: str
    user_id: str
    role: str
    email: str
    name: str
    created_at: UtcDatetime


class InvitationRecord(Record):
    """An invitation, without its token hash (its columns of ``invitations``)."""

    id: str
    workspace_id: str
    email: str | None
    role: str
    invited_by: str | None
    created_at: UtcDatetime
    expires_at: UtcDatetime
    accepted_by: str | None
    accepted_at: UtcDatetime | None


_WORKSPACE_COLUMNS = [workspaces.c[name] for name in WorkspaceRecord.model_fields]
_INVITATION_COLUMNS = [invitations.c[name] for name in InvitationRecord.model_fields]
_MEMBER_COLUMNS = [
    memberships.c.workspace_id,
    memberships.c.user_id,
    memberships.c.role,
    users.c.email,
    users.c.name,
    memberships.c.created_at,
]


# -- workspaces ---------------------------------------------------------------------------------


async def insert_workspace(
    connection: AsyncConnection,
    *,
    workspace_id: str,
    name: str,
    description: str,
    visibility: str,
    owner_id: str,
    now: datetime,
) -> WorkspaceRecord:
    """Create a workspace with ``owner_id`` as its first owner."""
    await connection.execute(
        workspaces.insert().values(
            id=workspace_id,
            name=name,
            description=description,
            visibility=visibility,
            created_by=owner_id,
            created_at=now,
            updated_at=now,
        )
    )
    await insert_member(connection, workspace_id, owner_id, "owner", now)
    return WorkspaceRecord(
        id=workspace_id,
        name=name,
        description=description,
        visibility=visibility,
        created_by=owner_id,
        created_at=now,
        updated_at=now,
    )


async def get_workspace(
    connection: AsyncConnection, workspace_id: str, *, lock: bool = False
) -> WorkspaceRecord | None:
    """A workspace, or None.

    Args:
        lock: hold the row until the transaction ends (PostgreSQL ``FOR UPDATE``; SQLite's
            transactions hold the write lock already), so that checks made under it, such as
            "is there another owner", stay true until the commit.
    """
    statement = sa.select(*_WORKSPACE_COLUMNS).where(workspaces.c.id == workspace_id)
    if lock:
        statement = statement.with_for_update()
    row = (await connection.execute(statement)).first()
    return None if row is None else WorkspaceRecord.model_validate(row)


async def update_workspace(
    connection: AsyncConnection, workspace_id: str, values: Mapping[str, object], now: datetime
) -> WorkspaceRecord | None:
    """Change fields of :data:`WORKSPACE_FIELDS`; the workspace, or None if unknown.

    Raises:
        ValueError: ``values`` names another column.
    """
    unknown = set(values) - WORKSPACE_FIELDS
    if unknown:
        raise ValueError(f"not workspace fields: {', '.join(sorted(unknown))}")
    if values:
        await connection.execute(
            workspaces.update()
            .where(workspaces.c.id == workspace_id)
            .values(**values, updated_at=now)
        )
    return await get_workspace(connection, workspace_id)


async def delete_workspace(connection: AsyncConnection, workspace_id: str) -> bool:
    """Delete a workspace with its members, invitations, document entries and activity."""
    result = await connection.execute(workspaces.delete().where(workspaces.c.id == workspace_id))
    return bool(result.rowcount)


async def list_workspaces(
    connection: AsyncConnection,
    user_id: str,
    *,
    public: bool,
    limit: int,
    after: tuple[str, str] | None,
) -> list[tuple[WorkspaceRecord, str | None]]:
    """Workspaces with the user's role in each, by (name, id).

    Args:
        public: False: those the user is a member of. True: every public workspace (the role
            is None where the user is not a member).
        after: the (name, id) of the last workspace of the previous page.
    """
    role = memberships.c.role
    joined = workspaces.join(
        memberships,
        sa.and_(memberships.c.workspace_id == workspaces.c.id, memberships.c.user_id == user_id),
        isouter=public,
    )
    statement = (
        sa.select(*_WORKSPACE_COLUMNS, role)
        .select_from(joined)
        .order_by(workspaces.c.name, workspaces.c.id)
        .limit(limit)
    )
    if public:
        statement = statement.where(workspaces.c.visibility == "public")
    if after is not None:
        statement = statement.where(
            sa.tuple_(workspaces.c.name, workspaces.c.id) > sa.tuple_(*after)
        )
    return [
        (WorkspaceRecord.model_validate(row), row._mapping["role"])
        for row in await connection.execute(statement)
    ]


# -- members --------------------------------------------------------------------------------


async def role_of(connection: AsyncConnection, workspace_id: str, user_id: str) -> str | None:
    """The user's role in the workspace, or None if they are not a member."""
    role = await connection.scalar(
        sa.select(memberships.c.role).where(
            memberships.c.workspace_id == workspace_id, memberships.c.user_id == user_id
        )
    )
    return None if role is None else str(role)


async def get_member(
    connection: AsyncConnection, workspace_id: str, user_id: str
) -> MemberRecord | None:
    statement = (
        sa.select(*_MEMBER_COLUMNS)
        .select_from(memberships.join(users, users.c.id == memberships.c.user_id))
        .where(memberships.c.workspace_id == workspace_id, memberships.c.user_id == user_id)
    )
    row = (await connection.execute(statement)).first()
    return None if row is None else MemberRecord.model_validate(row)


async def list_members(
    connection: AsyncConnection,
    workspace_id: str,
    *,
    limit: int,
    after: tuple[str, str] | None,
) -> list[MemberRecord]:
    """Members by (name, user id), starting after ``after``."""
    statement = (
        sa.select(*_MEMBER_COLUMNS)
        .select_from(memberships.join(users, users.c.id == memberships.c.user_id))
        .where(memberships.c.workspace_id == workspace_id)
        .order_by(users.c.name, users.c.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(sa.tuple_(users.c.name, users.c.id) > sa.tuple_(*after))
    return [MemberRecord.model_validate(row) for row in await connection.execute(statement)]


async def insert_member(
    connection: AsyncConnection, workspace_id: str, user_id: str, role: str, now: datetime
) -> None:
    """Add a member.

    Raises:
        Conflict: (from the transaction) already a member, or the workspace or user is gone.
    """
    await connection.execute(
        memberships.insert().values(
            workspace_id=workspace_id, user_id=user_id, role=role, created_at=now
        )
    )


async def update_member_role(
    connection: AsyncConnection, workspace_id: str, user_id: str, role: str
) -> bool:
    """Change a member's role; False if they are not a member."""
    result = await connection.execute(
        memberships.update()
        .where(memberships.c.workspace_id == workspace_id, memberships.c.user_id == user_id)
        .values(role=role)
    )
    return bool(result.rowcount)


async def delete_member(connection: AsyncConnection, workspace_id: str, user_id: str) -> bool:
    result = await connection.execute(
        memberships.delete().where(
            memberships.c.workspace_id == workspace_id, memberships.c.user_id == user_id
        )
    )
    return bool(result.rowcount)


async def count_owners(connection: AsyncConnection, workspace_id: str) -> int:
    """How many owners the workspace has; lock it first to rely on the answer."""
    count = await connection.scalar(
        sa.select(sa.func.count())
        .select_from(memberships)
        .where(memberships.c.workspace_id == workspace_id, memberships.c.role == "owner")
    )
    return int(count or 0)


# -- invitations ------------------------------------------------------------------------------


async def insert_invitation(
    connection: AsyncConnection,
    *,
    invitation_id: str,
    workspace_id: str,
    token_hash: str,
    email: str | None,
    role: str,
    invited_by: str,
    expires_at: datetime,
    now: datetime,
) -> InvitationRecord:
    await connection.execute(
        invitations.insert().values(
            id=invitation_id,
            workspace_id=workspace_id,
            token_hash=token_hash,
            email=email,
            role=role,
            invited_by=invited_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return InvitationRecord(
        id=invitation_id,
        workspace_id=workspace_id,
        email=email,
        role=role,
        invited_by=invited_by,
        created_at=now,
        expires_at=expires_at,
        accepted_by=None,
        accepted_at=None,
    )


async def invitation_by_token(
    connection: AsyncConnection, token_hash: str
) -> InvitationRecord | None:
    """The invitation with this token hash, accepted or not, expired or not."""
    statement = sa.select(*_INVITATION_COLUMNS).where(invitations.c.token_hash == token_hash)
    row = (await connection.execute(statement)).first()
    return None if row is None else InvitationRecord.model_validate(row)


async def list_invitations(
    connection: AsyncConnection, workspace_id: str, *, limit: int, after: str | None
) -> list[InvitationRecord]:
    """Invitations not accepted yet (expired ones included), by id."""
    statement = (
        sa.select(*_INVITATION_COLUMNS)
        .where(invitations.c.workspace_id == workspace_id, invitations.c.accepted_at.is_(None))
        .order_by(invitations.c.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(invitations.c.id > after)
    return [InvitationRecord.model_validate(row) for row in await connection.execute(statement)]


async def mark_invitation_accepted(
    connection: AsyncConnection, invitation_id: str, user_id: str, now: datetime
) -> bool:
    """Record the acceptance; False if it was accepted already (by a concurrent call too)."""
    result = await connection.execute(
        invitations.update()
        .where(invitations.c.id == invitation_id, invitations.c.accepted_at.is_(None))
        .values(accepted_by=user_id, accepted_at=now)
    )
    return bool(result.rowcount)


async def delete_invitation(
    connection: AsyncConnection, workspace_id: str, invitation_id: str
) -> bool:
    """Revoke an invitation not accepted yet; False if there is none."""
    result = await connection.execute(
        invitations.delete().where(
            invitations.c.id == invitation_id,
            invitations.c.workspace_id == workspace_id,
            invitations.c.accepted_at.is_(None),
        )
    )
    return bool(result.rowcount)
