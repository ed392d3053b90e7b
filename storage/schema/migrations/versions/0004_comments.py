"""Comment threads, comments and notifications.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from storage.comments: a migration is a frozen record.
_ID = sa.String(32)
_DOCUMENT_ID = sa.String(200)
_NOW = sa.text("CURRENT_TIMESTAMP")


def _stamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=_NOW)


def _user_fk(table: str, column: str, on_delete: str = "SET NULL") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete=on_delete
    )


def upgrade() -> None:
    op.create_table(
        "threads",
        sa.Column("id", _ID, nullable=False),
        sa.Column("document_id", _DOCUMENT_ID, nullable=False),
        sa.Column("anchor_start", sa.LargeBinary(), nullable=False),
        sa.Column("anchor_end", sa.LargeBinary(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("author_id", _ID, nullable=True),
        _stamp("created_at"),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", _ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_threads"),
        sa.CheckConstraint("status IN ('open', 'resolved')", name="ck_threads_status"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["workspace_documents.document_id"],
            name="fk_threads_document_id_workspace_documents",
            ondelete="CASCADE",
        ),
        _user_fk("threads", "author_id"),
        _user_fk("threads", "resolved_by"),
    )
    op.create_index("ix_threads_document_id_created_at", "threads", ["document_id", "created_at"])
    op.create_table(
        "comments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("thread_id", _ID, nullable=False),
        sa.Column("author_id", _ID, nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        _stamp("created_at"),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_comments"),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name="fk_comments_thread_id_threads", ondelete="CASCADE"
        ),
        _user_fk("comments", "author_id"),
    )
    op.create_index("ix_comments_thread_id_created_at", "comments", ["thread_id", "created_at"])
    op.create_table(
        "notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            nullable=False,
        ),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("actor_id", _ID, nullable=True),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("document_id", _DOCUMENT_ID, nullable=False),
        sa.Column("thread_id", _ID, nullable=False),
        sa.Column("comment_id", _ID, nullable=False),
        _stamp("created_at"),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.CheckConstraint("kind IN ('mention')", name="ck_notifications_kind"),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name="fk_notifications_comment_id_comments",
            ondelete="CASCADE",
        ),
        _user_fk("notifications", "user_id", "CASCADE"),
        _user_fk("notifications", "actor_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_notifications_user_id_id", "notifications", ["user_id", "id"])
    op.create_index("ix_notifications_comment_id", "notifications", ["comment_id"])


def downgrade() -> None:
    op.drop_index("ix_notifications_comment_id", table_name="notifications")
    op.drop_index("ix_notifications_user_id_id", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_comments_thread_id_created_at", table_name="comments")
    op.drop_table("comments")
    op.drop_index("ix_threads_document_id_created_at", table_name="threads")
    op.drop_table("threads")
