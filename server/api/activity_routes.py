"""The activity feed of a workspace over HTTP (the rules: :mod:`server.services.activity`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from server.api.dependencies import SignedInCall
from server.api.models import ActivityPage, PageQuery
from server.api.routing import api_router, errors
from server.services import activity
from server.services.activity import activity_out

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
    page = await activity.list_of(
        call.services, workspace_id, call.user_id, limit=query.limit, cursor=query.cursor
    )
    return ActivityPage(
        items=[activity_out(entry) for entry in page.items], next_cursor=page.next_cursor
    )
