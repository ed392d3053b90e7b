"""Members of a workspace over HTTP: add, list, change role, remove (the rules:
:mod:`server.services.members`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from server.api.dependencies import SignedInCall
from server.api.models import MemberAdd, MemberOut, MemberPage, MemberPatch, PageQuery
from server.api.routing import api_router, errors
from server.services import members
from storage.workspaces import MemberRecord

router = api_router("members")


def _out(member: MemberRecord) -> MemberOut:
    return MemberOut.model_validate(
        {
            "user_id": member.user_id,
            "email": member.email,
            "name": member.name,
            "role": member.role,
            "joined_at": member.created_at,
        }
    )


@router.post(
    "/api/workspaces/{workspace_id}/members",
    summary="Add someone who has an account",
    response_model=MemberOut,
    status_code=201,
    responses=errors(403, 404, 409),
)
async def add_member(call: SignedInCall, workspace_id: str, body: MemberAdd) -> MemberOut:
    """Owners only. For people without an account, create an invitation instead."""
    assert call.signed_in is not None
    member = await members.add(
        call.services, workspace_id, call.signed_in.user, body.email, body.role
    )
    return _out(member)


@router.get(
    "/api/workspaces/{workspace_id}/members",
    summary="The members, by name",
    response_model=MemberPage,
    responses=errors(400, 403, 404),
)
async def list_workspace_members(
    call: SignedInCall,
    workspace_id: str,
    query: Annotated[PageQuery, Query()],
) -> MemberPage:
    """Members only (any role)."""
    page = await members.list_of(
        call.services, workspace_id, call.user_id, limit=query.limit, cursor=query.cursor
    )
    return MemberPage(items=[_out(row) for row in page.items], next_cursor=page.next_cursor)


@router.patch(
    "/api/workspaces/{workspace_id}/members/{user_id}",
    summary="Change a member's role",
    response_model=MemberOut,
    responses=errors(403, 404, 409),
)
async def change_member_role(
    call: SignedInCall, workspace_id: str, user_id: str, body: MemberPatch
) -> MemberOut:
    """Owners only; takes effect on the member's open connections at once."""
    assert call.signed_in is not None
    member = await members.change_role(
        call.services, workspace_id, call.signed_in.user, user_id, body.role
    )
    return _out(member)


@router.delete(
    "/api/workspaces/{workspace_id}/members/{user_id}",
    summary="Remove a member, or leave",
    response_model=None,
    status_code=204,
    responses=errors(403, 404, 409),
)
async def remove_member(call: SignedInCall, workspace_id: str, user_id: str) -> None:
    """Owners remove anyone; every member may remove themselves (leave). Their open
    connections to the workspace's documents are closed (4403)."""
    assert call.signed_in is not None
    await members.remove(call.services, workspace_id, call.signed_in.user, user_id)
