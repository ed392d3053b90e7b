"""The tables of accounts and workspaces, and the transaction every query of them runs in.

Users sign in with a password or a token (stored as its SHA-256, never in clear); they
belong to workspaces with a role; a workspace lists its documents (whose content lives in
the store's ``documents``/``doc_updates`` tables, keyed by the same id) and keeps a feed of
activity. The queries live beside this module: :mod:`storage.people` (users, tokens),
:mod:`storage.workspaces` (workspaces, members, invitations) and :mod:`storage.catalog`
(workspace documents, activity). Each takes an open connection, so that a caller composes
several into one transaction with :meth:`Database.transaction`.

Timestamps are written by the application in UTC (:func:`utcnow`) and read back through
:func:`as_utc`: SQLite returns them naive, PostgreSQL aware.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import Field

from storage.errors import Conflict, StorageError
from storage.models import MAX_DOCUMENT_ID_LENGTH, Base, metadata

__all__ = [
    "ID_LENGTH",
    "Activity",
    "ApiToken",
    "Database",
    "Invitation",
    "Membership",
    "User",
    "Workspace",
    "WorkspaceDocument",
    "activities",
    "api_tokens",
    "as_utc",
    "invitations",
    "memberships",
    "users",
    "utcnow",
    "workspace_documents",
    "workspaces",
]

ID_LENGTH = 32
"""Ids of users, tokens, workspaces and invitations: ``uuid4().hex``."""

_NOW = sa.text("CURRENT_TIMESTAMP")
_ROLES = "'owner', 'editor', 'commenter', 'viewer'"


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A timestamp read from either database, as an aware UTC datetime."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _id(*, primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(sa.String(ID_LENGTH), primary_key=primary_key, nullable=False)


def _user_ref(*, nullable: bool, on_delete: str) -> sa.Column[str]:
    return sa.Column(
        sa.String(ID_LENGTH),
        sa.ForeignKey("users.id", ondelete=on_delete),
        nullable=nullable,
    )


def _workspace_ref(*, primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(
        sa.String(ID_LENGTH),
        sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def _timestamp(*, nullable: bool = False, now: bool = True) -> sa.Column[datetime]:
    if nullable or not now:
        return sa.Column(sa.DateTime(timezone=True), nullable=nullable)
    return sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=_NOW)


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
    created_at: datetime | None = Field(default=None, sa_column=_timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=_timestamp())


class ApiToken(Base, table=True):
    """A bearer token: a browser session (``kind='session'``) or a personal API token."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        sa.UniqueConstraint("token_hash"),
        sa.CheckConstraint("kind IN ('session', 'personal')", name="kind"),
    )

    id: str = Field(sa_column=_id(primary_key=True))
    user_id: str = Field(sa_column=_user_ref(nullable=False, on_delete="CASCADE"))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    name: str | None = Field(default=None, sa_column=sa.Column(sa.String(100)))
    created_at: datetime | None = Field(default=None, sa_column=_timestamp())
    expires_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
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
        default=None, sa_column=_user_ref(nullable=True, on_delete="SET NULL")
    )
    created_at: datetime | None = Field(default=None, sa_column=_timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=_timestamp())


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
    created_at: datetime | None = Field(default=None, sa_column=_timestamp())


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
        default=None, sa_column=_user_ref(nullable=True, on_delete="SET NULL")
    )
    created_at: datetime | None = Field(default=None, sa_column=_timestamp())
    expires_at: datetime | None = Field(default=None, sa_column=_timestamp(now=False))
    accepted_by: str | None = Field(
        default=None, sa_column=_user_ref(nullable=True, on_delete="SET NULL")
    )
    accepted_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


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
    trashed_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    created_by: str | None = Field(
        default=None, sa_column=_user_ref(nullable=True, on_delete="SET NULL")
    )
    created_at: datetime | None = Field(default=None, sa_column=_timestamp())
    updated_at: datetime | None = Field(default=None, sa_column=_timestamp())


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
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            primary_key=True,
        ),
    )
    workspace_id: str = Field(sa_column=_workspace_ref())
    actor_id: str | None = Field(
        default=None, sa_column=_user_ref(nullable=True, on_delete="SET NULL")
    )
    verb: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    object_type: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    object_id: str = Field(sa_column=sa.Column(sa.String(MAX_DOCUMENT_ID_LENGTH), nullable=False))
    data: str = Field(
        default="{}", sa_column=sa.Column(sa.Text(), nullable=False, server_default="{}")
    )
    """A JSON object: what a reader needs without another lookup (titles, names, roles)."""
    created_at: datetime | None = Field(default=None, sa_column=_timestamp())


# Core handles: the queries use SQLAlchemy Core and plain records, no ORM identity map.
users: sa.Table = metadata.tables["users"]
api_tokens: sa.Table = metadata.tables["api_tokens"]
workspaces: sa.Table = metadata.tables["workspaces"]
memberships: sa.Table = metadata.tables["memberships"]
invitations: sa.Table = metadata.tables["invitations"]
workspace_documents: sa.Table = metadata.tables["workspace_documents"]
activities: sa.Table = metadata.tables["activities"]


class Database:
    """The engine the account queries run on, and the transaction they run in.

    Args:
        engine: from :func:`storage.create_engine`; the caller owns it and disposes of it.
    """

    __slots__ = ("engine",)

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Raises:
            Conflict: a constraint refused a write (unique key taken, referenced row gone).
            StorageError: the database failed.
        """
        try:
            async with self.engine.begin() as connection:
                yield connection
        except IntegrityError as exc:
            raise Conflict(f"refused by a constraint: {exc.orig}") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"database error: {exc}") from exc

    async def lock_for_update(self, connection: AsyncConnection, table: sa.Table) -> None:
        """Serialize this transaction with others that lock the same table.

        SQLite needs nothing: every transaction begins ``IMMEDIATE`` and so holds the write
        lock already. PostgreSQL takes a table lock that conflicts with itself (not with
        plain reads), held until the transaction ends.
        """
        if self.dialect == "postgresql":
            await connection.execute(
                sa.text(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE")
            )
