"""The handle on the database that the feature queries run on, and the transaction they run in.

The queries (:mod:`storage.people`, :mod:`storage.workspaces`, :mod:`storage.catalog`,
:mod:`storage.comments`, ...) each take an open connection, so that a caller composes several
into one transaction with :meth:`Database.transaction`. The document log has its own store
(:class:`storage.SqlStore`) on the same engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.errors import Conflict, StorageError

__all__ = ["Database"]


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
