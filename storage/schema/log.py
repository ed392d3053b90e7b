"""The tables of the document log: what the document store reads and writes, and nothing else.

A document's content is its snapshot (``doc_snapshots``, every update compacted so far as
one) followed by its log (``doc_updates``, the committed updates not yet folded). Each log
entry knows its author; when compaction folds entries into the snapshot it keeps their
attribution, coalesced into edit sessions, in ``doc_edits``, so who wrote what survives
compaction. The store (:mod:`storage.sql`) knows only these tables; features hang their own
tables off ``documents`` with cascading foreign keys.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from storage.schema._base import MAX_DOCUMENT_ID_LENGTH, NOW, ROW_ID, Base, metadata

__all__ = [
    "MAX_DOCUMENT_ID_LENGTH",
    "DocEdit",
    "DocSnapshot",
    "DocUpdate",
    "Document",
    "doc_edits",
    "doc_snapshots",
    "doc_updates",
    "documents",
]


def _document_ref(*, primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(
        sa.String(MAX_DOCUMENT_ID_LENGTH),
        sa.ForeignKey("documents.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
        index=not primary_key,
    )


class Document(Base, table=True):
    """A shared document. Its row is created when it is first loaded."""

    __tablename__ = "documents"

    id: str = Field(sa_column=sa.Column(sa.String(MAX_DOCUMENT_ID_LENGTH), primary_key=True))
    created_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    # Rewritten when the stored state is rewritten (creation, compaction), not on every
    # append: touching the row per commit would contend with a compaction's row lock.
    updated_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )


class DocUpdate(Base, table=True):
    """One committed Yjs v1 update of a document, not yet folded into its snapshot."""

    __tablename__ = "doc_updates"
    # AUTOINCREMENT: SQLite would otherwise reuse the ids of rows a compaction deleted, and
    # an id should name one update forever.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(
        default=None, sa_column=sa.Column(ROW_ID, sa.Identity(), primary_key=True)
    )
    document_id: str = Field(sa_column=_document_ref())
    data: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    # Who made the update: an account id, kept as a plain value (no foreign key) so that the
    # history of a document outlives the account; None for guests and the system.
    author_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(32), nullable=True))
    created_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )


class DocSnapshot(Base, table=True):
    """The folded state of a document: every update compacted so far, as one update."""

    __tablename__ = "doc_snapshots"

    document_id: str = Field(sa_column=_document_ref(primary_key=True))
    state: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    folded_updates: int = Field(
        default=0,
        sa_column=sa.Column(sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )


class DocEdit(Base, table=True):
    """An edit session folded out of the log by compaction: one author's consecutive updates."""

    __tablename__ = "doc_edits"
    __table_args__ = (
        sa.Index("ix_doc_edits_document_id_first_update_id", "document_id", "first_update_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(ROW_ID, sa.Identity(), primary_key=True)
    )
    document_id: str = Field(
        sa_column=sa.Column(
            sa.String(MAX_DOCUMENT_ID_LENGTH),
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    # A plain value like doc_updates.author_id: the history outlives the account.
    author_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(32), nullable=True))
    first_update_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    last_update_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    started_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    ended_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    updates: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))


# Core handles on the tables: the store writes in bulk and reads bytes, no ORM identity map.
documents: sa.Table = metadata.tables["documents"]
doc_updates: sa.Table = metadata.tables["doc_updates"]
doc_snapshots: sa.Table = metadata.tables["doc_snapshots"]
doc_edits: sa.Table = metadata.tables["doc_edits"]
