"""Workspaces: create, list, read, change, delete.

A workspace is private (members only) or public (every signed-in user may also read its
published documents). Whoever creates one is its first owner.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from server.accounts import new_id
from server.api.common import (
    load_workspace,
    require_readable_workspace,
    require_role,
    workspace_out,
)
from server.api.dependencies import SignedInCall
from server.api.models import (
    WorkspaceCreate,
    WorkspaceListQuery,
    WorkspaceOut,
    WorkspacePage,
    WorkspacePatch,
)
from server.api.paging import decode_cursor, split_page
from server.api.routing import api_router, errors
from server.permissions import Role
from server.services.removal import drop_documents
from storage.catalog import document_ids
from storage.clock import utcnow
from storage.workspaces import (
    delete_workspace,
    insert_workspace,
    list_workspaces,
    update_workspace,
)

router = api_router("workspaces")


@router.post(
    "/api/workspaces",
    summary="Create a workspace; you become its owner",
    response_model=WorkspaceOut,
    status_code=201,
)
async def create_workspace(call: SignedInCall, body: WorkspaceCreate) -> WorkspaceOut:
    async with call.services.database.transaction() as connection:
        workspace = await insert_workspace(
            connection,
            workspace_id=new_id(),
            name=body.name,
            description=body.description,
            visibility=body.visibility,
            owner_id=call.user_id,
            now=utcnow(),
        )
    return workspace_out(workspace, Role.OWNER.value)


@router.get(
    "/api/workspaces",
    summary="Your workspaces, or every public one",
    response_model=WorkspacePage,
    responses=errors(400),
)
async def list_my_workspaces(
    call: SignedInCall,
    query: Annotated[WorkspaceListQuery, Query()],
) -> WorkspacePage:
    """By name. ``scope=public`` lists every public workspace, with your role where you are a
    member."""
    after = decode_cursor(query.cursor, str, str)
    async with call.services.database.transaction() as connection:
        rows = await list_workspaces(
            connection,
            call.user_id,
            public=query.scope == "public",
            limit=query.limit + 1,
            after=None if after is None else (str(after[0]), str(after[1])),
        )
    page, cursor = split_page(rows, query.limit, lambda row: (row[0].name, row[0].id))
    return WorkspacePage(
        items=[workspace_out(workspace, role) for workspace, role in page], next_cursor=cursor
    )


@router.get(
    "/api/workspaces/{workspace_id}",
    summary="A workspace",
    response_model=WorkspaceOut,
    responses=errors(403, 404),
)
async def get_workspace(call: SignedInCall, workspace_id: str) -> WorkspaceOut:
    """Members; and every signed-in user for a public workspace."""
    async with call.services.database.transaction() as connection:
        workspace, role = await load_workspace(connection, workspace_id, call.user_id)
    require_readable_workspace(workspace, role)
    return workspace_out(workspace, role)


@router.patch(
    "/api/workspaces/{workspace_id}",
    summary="Rename, describe, or change visibility",
    response_model=WorkspaceOut,
    responses=errors(403, 404),
)
async def patch_workspace(
    call: SignedInCall, workspace_id: str, body: WorkspacePatch
) -> WorkspaceOut:
    """Owners only. Only the fields sent change."""
    values = body.changes()
    async with call.services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, call.user_id, lock=True)
        require_role(role, Role.OWNER, "change the workspace")
        workspace = await update_workspace(connection, workspace_id, values, utcnow())
    assert workspace is not None
    if "visibility" in values:
        # Readers of published documents may have lost (or gained) their access.
        await call.services.live.recheck()
    return workspace_out(workspace, role)


@router.delete(
    "/api/workspaces/{workspace_id}",
    summary="Delete a workspace with all its documents",
    response_model=None,
    status_code=204,
    responses=errors(403, 404),
)
async def remove_workspace(call: SignedInCall, workspace_id: str) -> None:
    """Owners only. Its documents' content is deleted too, for good; whoever has one open is
    disconnected (4404)."""
    async with call.services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, call.user_id, lock=True)
        require_role(role, Role.OWNER, "delete the workspace")
        ids = await document_ids(connection, workspace_id)
        await delete_workspace(connection, workspace_id)
    await drop_documents(call.services, ids, "the workspace was deleted")
