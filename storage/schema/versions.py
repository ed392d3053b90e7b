"""The table of named versions: a document's whole state saved at a position of its log.

The queries live in :mod:`storage.versions`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from storage.schema._base import ID_LENGTH, MAX_DOCUMENT_ID_LENGTH, NOW, ROW_ID, Base, metadata

__all__ = ["DocVersion", "doc_versions"]


class DocVersion(Base, table=True):
    """A named snapshot of a workspace document; ``id`` orders a document's versions."""

    __tablename__ = "doc_versions"
    # AUTOINCREMENT: ids order the list and are its paging cursor; SQLite must never reuse one.
    __table_args__ = (
        sa.CheckConstraint("kind IN ('manual', 'auto', 'restore-backup')", name="kind"),
        sa.Index("ix_doc_versions_document_id_id", "document_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(ROW_ID, sa.Identity(), primary_key=True)
    )
    document_id: str = Field(
        sa_column=sa.Column(
            sa.String(MAX_DOCUMENT_ID_LENGTH),
            sa.ForeignKey("workspace_documents.document_id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    state: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    upto_update_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    author_id: str | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.String(ID_LENGTH), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
    )
    created_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )


doc_versions: sa.Table = metadata.tables["doc_versions"]
