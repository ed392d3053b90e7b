"""The conversions of records into the API's response models that several route modules
share."""

from __future__ import annotations

from server.accounts import user_color
from server.api.models import DocumentOut, UserOut, WorkspaceOut
from storage.catalog import DocumentRecord
from storage.people import UserRecord
from storage.workspaces import WorkspaceRecord

__all__ = ["document_out", "user_out", "workspace_out"]


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
