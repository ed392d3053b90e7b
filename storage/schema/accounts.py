"""The tables of accounts and workspaces: users and their tokens, workspaces, their members,
invitations, the documents each lists, and each one's activity feed.

Users sign in with a password or a token (stored as its SHA-256, never in clear); they
belong to workspaces with a role; a workspace lists its documents (whose content lives in
the log's ``documents``/``doc_updates`` tables, keyed by the same id) and keeps a feed of
activity. The queries live in :mod:`storage.people` (users, tokens), :mod:`storage.workspaces`
(workspaces, members, invitations) and :mod:`storage.catalog` (workspace documents, activity).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from storage.schema._base import (
    ID_LENGTH,
    MAX_DOCUMENT_ID_LENGTH,
    ROW_ID,
    Base,
    metadata,
    timestamp,
    user_ref,
)

__all__ = [
    "Activity",
    "ApiToken",
    "Invitation",
    "Membership",
    "User",
    "Workspace",
    "WorkspaceDocument",
    "activities",
    "api_tokens",
    "invitations",
    "memberships",
    "users",
    "workspace_documents",
    "workspaces",
]

_ROLES = "'owner', 'editor', 'commenter', 'viewer'"


def _id(*, primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(sa.String(ID_LENGTH), primary_key=primary_key, nullable=False)


def _workspace_ref(*, primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(
        sa.String(ID_LENGTH),
        sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


class User(Base, table=True):
    """An account. ``email`` is stored lower-cased, so it is unique regardless of case."""

    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("email"),
        sa.CheckConstraint("instance_role IN ('admin', 'user')", name="instance_role"),
    )

    id: str = Field(sa_column=_id(primary_key=True))
    email: str = Field(sa_column=sa.Column(sa.String(254), nullable=False))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    password_hash: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    instance_role: str = Field(
        default="user",
        sa_column=sa.Column(sa.String(16), nullable=False, server_default="user"),
    )
    actor_type: str | None = Field(default=None, sa_column=sa.Column(sa.String(40)))
    organisation: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    country: str | None = Field(default=None, sa_column=sa.Column(sa.String(2)))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=timestamp())


class ApiToken(Base, table=True):
    """A bearer token: a browser session (``kind='session'``) or a personal API token."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        sa.UniqueConstraint("token_hash"),
        sa.CheckConstraint("kind IN ('session', 'personal')", name="kind"),
    )

    id: str = Field(sa_column=_id(primary_key=True))
    user_id: str = Field(sa_column=user_ref(nullable=False, on_delete="CASCADE"))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    name: str | None = Field(default=None, sa_column=sa.Column(sa.String(100)))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    expires_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    """None: never expires (until revoked)."""


class Workspace(Base, table=True):
    __tablename__ = "workspaces"
    __table_args__ = (sa.CheckConstraint("visibility IN ('private', 'public')", name="visibility"),)

    id: str = Field(sa_column=_id(primary_key=True))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    description: str = Field(
        default="", sa_column=sa.Column(sa.Text(), nullable=False, server_default="")
    )
    visibility: str = Field(
        default="private",
        sa_column=sa.Column(sa.String(16), nullable=False, server_default="private"),
    )
    created_by: str | None = Field(
        default=None, sa_column=user_ref(nullable=True, on_delete="SET NULL")
    )
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=timestamp())


class Membership(Base, table=True):
    __tablename__ = "memberships"
    __table_args__ = (
        sa.CheckConstraint(f"role IN ({_ROLES})", name="role"),
        sa.Index("ix_memberships_user_id", "user_id"),
    )

    workspace_id: str = Field(sa_column=_workspace_ref(primary_key=True))
    user_id: str = Field(
        sa_column=sa.Column(
            sa.String(ID_LENGTH),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        )
    )
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=timestamp())


class Invitation(Base, table=True):
    """An invite link into a workspace, for someone who may not have an account yet."""

    __tablename__ = "invitations"
    __table_args__ = (
        sa.UniqueConstraint("token_hash"),
        sa.CheckConstraint(f"role IN ({_ROLES})", name="role"),
        sa.Index("ix_invitations_workspace_id", "workspace_id"),
    )

    id: str = Field(sa_column=_id(primary_key=True))
    workspace_id: str = Field(sa_column=_workspace_ref())
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    email: str | None = Field(default=None, sa_column=sa.Column(sa.String(254)))
    """If set, only the account with this e-mail may accept."""
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    invited_by: str | None = Field(
        default=None, sa_column=user_ref(nullable=True, on_delete="SET NULL")
    )
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    expires_at: datetime | None = Field(default=None, sa_column=timestamp(now=False))
    accepted_by: str | None = Field(
        default=None, sa_column=user_ref(nullable=True, on_delete="SET NULL")
    )
    accepted_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))


class WorkspaceDocument(Base, table=True):
    """What a workspace knows of one of its documents; the content is in the store."""

    __tablename__ = "workspace_documents"
    __table_args__ = (sa.Index("ix_workspace_documents_workspace_id", "workspace_id"),)

    document_id: str = Field(
        sa_column=sa.Column(sa.String(MAX_DOCUMENT_ID_LENGTH), primary_key=True, nullable=False)
    )
    workspace_id: str = Field(sa_column=_workspace_ref())
    title: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    template: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    published: bool = Field(
        default=False,
        sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    trashed_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    created_by: str | None = Field(
        default=None, sa_column=user_ref(nullable=True, on_delete="SET NULL")
    )
    created_at: datetime | None = Field(default=None, sa_column=timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=timestamp())


class Activity(Base, table=True):
    """One entry of a workspace's feed; ``id`` orders the feed."""

    __tablename__ = "activities"
    # AUTOINCREMENT: ids order the feed and are its paging cursor; SQLite must never reuse one.
    __table_args__ = (
        sa.Index("ix_activities_workspace_id_id", "workspace_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            ROW_ID,
            sa.Identity(),
            primary_key=True,
        ),
    )
    workspace_id: str = Field(sa_column=_workspace_ref())
    actor_id: str | None = Field(
        default=None, sa_column=user_ref(nullable=True, on_delete="SET NULL")
    )
    verb: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    object_type: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    object_id: str = Field(sa_column=sa.Column(sa.String(MAX_DOCUMENT_ID_LENGTH), nullable=False))
    data: str = Field(
        default="{}", sa_column=sa.Column(sa.Text(), nullable=False, server_default="{}")
    )
    """A JSON object: what a reader needs without another lookup (titles, names, roles)."""
    created_at: datetime | None = Field(default=None, sa_column=timestamp())


# Core handles: the queries use SQLAlchemy Core and plain records, no ORM identity map.
users: sa.Table = metadata.tables["users"]
api_tokens: sa.Table = metadata.tables["api_tokens"]
workspaces: sa.Table = metadata.tables["workspaces"]
memberships: sa.Table = metadata.tables["memberships"]
invitations: sa.Table = metadata.tables["invitations"]
workspace_documents: sa.Table = metadata.tables["workspace_documents"]
activities: sa.Table = metadata.tables["activities"]
