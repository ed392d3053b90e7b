"""The workspaces service: create, list, read, change and delete workspaces.

A workspace is private (members only) or public (every signed-in user may also read its
published documents). Whoever creates one is its first owner; only owners change or delete
it. Deleting one deletes its documents' content for good and disconnects whoever has one
open (4404).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from server.accounts import new_id
from server.permissions import Role
from server.services.access import load_workspace, require_readable_workspace, require_role
from server.services.context import ApiServices
from server.services.paging import decode_cursor, split_page
from server.services.removal import drop_documents
from storage.catalog import document_ids
from storage.clock import utcnow
from storage.workspaces import (
    WorkspaceRecord,
    delete_workspace,
    insert_workspace,
    list_workspaces,
    update_workspace,
)

__all__ = ["RoleIn", "WorkspacePage", "change", "create", "delete", "list_for", "read"]


@dataclass(frozen=True, slots=True)
class RoleIn:
    """A workspace and the caller's role in it (None: not a member)."""

    workspace: WorkspaceRecord
    role: str | None


@dataclass(frozen=True, slots=True)
class WorkspacePage:
    items: list[RoleIn]
    next_cursor: str | None


async def create(
    services: ApiServices, user_id: str, *, name: str, description: str, visibility: str
) -> RoleIn:
    """A new workspace, with ``user_id`` as its owner."""
    async with services.database.transaction() as connection:
        workspace = await insert_workspace(
            connection,
            workspace_id=new_id(),
            name=name,
            description=description,
            visibility=visibility,
            owner_id=user_id,
            now=utcnow(),
        )
    return RoleIn(workspace, Role.OWNER.value)


async def list_for(
    services: ApiServices, user_id: str, *, public: bool, limit: int, cursor: str | None
) -> WorkspacePage:
    """By name: the user's workspaces, or (``public``) every public one with the user's role
    where they are a member.

    Raises:
        ApiError: 400 for a cursor this list did not make.
    """
    after = decode_cursor(cursor, str, str)
    async with services.database.transaction() as connection:
        rows = await list_workspaces(
            connection,
            user_id,
            public=public,
            limit=limit + 1,
            after=None if after is None else (str(after[0]), str(after[1])),
        )
    page, next_cursor = split_page(rows, limit, lambda row: (row[0].name, row[0].id))
    return WorkspacePage([RoleIn(workspace, role) for workspace, role in page], next_cursor)


async def read(services: ApiServices, workspace_id: str, user_id: str) -> RoleIn:
    """A workspace its members may read, and every signed-in user if it is public.

    Raises:
        ApiError: 404 no such workspace; 403 not readable.
    """
    async with services.database.transaction() as connection:
        workspace, role = await load_workspace(connection, workspace_id, user_id)
    require_readable_workspace(workspace, role)
    return RoleIn(workspace, role)


async def change(
    services: ApiServices, workspace_id: str, user_id: str, values: Mapping[str, object]
) -> RoleIn:
    """Change the fields in ``values`` (owners only).

    Raises:
        ApiError: 404 no such workspace; 403 not an owner.
    """
    async with services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, user_id, lock=True)
        require_role(role, Role.OWNER, "change the workspace")
        workspace = await update_workspace(connection, workspace_id, values, utcnow())
    assert workspace is not None
    if "visibility" in values:
        # Readers of published documents may have lost (or gained) their access.
        await services.live.recheck()
    return RoleIn(workspace, role)


async def delete(services: ApiServices, workspace_id: str, user_id: str) -> None:
    """Delete a workspace and its documents for good (owners only).

    Raises:
        ApiError: 404 no such workspace; 403 not an owner.
    """
    async with services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, user_id, lock=True)
        require_role(role, Role.OWNER, "delete the workspace")
        ids = await document_ids(connection, workspace_id)
        await delete_workspace(connection, workspace_id)
    await drop_documents(services, ids, "the workspace was deleted")
