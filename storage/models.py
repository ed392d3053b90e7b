"""The database schema as sqlmodel tables.

Every table derives from :class:`Base`, whose metadata is private to GESS (not sqlmodel's
global one) and carries a naming convention, so that constraint and index names are the same
on every dialect and a later migration can name what it alters. The schema of a live database
is changed only by the migrations in ``storage/migrations``; a test checks that applying them
yields exactly this metadata.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = [
    "MAX_DOCUMENT_ID_LENGTH",
    "NAMING_CONVENTION",
    "Base",
    "DocSnapshot",
    "DocUpdate",
    "Document",
    "doc_snapshots",
    "doc_updates",
    "documents",
    "metadata",
]

MAX_DOCUMENT_ID_LENGTH = 200
"""The longest document id the schema stores."""

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
"""The metadata of every GESS table: the target the migrations are checked against."""

# The database fills timestamps in, so that rows written by bulk Core statements, by raw SQL
# in a migration or by another tool are stamped the same way.
_NOW = sa.text("CURRENT_TIMESTAMP")


class Base(SQLModel, registry=registry(metadata=metadata)):
    """Root of the GESS tables; subclass it with ``table=True`` to add one."""


class Document(Base, table=True):
    """A shared document. Its row is created when it is first loaded."""

    __tablename__ = "documents"

    id: str = Field(sa_column=sa.Column(sa.String(MAX_DOCUMENT_ID_LENGTH), primary_key=True))
    created_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )
    # Rewritten when the stored state is rewritten (creation, compaction), not on every
    # append: touching the row per commit would contend with a compaction's row lock.
    updated_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )


class DocUpdate(Base, table=True):
    """One committed Yjs v1 update of a document, not yet folded into its snapshot."""

    __tablename__ = "doc_updates"
    # AUTOINCREMENT: SQLite would otherwise reuse the ids of rows a compaction deleted, and
    # an id should name one update forever.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            # SQLite only auto-assigns an INTEGER PRIMARY KEY (the rowid alias); PostgreSQL
            # gets a 64-bit identity column.
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            primary_key=True,
        ),
    )
    document_id: str = Field(
        sa_column=sa.Column(
            sa.String(MAX_DOCUMENT_ID_LENGTH),
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    data: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    # Who made the update: an account id, kept as a plain value (no foreign key) so that the
    # history of a document outlives the account; None for guests and the system.
    author_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(32), nullable=True))
    created_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )


class DocSnapshot(Base, table=True):
    """The folded state of a document: every update compacted so far, as one update."""

    __tablename__ = "doc_snapshots"

    document_id: str = Field(
        sa_column=sa.Column(
            sa.String(MAX_DOCUMENT_ID_LENGTH),
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    state: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    folded_updates: int = Field(
        default=0,
        sa_column=sa.Column(sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )


# Core handles on the tables: the store writes in bulk and reads bytes, no ORM identity map.
documents: sa.Table = metadata.tables["documents"]
doc_updates: sa.Table = metadata.tables["doc_updates"]
doc_snapshots: sa.Table = metadata.tables["doc_snapshots"]
