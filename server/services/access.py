"""Who may do what to a workspace or a document: loading one with the caller's role, and the
checks every service makes before acting (roles: :mod:`server.roles`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from server.permissions import Role, at_least
from server.services.errors import forbidden, not_found
from storage.catalog import DocumentRecord, get_document
from storage.workspaces import WorkspaceRecord, get_workspace, role_of

__all__ = [
    "load_document",
    "load_workspace",
    "require_readable_document",
    "require_readable_workspace",
    "require_role",
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
