"""The request and response bodies of the REST API, as pydantic models.

They validate what comes in (unknown fields are refused, so a typo is an error rather than a
silent no-op), serialise what goes out, and are the source of the OpenAPI schemas.
Timestamps are ISO 8601 in UTC; ids are 32 hexadecimal characters.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from server.api.fields import (
    ActorType,
    Country,
    Cursor,
    Description,
    Email,
    InstanceRole,
    JsonInt,
    LoginEmail,
    LoginText,
    Name,
    Omitted,
    Organisation,
    Password,
    Role,
    Secret,
    TemplateName,
    TokenName,
    Visibility,
    omit_default,
)
from server.services.records import ActivityOut

__all__ = [
    "AcceptedInvitation",
    "ActivityPage",
    "DocumentCreate",
    "DocumentListQuery",
    "DocumentOut",
    "DocumentPage",
    "DocumentPatch",
    "ErrorOut",
    "ExportQuery",
    "InvitationCreate",
    "InvitationCreated",
    "InvitationOut",
    "InvitationPage",
    "InvitationPreview",
    "LoginIn",
    "MemberAdd",
    "MemberOut",
    "MemberPage",
    "MemberPatch",
    "PageQuery",
    "ProfilePatch",
    "RegisterIn",
    "SessionOut",
    "TokenCreate",
    "TokenCreated",
    "TokenOut",
    "TokenPage",
    "UserOut",
    "WorkspaceCreate",
    "WorkspaceListQuery",
    "WorkspaceOut",
    "WorkspacePage",
    "WorkspacePatch",
]


class _In(BaseModel):
    # Strict: JSON has types, and "published": 0 is a mistake to report, not to guess at.
    model_config = ConfigDict(extra="forbid", strict=True)


class _Patch(_In):
    """A partial update: only the fields sent change. A field may be sent as null only if it
    is listed in ``nullable`` (null then clears it)."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _refuse_nulls(self) -> _Patch:
        for name in sorted(self.model_fields_set):
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name} may not be null")
        return self

    def changes(self) -> dict[str, object]:
        """The fields sent, with their values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ErrorBody(BaseModel):
    code: str = Field(description="stable, machine-readable: e.g. not_found, last_owner")
    message: str = Field(description="what went wrong, for a person")


class ErrorOut(BaseModel):
    """Every error response."""

    error: ErrorBody


# -- queries ------------------------------------------------------------------------------------


class PageQuery(BaseModel):
    limit: int = Field(50, ge=1, le=100, description="items per page")
    cursor: Cursor | None = Field(None, description="next_cursor of the previous page")


class WorkspaceListQuery(PageQuery):
    scope: Literal["member", "public"] = Field(
        "member", description="member: workspaces you belong to; public: every public one"
    )


class DocumentListQuery(PageQuery):
    trashed: bool = Field(False, description="list the trash instead of the documents")


class ExportQuery(BaseModel):
    format: Literal["markdown", "html"] = "markdown"


# -- accounts -----------------------------------------------------------------------------------


class RegisterIn(_In):
    email: Email
    name: Name
    password: Password
    invite_token: Secret | None = Field(
        None,
        description="an invitation token: joins its workspace, and allows registering "
        "when registration is invite-only",
    )


class LoginIn(_In):
    email: LoginEmail
    password: LoginText


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    color: str = Field(
        description="#rrggbb: the colour others see for this account (caret, avatar), "
        "the one the server sets in its presence"
    )
    instance_role: InstanceRole = Field(description="admin: the operator of this instance")
    actor_type: ActorType | None
    organisation: str | None
    country: str | None
    created_at: datetime


class SessionOut(BaseModel):
    token: str = Field(description="send it as 'Authorization: Bearer TOKEN'")
    expires_at: datetime | None
    user: UserOut


class ProfilePatch(_Patch):
    """Only the fields sent change; null clears an optional field."""

    nullable: ClassVar[frozenset[str]] = frozenset({"actor_type", "organisation", "country"})

    name: Name | SkipJsonSchema[None] = Omitted
    actor_type: ActorType | None = None
    organisation: Organisation | None = None
    country: Country | None = None


class TokenCreate(_In):
    name: TokenName
    expires_in_days: JsonInt = Field(90, ge=1, le=365)


class TokenOut(BaseModel):
    id: str
    name: str | None
    created_at: datetime
    expires_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="shown once: store it now")


class TokenPage(BaseModel):
    items: list[TokenOut]
    next_cursor: str | None


# -- workspaces ---------------------------------------------------------------------------------


class WorkspaceCreate(_In):
    name: Name
    description: Description = ""
    visibility: Visibility = "private"


class WorkspacePatch(_Patch):
    """Only the fields sent change."""

    name: Name | SkipJsonSchema[None] = Omitted
    description: Description | SkipJsonSchema[None] = Omitted
    visibility: Visibility | SkipJsonSchema[None] = Omitted


class WorkspaceOut(BaseModel):
    id: str
    name: str
    description: str
    visibility: Visibility
    role: Role | None = Field(description="your role; null if you are not a member")
    created_at: datetime
    updated_at: datetime


class WorkspacePage(BaseModel):
    items: list[WorkspaceOut]
    next_cursor: str | None


class MemberAdd(_In):
    email: Email
    role: Role


class MemberPatch(_In):
    role: Role


class MemberOut(BaseModel):
    user_id: str
    email: str
    name: str
    role: Role
    joined_at: datetime


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


class InvitationCreate(_In):
    email: Email | None = Field(None, description="if set, only this account may accept")
    role: Role = "editor"
    expires_in_days: JsonInt = Field(14, ge=1, le=90)


class InvitationOut(BaseModel):
    id: str
    workspace_id: str
    email: str | None
    role: Role
    created_at: datetime
    expires_at: datetime


class InvitationCreated(InvitationOut):
    token: str = Field(description="shown once")
    url: str = Field(description="the invite link to pass on")


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None


class InvitationPreview(BaseModel):
    workspace_id: str
    workspace_name: str
    role: Role
    email: str | None
    expires_at: datetime
    status: Literal["pending", "accepted", "expired"]


class AcceptedInvitation(BaseModel):
    workspace: WorkspaceOut


# -- documents ----------------------------------------------------------------------------------


class DocumentCreate(_In):
    title: Name
    template: TemplateName | None = Field(
        None, description="what the document starts from; null: an empty document"
    )


class DocumentPatch(_Patch):
    """Only the fields sent change."""

    title: Name | SkipJsonSchema[None] = Omitted
    published: bool | SkipJsonSchema[None] = Field(
        None,
        description="visible to every signed-in user in a public workspace (owners)",
        json_schema_extra=omit_default,
    )


class DocumentOut(BaseModel):
    id: str
    workspace_id: str
    title: str
    template: str | None
    published: bool
    trashed: bool
    trashed_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    size_bytes: int | None = Field(
        None,
        description="bytes the document takes in the store (snapshot and log), which "
        "--max-document-bytes bounds; only in a document's details, null in lists",
    )


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    next_cursor: str | None


# -- activity -----------------------------------------------------------------------------------


class ActivityPage(BaseModel):
    items: list[ActivityOut]
    next_cursor: str | None
