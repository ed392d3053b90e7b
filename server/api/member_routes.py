"""Members of a workspace: add (by e-mail, for people who have an account), list, change
role, remove.

A workspace always keeps an owner: demoting or removing its last owner is refused with 409.
Changes take effect on open connections at once: a new role changes what the person's open
documents let them do; a removal disconnects them (4403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlalchemy.ext.asyncio import AsyncConnection

from server.api.common import load_workspace, require_role
from server.api.dependencies import SignedInCall
from server.api.errors import conflict, not_found
from server.api.models import MemberAdd, MemberOut, MemberPage, MemberPatch, PageQuery
from server.api.paging import decode_cursor, split_page
from server.api.routing import api_router, errors
from server.channel import CloseCode
from server.permissions import Role
from server.services.activity import push, record
from storage.catalog import document_ids
from storage.clock import utcnow
from storage.errors import Conflict
from storage.people import user_by_email
from storage.workspaces import (
    MemberRecord,
    count_owners,
    delete_member,
    get_member,
    insert_member,
    list_members,
    update_member_role,
)

router = api_router("members")

__all__: list[str] = []


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


async def _keeps_an_owner(connection: AsyncConnection, member: MemberRecord, action: str) -> None:
    """Refuse to take the owner role from the last owner (the workspace row is locked).

    Raises:
        ApiError: 409.
    """
    if member.role == Role.OWNER and await count_owners(connection, member.workspace_id) <= 1:
        raise conflict(
            f"cannot {action} the last owner: make someone else an owner first",
            code="last_owner",
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
    workspace_id = workspace_id
    try:
        async with call.services.database.transaction() as connection:
            _, role = await load_workspace(connection, workspace_id, call.user_id, lock=True)
            require_role(role, Role.OWNER, "add members")
            user = await user_by_email(connection, body.email)
            if user is None:
                raise not_found(
                    f"no account uses {body.email}: create an invitation for them instead"
                )
            if await get_member(connection, workspace_id, user.id) is not None:
                raise conflict(f"{body.email} is a member already", code="already_member")
            await insert_member(connection, workspace_id, user.id, body.role, utcnow())
            entry = await record(
                connection,
                workspace_id,
                call.signed_in.user,
                "member.joined",
                ("member", user.id),
                {"name": user.name, "role": body.role},
            )
            member = await get_member(connection, workspace_id, user.id)
    except Conflict:
        raise conflict(f"{body.email} is a member already", code="already_member") from None
    assert member is not None
    await push(call.services, [entry])
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
    after = decode_cursor(query.cursor, str, str)
    async with call.services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, call.user_id)
        require_role(role, Role.VIEWER, "see the members")
        rows = await list_members(
            connection,
            workspace_id,
            limit=query.limit + 1,
            after=None if after is None else (str(after[0]), str(after[1])),
        )
    page, cursor = split_page(rows, query.limit, lambda row: (row.name, row.user_id))
    return MemberPage(items=[_out(row) for row in page], next_cursor=cursor)


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
    workspace_id, user_id = workspace_id, user_id
    async with call.services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, call.user_id, lock=True)
        require_role(role, Role.OWNER, "change roles")
        member = await get_member(connection, workspace_id, user_id)
        if member is None:
            raise not_found(f"{user_id} is not a member of this workspace")
        entry = None
        if member.role != body.role:
            if body.role != Role.OWNER.value:
                await _keeps_an_owner(connection, member, "demote")
            await update_member_role(connection, workspace_id, user_id, body.role)
            entry = await record(
                connection,
                workspace_id,
                call.signed_in.user,
                "member.role_changed",
                ("member", user_id),
                {"name": member.name, "role": body.role, "previous_role": member.role},
            )
            ids = await document_ids(connection, workspace_id)
        updated = await get_member(connection, workspace_id, user_id)
    assert updated is not None
    if entry is not None:
        call.services.live.change_role(ids, user_id, body.role)
        await push(call.services, [entry])
    return _out(updated)


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
    workspace_id, user_id = workspace_id, user_id
    async with call.services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, call.user_id, lock=True)
        if user_id != call.user_id:
            require_role(role, Role.OWNER, "remove members")
        else:
            require_role(role, Role.VIEWER, "leave")
        member = await get_member(connection, workspace_id, user_id)
        if member is None:
            raise not_found(f"{user_id} is not a member of this workspace")
        await _keeps_an_owner(connection, member, "remove")
        await delete_member(connection, workspace_id, user_id)
        entry = await record(
            connection,
            workspace_id,
            call.signed_in.user,
            "member.removed",
            ("member", user_id),
            {"name": member.name, "role": member.role},
        )
        ids = await document_ids(connection, workspace_id)
    call.services.live.close_user(
        ids, user_id, CloseCode.FORBIDDEN, "you are no longer a member of this workspace"
    )
    await push(call.services, [entry])
