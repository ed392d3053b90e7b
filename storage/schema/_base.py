"""What every table of the schema shares: the metadata, the base class and column helpers.

Every table derives from :class:`Base`, whose metadata is private to GESS (not sqlmodel's
global one) and carries a naming convention, so that constraint and index names are the same
on every dialect and a later migration can name what it alters.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

__all__ = [
    "ID_LENGTH",
    "MAX_DOCUMENT_ID_LENGTH",
    "NAMING_CONVENTION",
    "NOW",
    "ROW_ID",
    "Base",
    "metadata",
    "timestamp",
    "user_ref",
]

MAX_DOCUMENT_ID_LENGTH = 200
"""The longest document id the schema stores."""

ID_LENGTH = 32
"""Ids of users, tokens, workspaces, invitations, threads and comments: ``uuid4().hex``."""

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
"""The metadata of every GESS table: the target the migrations are checked against."""

NOW = sa.text("CURRENT_TIMESTAMP")
"""Server default of creation timestamps: the database fills them in, so that rows written by
bulk Core statements, by raw SQL in a migration or by another tool are stamped the same way."""

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""An auto-assigned row id: SQLite only auto-assigns an INTEGER PRIMARY KEY (the rowid
alias); PostgreSQL gets a 64-bit identity column."""


class Base(SQLModel, registry=registry(metadata=metadata)):
    """Root of the GESS tables; subclass it with ``table=True`` to add one."""


def timestamp(*, nullable: bool = False, now: bool = True) -> sa.Column[datetime]:
    """A timezone-aware timestamp column; not nullable ones default to the database's now
    unless ``now`` is False."""
    if nullable or not now:
        return sa.Column(sa.DateTime(timezone=True), nullable=nullable)
    return sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=NOW)


def user_ref(*, nullable: bool = True, on_delete: str = "SET NULL") -> sa.Column[str]:
    """A reference to an account."""
    return sa.Column(
        sa.String(ID_LENGTH), sa.ForeignKey("users.id", ondelete=on_delete), nullable=nullable
    )
