"""What the handlers share: loading a workspace or document with the caller's role, the
permission checks, and the conversions of records into response models."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounts import user_color
from server.api.errors import forbidden, not_found
from server.api.models import DocumentOut, UserOut, WorkspaceOut
from server.permissions import Role, at_least
from storage.catalog import DocumentRecord, get_document
from storage.people import UserRecord
from storage.workspaces import WorkspaceRecord, get_workspace, role_of

__all__ = [
    "document_out",
    "load_document",
    "load_workspace",
    "require_readable_document",
    "require_readable_workspace",
    "require_role",
    "user_out",
    "workspace_out",
]


async def load_workspace(
    connection: AsyncConnection, workspace_id: str, user_id: str, *, lock: bool = False
) -> tuple[WorkspaceRecord, str | None]:
    """A workspace and the caller's role in it (None: not a member).

    Raises:
        ApiError: 404 if there is no such workspace.
    """
    workspace = await get_workspace(connection, workspace_id, lock=lock)
    if workspace is None:
        raise not_found(f"no workspace {workspace_id}")
    return workspace, await role_of(connection, workspace_id, user_id)


async def load_document(
    connection: AsyncConnection, document_id: str, user_id: str, *, lock: bool = False
) -> tuple[DocumentRecord, WorkspaceRecord, str | None]:
    """A workspace document, its workspace, and the caller's role there.

    Raises:
        ApiError: 404 if there is no such document.
    """
    document = await get_document(connection, document_id)
    if document is None:
        raise not_found(f"no document {document_id}")
    workspace, role = await load_workspace(connection, document.workspace_id, user_id, lock=lock)
    return document, workspace, role


def require_role(role: str | None, minimum: Role, action: str) -> str:
    """The caller's role, if it is at least ``minimum``.

    Raises:
        ApiError: 403 naming what was refused and why.
    """
    if role is None:
        raise forbidden(f"you are not a member of this workspace, so you cannot {action}")
    if not at_least(role, minimum):
        raise forbidden(f"{action} needs the {minimum.value} role; you are {role}")
    return role


def require_readable_workspace(workspace: WorkspaceRecord, role: str | None) -> None:
    """Members read a workspace; so does every signed-in user if it is public.

    Raises:
        ApiError: 403.
    """
    if role is None and workspace.visibility != "public":
        raise forbidden("you are not a member of this private workspace")


def require_readable_document(
    document: DocumentRecord, workspace: WorkspaceRecord, role: str | None
) -> None:
    """Members read every document of their workspace (the trash too); others read the
    published documents of a public workspace.

    Raises:
        ApiError: 403.
    """
    if role is not None:
        return
    if workspace.visibility == "public" and document.published and not document.trashed:
        return
    raise forbidden("you are not a member of this document's workspace")


def user_out(user: UserRecord) -> UserOut:
    return UserOut.model_validate(
        {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "color": user_color(user.id),
            "instance_role": user.instance_role,
            "actor_type": user.actor_type,
            "organisation": user.organisation,
            "country": user.country,
            "created_at": user.created_at,
        }
    )


def workspace_out(workspace: WorkspaceRecord, role: str | None) -> WorkspaceOut:
    return WorkspaceOut.model_validate(
        {
            "id": workspace.id,
            "name": workspace.name,
            "description": workspace.description,
            "visibility": workspace.visibility,
            "role": role,
            "created_at": workspace.created_at,
            "updated_at": workspace.updated_at,
        }
    )


def document_out(document: DocumentRecord) -> DocumentOut:
    return DocumentOut(
        id=document.id,
        workspace_id=document.workspace_id,
        title=document.title,
        template=document.template,
        published=document.published,
        trashed=document.trashed,
        trashed_at=document.trashed_at,
        created_by=document.created_by,
        created_at=document.created_at,
        updated_at=document.updated_at,
        size_bytes=None,
    )
