"""Workspaces over HTTP: create, list, read, change, delete (the rules:
:mod:`server.services.workspaces`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from server.api.common import workspace_out
from server.api.dependencies import SignedInCall
from server.api.models import (
    WorkspaceCreate,
    WorkspaceListQuery,
    WorkspaceOut,
    WorkspacePage,
    WorkspacePatch,
)
from server.api.routing import api_router, errors
from server.services import workspaces

router = api_router("workspaces")


@router.post(
    "/api/workspaces",
    summary="Create a workspace; you become its owner",
    response_model=WorkspaceOut,
    status_code=201,
)
async def create_workspace(call: SignedInCall, body: WorkspaceCreate) -> WorkspaceOut:
    found = await workspaces.create(
        call.services,
        call.user_id,
        name=body.name,
        description=body.description,
        visibility=body.visibility,
    )
    return workspace_out(found.workspace, found.role)


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
    page = await workspaces.list_for(
        call.services,
        call.user_id,
        public=query.scope == "public",
        limit=query.limit,
        cursor=query.cursor,
    )
    return WorkspacePage(
        items=[workspace_out(item.workspace, item.role) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/api/workspaces/{workspace_id}",
    summary="A workspace",
    response_model=WorkspaceOut,
    responses=errors(403, 404),
)
async def get_workspace(call: SignedInCall, workspace_id: str) -> WorkspaceOut:
    """Members; and every signed-in user for a public workspace."""
    found = await workspaces.read(call.services, workspace_id, call.user_id)
    return workspace_out(found.workspace, found.role)


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
    found = await workspaces.change(call.services, workspace_id, call.user_id, body.changes())
    return workspace_out(found.workspace, found.role)


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
    await workspaces.delete(call.services, workspace_id, call.user_id)
