"""Accounts, tokens, workspaces, memberships, invitations, workspace documents, activity.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from storage.accounts: a migration is a frozen record.
_ID = sa.String(32)
_DOCUMENT_ID = sa.String(200)
_NOW = sa.text("CURRENT_TIMESTAMP")
_ROLES = "role IN ('owner', 'editor', 'commenter', 'viewer')"


def _stamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=_NOW)


def _user_fk(table: str, column: str, on_delete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete=on_delete
    )


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=f"fk_{table}_workspace_id_workspaces",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", _ID, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("instance_role", sa.String(16), nullable=False, server_default="user"),
        sa.Column("actor_type", sa.String(40), nullable=True),
        sa.Column("organisation", sa.String(200), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.CheckConstraint("instance_role IN ('admin', 'user')", name="ck_users_instance_role"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        _stamp("created_at"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.CheckConstraint("kind IN ('session', 'personal')", name="ck_api_tokens_kind"),
        _user_fk("api_tokens", "user_id", "CASCADE"),
    )
    op.create_table(
        "workspaces",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("visibility", sa.String(16), nullable=False, server_default="private"),
        sa.Column("created_by", _ID, nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
        sa.CheckConstraint("visibility IN ('private', 'public')", name="ck_workspaces_visibility"),
        _user_fk("workspaces", "created_by", "SET NULL"),
    )
    op.create_table(
        "memberships",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name="pk_memberships"),
        sa.CheckConstraint(_ROLES, name="ck_memberships_role"),
        _workspace_fk("memberships"),
        _user_fk("memberships", "user_id", "CASCADE"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_table(
        "invitations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("invited_by", _ID, nullable=True),
        _stamp("created_at"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_by", _ID, nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
        sa.CheckConstraint(_ROLES, name="ck_invitations_role"),
        _workspace_fk("invitations"),
        _user_fk("invitations", "invited_by", "SET NULL"),
        _user_fk("invitations", "accepted_by", "SET NULL"),
    )
    op.create_index("ix_invitations_workspace_id", "invitations", ["workspace_id"])
    op.create_table(
        "workspace_documents",
        sa.Column("document_id", _DOCUMENT_ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("template", sa.String(64), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("trashed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", _ID, nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("document_id", name="pk_workspace_documents"),
        _workspace_fk("workspace_documents"),
        _user_fk("workspace_documents", "created_by", "SET NULL"),
    )
    op.create_index("ix_workspace_documents_workspace_id", "workspace_documents", ["workspace_id"])
    op.create_table(
        "activities",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            nullable=False,
        ),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("actor_id", _ID, nullable=True),
        sa.Column("verb", sa.String(40), nullable=False),
        sa.Column("object_type", sa.String(20), nullable=False),
        sa.Column("object_id", _DOCUMENT_ID, nullable=False),
        sa.Column("data", sa.Text(), nullable=False, server_default="{}"),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_activities"),
        _workspace_fk("activities"),
        _user_fk("activities", "actor_id", "SET NULL"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_activities_workspace_id_id", "activities", ["workspace_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_activities_workspace_id_id", table_name="activities")
    op.drop_table("activities")
    op.drop_index("ix_workspace_documents_workspace_id", table_name="workspace_documents")
    op.drop_table("workspace_documents")
    op.drop_index("ix_invitations_workspace_id", table_name="invitations")
    op.drop_table("invitations")
    op.drop_index("ix_memberships_user_id", table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("workspaces")
    op.drop_table("api_tokens")
    op.drop_table("users")
