"""Yjs helpers for the storage tests: produce real updates, read back text."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from pycrdt import Doc, Text
from sqlalchemy import func, select, text

from crdt.document import Document
from storage import SqlStore, create_engine
from storage.schema import doc_snapshots, doc_updates

__all__ = [
    "Editor",
    "StoreOpener",
    "log_counts",
    "rejecting_trigger",
    "text_of",
    "write_lock",
]

StoreOpener = Callable[..., AbstractAsyncContextManager[SqlStore]]
"""``open_sql_store(**SqlStore options)``: an async context manager yielding an open store."""

TEXT = "t"


class Editor:
    """A client editing one text; each edit returns the update it produced."""

    def __init__(self, client_id: int | None = None) -> None:
        self.doc: Doc[Any] = Doc(client_id=client_id)
        self.text = self.doc.get(TEXT, type=Text)

    def insert(self, index: int, value: str) -> bytes:
        before = self.doc.get_state()
        self.text.insert(index, value)
        return self.doc.get_update(before)

    def append(self, value: str) -> bytes:
        return self.insert(len(self.text), value)

    def delete(self, start: int, stop: int) -> bytes:
        before = self.doc.get_state()
        del self.text[start:stop]
        return self.doc.get_update(before)

    @property
    def value(self) -> str:
        return str(self.text)


def text_of(updates: Iterable[bytes]) -> str:
    """The text a document built from ``updates`` (in the given order) holds."""
    return str(Document(updates).ydoc.get(TEXT, type=Text))


@asynccontextmanager
async def write_lock(database_url: str) -> AsyncIterator[None]:
    """Hold the log's write lock from another connection: commits of doc_updates wait.

    On SQLite the whole database (``BEGIN IMMEDIATE``), on PostgreSQL the ``doc_updates``
    table (inserts wait, reads do not). Release it within SQLite's 5 s busy timeout.
    """
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            try:
                if connection.dialect.name == "postgresql":
                    await connection.execute(
                        text("LOCK TABLE doc_updates IN SHARE ROW EXCLUSIVE MODE")
                    )
                yield
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()


@asynccontextmanager
async def rejecting_trigger(database_url: str, payload: bytes) -> AsyncIterator[None]:
    """Make the database refuse to insert a log entry equal to ``payload``, for a while."""
    name = f"reject_{uuid.uuid4().hex[:8]}"
    if database_url.startswith("sqlite"):
        create = [
            f"CREATE TRIGGER {name} BEFORE INSERT ON doc_updates "
            f"WHEN NEW.data = X'{payload.hex()}' "
            "BEGIN SELECT RAISE(ABORT, 'update rejected by test trigger'); END"
        ]
        drop = [f"DROP TRIGGER {name}"]
    else:
        create = [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.data = '\\x{payload.hex()}'::bytea THEN "
            "RAISE EXCEPTION 'update rejected by test trigger'; END IF; RETURN NEW; END $$",
            f"CREATE TRIGGER {name} BEFORE INSERT ON doc_updates "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
        drop = [f"DROP TRIGGER {name} ON doc_updates", f"DROP FUNCTION {name}()"]
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            for statement in create:
                await connection.execute(text(statement))
        try:
            yield
        finally:
            async with engine.begin() as connection:
                for statement in drop:
                    await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def log_counts(database_url: str, document_id: str) -> tuple[int, int]:
    """``(entries ever folded into the snapshot, entries in the log)`` of a document."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            folded = await connection.scalar(
                select(doc_snapshots.c.folded_updates).where(
                    doc_snapshots.c.document_id == document_id
                )
            )
            logged = await connection.scalar(
                select(func.count())
                .select_from(doc_updates)
                .where(doc_updates.c.document_id == document_id)
            )
    finally:
        await engine.dispose()
    return int(folded or 0), int(logged or 0)
