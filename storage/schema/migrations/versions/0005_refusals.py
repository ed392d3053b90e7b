"""Refused clients: per document, the client ids whose changes were refused and from when.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from storage.refusals: a migration is a frozen record.
_NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "doc_refusals",
        sa.Column("document_id", sa.String(200), nullable=False),
        sa.Column("client", sa.BigInteger(), nullable=False),
        sa.Column("clock", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.PrimaryKeyConstraint("document_id", "client", name="pk_doc_refusals"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_doc_refusals_document_id_documents",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("doc_refusals")
