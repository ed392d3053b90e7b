"""Attribution of updates, versions and edit history.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from storage.versions: a migration is a frozen record.
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_DOCUMENT_ID = sa.String(200)
_NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    with op.batch_alter_table("doc_updates") as batch:
        batch.add_column(sa.Column("author_id", sa.String(32), nullable=True))
    op.create_table(
        "doc_versions",
        sa.Column("id", _ROW_ID, sa.Identity(), nullable=False),
        sa.Column("document_id", _DOCUMENT_ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("upto_update_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.PrimaryKeyConstraint("id", name="pk_doc_versions"),
        sa.CheckConstraint(
            "kind IN ('manual', 'auto', 'restore-backup')", name="ck_doc_versions_kind"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["workspace_documents.document_id"],
            name="fk_doc_versions_document_id_workspace_documents",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name="fk_doc_versions_author_id_users",
            ondelete="SET NULL",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_doc_versions_document_id_id", "doc_versions", ["document_id", "id"])
    op.create_table(
        "doc_edits",
        sa.Column("id", _ROW_ID, sa.Identity(), nullable=False),
        sa.Column("document_id", _DOCUMENT_ID, nullable=False),
        sa.Column("author_id", sa.String(32), nullable=True),
        sa.Column("first_update_id", sa.BigInteger(), nullable=False),
        sa.Column("last_update_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updates", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_doc_edits"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_doc_edits_document_id_documents",
            ondelete="CASCADE",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_doc_edits_document_id_first_update_id", "doc_edits", ["document_id", "first_update_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_doc_edits_document_id_first_update_id", table_name="doc_edits")
    op.drop_table("doc_edits")
    op.drop_index("ix_doc_versions_document_id_id", table_name="doc_versions")
    op.drop_table("doc_versions")
    with op.batch_alter_table("doc_updates") as batch:
        batch.drop_column("author_id")
