"""The members service: add (people who have an account), list, change role, remove.

A workspace always keeps an owner: demoting or removing its last owner is refused with 409.
Changes take effect on open connections at once: a new role changes what the person's open
documents let them do; a removal disconnects them (4403). Each change is recorded in the
workspace's activity and pushed live.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from server.channel import CloseCode
from server.permissions import Role
from server.services.access import load_workspace, require_role
from server.services.activity import push, record
from server.services.context import ApiServices
from server.services.errors import conflict, not_found
from server.services.paging import decode_cursor, split_page
from storage.catalog import document_ids
from storage.clock import utcnow
from storage.errors import Conflict
from storage.people import UserRecord, user_by_email
from storage.workspaces import (
    MemberRecord,
    count_owners,
    delete_member,
    get_member,
    insert_member,
    list_members,
    update_member_role,
)

__all__ = ["MemberPage", "add", "change_role", "list_of", "remove"]


@dataclass(frozen=True, slots=True)
class MemberPage:
    items: list[MemberRecord]
    next_cursor: str | None


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


async def add(
    services: ApiServices, workspace_id: str, actor: UserRecord, email: str, role: str
) -> MemberRecord:
    """Make the account of ``email`` a member (owners only).

    Raises:
        ApiError: 404 no such workspace or account; 403 not an owner; 409 a member already.
    """
    try:
        async with services.database.transaction() as connection:
            _, own_role = await load_workspace(connection, workspace_id, actor.id, lock=True)
            require_role(own_role, Role.OWNER, "add members")
            user = await user_by_email(connection, email)
            if user is None:
                raise not_found(f"no account uses {email}: create an invitation for them instead")
            if await get_member(connection, workspace_id, user.id) is not None:
                raise conflict(f"{email} is a member already", code="already_member")
            await insert_member(connection, workspace_id, user.id, role, utcnow())
            entry = await record(
                connection,
                workspace_id,
                actor,
                "member.joined",
                ("member", user.id),
                {"name": user.name, "role": role},
            )
            member = await get_member(connection, workspace_id, user.id)
    except Conflict:
        raise conflict(f"{email} is a member already", code="already_member") from None
    assert member is not None
    await push(services, [entry])
    return member


async def list_of(
    services: ApiServices, workspace_id: str, user_id: str, *, limit: int, cursor: str | None
) -> MemberPage:
    """The members, by name (members only).

    Raises:
        ApiError: 400 for a cursor this list did not make; 404 no such workspace; 403 not a
            member.
    """
    after = decode_cursor(cursor, str, str)
    async with services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, user_id)
        require_role(role, Role.VIEWER, "see the members")
        rows = await list_members(
            connection,
            workspace_id,
            limit=limit + 1,
            after=None if after is None else (str(after[0]), str(after[1])),
        )
    page, next_cursor = split_page(rows, limit, lambda row: (row.name, row.user_id))
    return MemberPage(page, next_cursor)


async def change_role(
    services: ApiServices, workspace_id: str, actor: UserRecord, user_id: str, role: str
) -> MemberRecord:
    """Give a member another role (owners only), on their open connections at once.

    Raises:
        ApiError: 404 no such workspace or member; 403 not an owner; 409 the last owner.
    """
    async with services.database.transaction() as connection:
        _, own_role = await load_workspace(connection, workspace_id, actor.id, lock=True)
        require_role(own_role, Role.OWNER, "change roles")
        member = await get_member(connection, workspace_id, user_id)
        if member is None:
            raise not_found(f"{user_id} is not a member of this workspace")
        entry = None
        if member.role != role:
            if role != Role.OWNER.value:
                await _keeps_an_owner(connection, member, "demote")
            await update_member_role(connection, workspace_id, user_id, role)
            entry = await record(
                connection,
                workspace_id,
                actor,
                "member.role_changed",
                ("member", user_id),
                {"name": member.name, "role": role, "previous_role": member.role},
            )
            ids = await document_ids(connection, workspace_id)
        updated = await get_member(connection, workspace_id, user_id)
    assert updated is not None
    if entry is not None:
        services.live.change_role(ids, user_id, role)
        await push(services, [entry])
    return updated


async def remove(services: ApiServices, workspace_id: str, actor: UserRecord, user_id: str) -> None:
    """Remove a member (owners), or leave (anyone for themselves); closes their connections.

    Raises:
        ApiError: 404 no such workspace or member; 403 not allowed; 409 the last owner.
    """
    async with services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, actor.id, lock=True)
        if user_id != actor.id:
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
            actor,
            "member.removed",
            ("member", user_id),
            {"name": member.name, "role": member.role},
        )
        ids = await document_ids(connection, workspace_id)
    services.live.close_user(
        ids, user_id, CloseCode.FORBIDDEN, "you are no longer a member of this workspace"
    )
    await push(services, [entry])
