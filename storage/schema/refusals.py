"""The table of refused changes: per document and client id, the clock refusals start at.

Why the sync side needs it is told in :mod:`storage.refusals`, which owns its queries.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from storage.schema._base import MAX_DOCUMENT_ID_LENGTH, NOW, Base, metadata

__all__ = ["DocRefusal", "doc_refusals"]


class DocRefusal(Base, table=True):
    """A client id whose changes to a document were refused from ``clock`` on."""

    __tablename__ = "doc_refusals"

    document_id: str = Field(
        sa_column=sa.Column(
            sa.String(MAX_DOCUMENT_ID_LENGTH),
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    # Yjs client ids are 32-bit unsigned (53-bit from some clients) and clocks 53-bit.
    client: int = Field(sa_column=sa.Column(sa.BigInteger(), primary_key=True))
    clock: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )


doc_refusals: sa.Table = metadata.tables["doc_refusals"]
