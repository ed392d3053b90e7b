"""What a document refused: per client id, the lowest clock of its changes that were refused.

When a connection that may not write sends changes, the room refuses them; but the client
keeps them, builds on them once it may write, and sends them all again when it reconnects
(a stock ``y-websocket`` sends its whole state). The room therefore remembers, per document,
the client ids whose changes it refused and from which clock, and refuses whatever later
carries changes of those clients at or past that clock. The memory must outlive the room
and be shared by every node (the client may reconnect anywhere, after a restart), hence this
table.

It is bounded: at most :data:`MAX_REFUSED_CLIENTS` client ids per document, the oldest
forgotten first. A stock client uses one client id per page load, so the bound is reached
only by a client that invents ids, and forgetting one of those harms nobody honest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage._ids import check_document_id
from storage.errors import StorageError
from storage.schema.refusals import doc_refusals

__all__ = [
    "MAX_REFUSED_CLIENTS",
    "MemoryRefusals",
    "Refusals",
    "SqlRefusals",
]

MAX_REFUSED_CLIENTS = 256
"""The most client ids remembered per document."""


class Refusals(Protocol):
    """The port: remembered refusals, per document.

    Implementations: :class:`SqlRefusals` and :class:`MemoryRefusals` (the fake).
    """

    async def load(self, document_id: str) -> dict[int, int]:
        """Client id → lowest refused clock, for a document (empty if none).

        Raises:
            StorageError: the database failed.
        """
        ...

    async def record(self, document_id: str, clocks: Mapping[int, int]) -> None:
        """Remember refused clocks; a client already remembered keeps the lower clock.

        Args:
            document_id: a document the store has created (an unknown one is ignored).
            clocks: client id → lowest clock refused now.

        Raises:
            StorageError: the database failed; nothing was recorded.
        """
        ...


def _merge(current: dict[int, int], clocks: Mapping[int, int]) -> None:
    for client, clock in clocks.items():
        current[client] = min(clock, current.get(client, clock))


class MemoryRefusals:
    """:class:`Refusals` in a dict, with the same bound. Nothing survives the process."""

    def __init__(self) -> None:
        self._documents: dict[str, dict[int, int]] = {}

    async def load(self, document_id: str) -> dict[int, int]:
        check_document_id(document_id)
        return dict(self._documents.get(document_id, {}))

    async def record(self, document_id: str, clocks: Mapping[int, int]) -> None:
        check_document_id(document_id)
        current = self._documents.setdefault(document_id, {})
        _merge(current, clocks)
        while len(current) > MAX_REFUSED_CLIENTS:
            del current[next(iter(current))]


class SqlRefusals:
    """:class:`Refusals` in the ``doc_refusals`` table (SQLite or PostgreSQL).

    Args:
        engine: the node's engine; the caller owns it.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load(self, document_id: str) -> dict[int, int]:
        check_document_id(document_id)
        query = sa.select(doc_refusals.c.client, doc_refusals.c.clock).where(
            doc_refusals.c.document_id == document_id
        )
        try:
            async with self._engine.connect() as connection:
                rows = (await connection.execute(query)).all()
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"cannot read the refusals of {document_id!r}: {exc}") from exc
        return {int(client): int(clock) for client, clock in rows}

    async def record(self, document_id: str, clocks: Mapping[int, int]) -> None:
        check_document_id(document_id)
        if not clocks:
            return
        insert = (
            postgresql.insert(doc_refusals)
            if self._engine.dialect.name == "postgresql"
            else sqlite.insert(doc_refusals)
        )
        rows = [{"document_id": document_id, "client": c, "clock": k} for c, k in clocks.items()]
        statement = insert.values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=[doc_refusals.c.document_id, doc_refusals.c.client],
            set_={
                "clock": sa.case(
                    (statement.excluded.clock < doc_refusals.c.clock, statement.excluded.clock),
                    else_=doc_refusals.c.clock,
                )
            },
        )
        oldest = (
            sa.select(doc_refusals.c.client)
            .where(doc_refusals.c.document_id == document_id)
            .order_by(doc_refusals.c.created_at.desc(), doc_refusals.c.client)
            .offset(MAX_REFUSED_CLIENTS)
        )
        try:
            async with self._engine.begin() as connection:
                # Only for a document the store created: one deleted meanwhile needs none.
                found = await connection.execute(
                    sa.text("SELECT 1 FROM documents WHERE id = :document_id"),
                    {"document_id": document_id},
                )
                if found.first() is None:
                    return
                await connection.execute(statement)
                await connection.execute(
                    sa.delete(doc_refusals).where(
                        doc_refusals.c.document_id == document_id,
                        doc_refusals.c.client.in_(oldest.scalar_subquery()),
                    )
                )
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"cannot record refusals of {document_id!r}: {exc}") from exc
