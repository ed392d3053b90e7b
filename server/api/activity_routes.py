"""The activity feed of a workspace, newest first (the service: :mod:`server.services.activity`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from server.api.common import load_workspace, require_role
from server.api.dependencies import SignedInCall
from server.api.models import ActivityPage, PageQuery
from server.api.paging import decode_cursor, split_page
from server.api.routing import api_router, errors
from server.permissions import Role
from server.services.activity import activity_out
from storage.catalog import list_activity

router = api_router("activity")


@router.get(
    "/api/workspaces/{workspace_id}/activity",
    summary="The workspace's activity, newest first",
    response_model=ActivityPage,
    responses=errors(400, 403, 404),
)
async def list_workspace_activity(
    call: SignedInCall,
    workspace_id: str,
    query: Annotated[PageQuery, Query()],
) -> ActivityPage:
    """Members only (any role)."""
    before = decode_cursor(query.cursor, int)
    async with call.services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, call.user_id)
        require_role(role, Role.VIEWER, "read the activity")
        rows = await list_activity(
            connection,
            workspace_id,
            limit=query.limit + 1,
            before=None if before is None else int(before[0]),
        )
    page, cursor = split_page(rows, query.limit, lambda entry: (entry.id,))
    return ActivityPage(items=[activity_out(entry) for entry in page], next_cursor=cursor)
