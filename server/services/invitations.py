"""The invitations service: creating, listing and revoking invite links (owners), what a
link is for (anyone holding it), whether a token may be used, and accepting it.

An invitation is a link with a secret token that lets someone join a workspace, account or
not; it is used once (the routes: :mod:`server.api.invitation_routes`; signing up with a
token: :mod:`server.api.auth_routes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounts import new_id, new_secret, secret_hash
from server.permissions import Role
from server.services.access import load_workspace, require_role
from server.services.activity import push, record
from server.services.context import ApiServices
from server.services.errors import conflict, forbidden, not_found
from server.services.paging import decode_cursor, split_page
from storage.catalog import ActivityRecord
from storage.clock import utcnow
from storage.people import UserRecord
from storage.workspaces import (
    InvitationRecord,
    WorkspaceRecord,
    delete_invitation,
    get_workspace,
    insert_invitation,
    insert_member,
    invitation_by_token,
    list_invitations,
    mark_invitation_accepted,
    role_of,
)

__all__ = [
    "InvitationList",
    "Preview",
    "accept",
    "accept_invitation",
    "create",
    "list_of",
    "preview",
    "revoke",
    "usable_invitation",
]


@dataclass(frozen=True, slots=True)
class InvitationList:
    items: list[InvitationRecord]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Preview:
    """What an invite link is for; ``status``: pending, accepted or expired."""

    workspace: WorkspaceRecord
    invitation: InvitationRecord
    status: str


async def create(
    services: ApiServices,
    user: UserRecord,
    workspace_id: str,
    *,
    email: str | None,
    role: str,
    expires_in_days: int,
) -> tuple[InvitationRecord, str]:
    """An invitation and its secret token (stored only hashed); owners only (404, 403)."""
    token = new_secret()
    now = utcnow()
    async with services.database.transaction() as connection:
        _, own_role = await load_workspace(connection, workspace_id, user.id)
        require_role(own_role, Role.OWNER, "invite people")
        invitation = await insert_invitation(
            connection,
            invitation_id=new_id(),
            workspace_id=workspace_id,
            token_hash=secret_hash(token),
            email=email,
            role=role,
            invited_by=user.id,
            expires_at=now + timedelta(days=expires_in_days),
            now=now,
        )
        entry = await record(
            connection,
            invitation.workspace_id,
            user,
            "member.invited",
            ("invitation", invitation.id),
            {"role": invitation.role},
        )
    await push(services, [entry])
    return invitation, token


async def list_of(
    services: ApiServices, user_id: str, workspace_id: str, *, limit: int, cursor: str | None
) -> InvitationList:
    """Invitations not accepted yet, expired ones included; owners only (400, 404, 403)."""
    after = decode_cursor(cursor, str)
    async with services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, user_id)
        require_role(role, Role.OWNER, "see the invitations")
        rows = await list_invitations(
            connection,
            workspace_id,
            limit=limit + 1,
            after=None if after is None else str(after[0]),
        )
    page, next_cursor = split_page(rows, limit, lambda row: (row.id,))
    return InvitationList(page, next_cursor)


async def revoke(
    services: ApiServices, user_id: str, workspace_id: str, invitation_id: str
) -> None:
    """Owners only; 404 for an accepted or unknown invitation (remove the member instead)."""
    async with services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, user_id)
        require_role(role, Role.OWNER, "revoke invitations")
        if not await delete_invitation(connection, workspace_id, invitation_id):
            raise not_found(f"no pending invitation {invitation_id}")


def _status(invitation: InvitationRecord, now: datetime) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    return "expired" if invitation.expires_at <= now else "pending"


async def preview(services: ApiServices, token: str) -> Preview:
    """What an invite link is for, for anyone holding it (404 for an unknown token)."""
    async with services.database.transaction() as connection:
        invitation = await invitation_by_token(connection, secret_hash(token))
        workspace = (
            None if invitation is None else await get_workspace(connection, invitation.workspace_id)
        )
    if invitation is None or workspace is None:
        raise not_found("no such invitation: check the link")
    return Preview(workspace, invitation, _status(invitation, utcnow()))


async def accept(
    services: ApiServices, user: UserRecord, token: str
) -> tuple[WorkspaceRecord, str | None]:
    """Join a workspace with a pending invitation meant for anyone or for the user's address;
    the workspace and the role the user now has there.

    Raises:
        ApiError: as :func:`usable_invitation` and :func:`accept_invitation`.
    """
    async with services.database.transaction() as connection:
        invitation = await usable_invitation(connection, token, user.email)
        entry = await accept_invitation(connection, invitation, user)
        workspace, role = await load_workspace(connection, invitation.workspace_id, user.id)
    await push(services, [entry])
    return workspace, role


async def usable_invitation(
    connection: AsyncConnection, token: str, email: str
) -> InvitationRecord:
    """The pending invitation of a token, if the account with ``email`` may use it.

    Raises:
        ApiError: 404 unknown token; 409 used or expired; 403 meant for another address.
    """
    invitation = await invitation_by_token(connection, secret_hash(token))
    if invitation is None:
        raise not_found("no such invitation: check the link")
    if invitation.accepted_at is not None:
        raise conflict("this invitation has been used already", code="invitation_used")
    if invitation.expires_at <= utcnow():
        raise conflict("this invitation has expired: ask for a new one", code="invitation_expired")
    if invitation.email is not None and invitation.email != email:
        raise forbidden(
            "this invitation is for another e-mail address", code="invitation_for_someone_else"
        )
    return invitation


async def accept_invitation(
    connection: AsyncConnection, invitation: InvitationRecord, user: UserRecord
) -> ActivityRecord:
    """Make ``user`` a member with the invitation's role, inside the caller's transaction.

    Raises:
        ApiError: 409 if the invitation was used meanwhile or the user is a member already.
    """
    if await role_of(connection, invitation.workspace_id, user.id) is not None:
        raise conflict("you are a member of this workspace already", code="already_member")
    now = utcnow()
    if not await mark_invitation_accepted(connection, invitation.id, user.id, now):
        raise conflict("this invitation has been used already", code="invitation_used")
    await insert_member(connection, invitation.workspace_id, user.id, invitation.role, now)
    return await record(
        connection,
        invitation.workspace_id,
        user,
        "member.joined",
        ("member", user.id),
        {"name": user.name, "role": invitation.role},
    )
