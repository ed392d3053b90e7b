"""Invitations: a link with a secret token that lets someone join a workspace, account or not.

An owner creates one (optionally for one e-mail address); the person opens the link, and
accepts it signed in (``POST /api/invitations/{token}/accept``) or registers with it
(``invite_token`` in ``POST /api/auth/register``, which works even when registration is
invite-only). An invitation is used once. No e-mail is sent: the owner passes the link on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Query

from server.accounts import new_id, new_secret, secret_hash
from server.api.common import workspace_out
from server.api.dependencies import PublicCall, SignedInCall
from server.api.errors import not_found
from server.api.models import (
    AcceptedInvitation,
    InvitationCreate,
    InvitationCreated,
    InvitationOut,
    InvitationPage,
    InvitationPreview,
    PageQuery,
)
from server.api.routing import api_router, errors
from server.permissions import Role
from server.services.access import load_workspace, require_role
from server.services.activity import push, record
from server.services.invitations import accept_invitation, usable_invitation
from server.services.paging import decode_cursor, split_page
from storage.clock import utcnow
from storage.workspaces import (
    InvitationRecord,
    delete_invitation,
    get_workspace,
    insert_invitation,
    invitation_by_token,
    list_invitations,
)

router = api_router("members")


def _out(invitation: InvitationRecord) -> InvitationOut:
    return InvitationOut.model_validate(
        {
            "id": invitation.id,
            "workspace_id": invitation.workspace_id,
            "email": invitation.email,
            "role": invitation.role,
            "created_at": invitation.created_at,
            "expires_at": invitation.expires_at,
        }
    )


@router.post(
    "/api/workspaces/{workspace_id}/invitations",
    summary="Create an invite link",
    response_model=InvitationCreated,
    status_code=201,
    responses=errors(403, 404),
)
async def create_invitation(
    call: SignedInCall, workspace_id: str, body: InvitationCreate
) -> InvitationCreated:
    """Owners only. The token is in the response only: pass the link on."""
    assert call.signed_in is not None
    token = new_secret()
    now = utcnow()
    async with call.services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, call.user_id)
        require_role(role, Role.OWNER, "invite people")
        invitation = await insert_invitation(
            connection,
            invitation_id=new_id(),
            workspace_id=workspace_id,
            token_hash=secret_hash(token),
            email=body.email,
            role=body.role,
            invited_by=call.user_id,
            expires_at=now + timedelta(days=body.expires_in_days),
            now=now,
        )
        entry = await record(
            connection,
            invitation.workspace_id,
            call.signed_in.user,
            "member.invited",
            ("invitation", invitation.id),
            {"role": invitation.role},
        )
    await push(call.services, [entry])
    base = str(call.request.base_url).rstrip("/")
    return InvitationCreated(
        **_out(invitation).model_dump(), token=token, url=f"{base}/api/invitations/{token}"
    )


@router.get(
    "/api/workspaces/{workspace_id}/invitations",
    summary="Invitations not accepted yet",
    response_model=InvitationPage,
    responses=errors(400, 403, 404),
)
async def list_workspace_invitations(
    call: SignedInCall,
    workspace_id: str,
    query: Annotated[PageQuery, Query()],
) -> InvitationPage:
    """Owners only; expired invitations are listed until revoked."""
    after = decode_cursor(query.cursor, str)
    async with call.services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, call.user_id)
        require_role(role, Role.OWNER, "see the invitations")
        rows = await list_invitations(
            connection,
            workspace_id,
            limit=query.limit + 1,
            after=None if after is None else str(after[0]),
        )
    page, cursor = split_page(rows, query.limit, lambda row: (row.id,))
    return InvitationPage(items=[_out(row) for row in page], next_cursor=cursor)


@router.delete(
    "/api/workspaces/{workspace_id}/invitations/{invitation_id}",
    summary="Revoke an invitation",
    response_model=None,
    status_code=204,
    responses=errors(403, 404),
)
async def revoke_invitation(call: SignedInCall, workspace_id: str, invitation_id: str) -> None:
    """Owners only; an accepted invitation cannot be revoked (remove the member instead)."""
    async with call.services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, call.user_id)
        require_role(role, Role.OWNER, "revoke invitations")
        if not await delete_invitation(connection, workspace_id, invitation_id):
            raise not_found(f"no pending invitation {invitation_id}")


@router.get(
    "/api/invitations/{token}",
    summary="What an invite link is for",
    response_model=InvitationPreview,
    responses=errors(404),
)
async def preview_invitation(call: PublicCall, token: str) -> InvitationPreview:
    """Anyone holding the link may look: the workspace's name and the role offered."""
    async with call.services.database.transaction() as connection:
        invitation = await invitation_by_token(connection, secret_hash(token))
        workspace = (
            None if invitation is None else await get_workspace(connection, invitation.workspace_id)
        )
    if invitation is None or workspace is None:
        raise not_found("no such invitation: check the link")
    if invitation.accepted_at is not None:
        status = "accepted"
    elif invitation.expires_at <= utcnow():
        status = "expired"
    else:
        status = "pending"
    return InvitationPreview.model_validate(
        {
            "workspace_id": workspace.id,
            "workspace_name": workspace.name,
            "role": invitation.role,
            "email": invitation.email,
            "expires_at": invitation.expires_at,
            "status": status,
        }
    )


@router.post(
    "/api/invitations/{token}/accept",
    summary="Join a workspace with an invite link",
    response_model=AcceptedInvitation,
    responses=errors(403, 404, 409),
)
async def accept(call: SignedInCall, token: str) -> AcceptedInvitation:
    """Signed in; the invitation must be pending, and for your address if it names one."""
    assert call.signed_in is not None
    user = call.signed_in.user
    async with call.services.database.transaction() as connection:
        invitation = await usable_invitation(connection, token, user.email)
        entry = await accept_invitation(connection, invitation, user)
        workspace, role = await load_workspace(connection, invitation.workspace_id, user.id)
    await push(call.services, [entry])
    return AcceptedInvitation(workspace=workspace_out(workspace, role))
