"""Invitations: a link with a secret token that lets someone join a workspace, account or not.

An owner creates one (optionally for one e-mail address); the person opens the link, and
accepts it signed in (``POST /api/invitations/{token}/accept``) or registers with it
(``invite_token`` in ``POST /api/auth/register``, which works even when registration is
invite-only). An invitation is used once. No e-mail is sent: the owner passes the link on.

The rules and the storage are :mod:`server.services.invitations`'; these routes translate
requests into its calls and its records into responses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from server.api.common import workspace_out
from server.api.dependencies import PublicCall, SignedInCall
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
from server.services import invitations
from storage.people import UserRecord
from storage.workspaces import InvitationRecord

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


def _user(call: SignedInCall) -> UserRecord:
    assert call.signed_in is not None
    return call.signed_in.user


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
    invitation, token = await invitations.create(
        call.services,
        _user(call),
        workspace_id,
        email=body.email,
        role=body.role,
        expires_in_days=body.expires_in_days,
    )
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
    found = await invitations.list_of(
        call.services, call.user_id, workspace_id, limit=query.limit, cursor=query.cursor
    )
    return InvitationPage(items=[_out(row) for row in found.items], next_cursor=found.next_cursor)


@router.delete(
    "/api/workspaces/{workspace_id}/invitations/{invitation_id}",
    summary="Revoke an invitation",
    response_model=None,
    status_code=204,
    responses=errors(403, 404),
)
async def revoke_invitation(call: SignedInCall, workspace_id: str, invitation_id: str) -> None:
    """Owners only; an accepted invitation cannot be revoked (remove the member instead)."""
    await invitations.revoke(call.services, call.user_id, workspace_id, invitation_id)


@router.get(
    "/api/invitations/{token}",
    summary="What an invite link is for",
    response_model=InvitationPreview,
    responses=errors(404),
)
async def preview_invitation(call: PublicCall, token: str) -> InvitationPreview:
    """Anyone holding the link may look: the workspace's name and the role offered."""
    found = await invitations.preview(call.services, token)
    return InvitationPreview.model_validate(
        {
            "workspace_id": found.workspace.id,
            "workspace_name": found.workspace.name,
            "role": found.invitation.role,
            "email": found.invitation.email,
            "expires_at": found.invitation.expires_at,
            "status": found.status,
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
    workspace, role = await invitations.accept(call.services, _user(call), token)
    return AcceptedInvitation(workspace=workspace_out(workspace, role))
