"""The invitations service: whether a token may be used, and accepting it.

An invitation is a link with a secret token that lets someone join a workspace, account or
not; it is used once (the routes: :mod:`server.api.invitation_routes`).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounts import secret_hash
from server.services.activity import record
from server.services.errors import conflict, forbidden, not_found
from storage.catalog import ActivityRecord
from storage.clock import utcnow
from storage.people import UserRecord
from storage.workspaces import (
    InvitationRecord,
    insert_member,
    invitation_by_token,
    mark_invitation_accepted,
    role_of,
)

__all__ = ["accept_invitation", "usable_invitation"]


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
