"""Bring a database's schema to the latest migration, safely from several processes at once.

Every server process calls :func:`upgrade_database` at startup, so N nodes (or N workers)
starting together race to migrate the same database. The first one to take the migration
lock upgrades; the others wait for it and then find nothing left to do.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from storage.engine import create_engine, parse_database_url, snapshot_reader
from storage.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade_database",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "schema" / "migrations"
"""The alembic script directory shipped inside the package."""

# Any fixed 64-bit key works as long as nothing else in the database uses it: this is the
# first 8 bytes of sha256(b"gess-workspaces:migrations").
_PG_LOCK_KEY = 0x1B39_D2F4_6C0A_7E51

_LOCK_POLL_SECONDS = 0.05

HEAD_REVISION = "0005"
"""The newest migration shipped, as :func:`head_revision` finds it in the scripts; a test
holds the two equal, so a new migration must update it."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic configuration for the shipped migrations, built without an ini file.

    Args:
        connection: handed to ``env.py``, which runs the migrations on it.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this code, read from the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError("no migrations are shipped")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at, or None if it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_database(database_url: str) -> None:
    """Apply every migration the database lacks; do nothing if it is at the head.

    A database at :data:`HEAD_REVISION` is recognised by one read, with no lock and without
    loading alembic. Otherwise this holds a lock for the whole upgrade, so concurrent calls
    from any number of tasks or processes apply each migration exactly once:
    ``pg_advisory_xact_lock`` on PostgreSQL, an exclusive ``flock`` on
    ``<database file>.lock`` on SQLite. The lock is taken before alembic runs, which also
    matters within one process: alembic keeps its migration context in a module global, so
    two upgrades interleaving in one event loop would corrupt each other. The upgrade runs
    in one transaction (both dialects have transactional DDL), so a failed migration leaves
    the schema where it was.

    Args:
        database_url: ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://...``. The
            SQLite file's directory must exist.

    Raises:
        ValueError: the URL is malformed or unsupported.
        StorageError: the database cannot be reached, a migration failed, or the database
            is at a revision this code does not know (it was migrated by newer code).
    """
    url = parse_database_url(database_url)
    # The engine only lives for the upgrade: no pool to keep or to dispose of later.
    lock_path = _sqlite_lock_path(url)
    # A SQLite file that is not there yet is certainly not at the head (and connecting to a
    # path whose directory is missing only fails, twice).
    if lock_path is None or await anyio.Path(url.database or "").is_file():
        engine = create_engine(database_url, poolclass=NullPool)
        try:
            if await _at_head(engine):
                return
        finally:
            await engine.dispose()
    await _upgrade(url, database_url)


async def _at_head(engine: AsyncEngine) -> bool:
    """Whether the database records :data:`HEAD_REVISION`, read in a transaction that takes
    no write lock. False for a database never migrated and for any error: the full path
    then decides, and reports the error."""
    try:
        async with snapshot_reader(engine).connect() as connection:
            rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    except (SQLAlchemyError, OSError):
        return False
    return [tuple(row) for row in rows] == [(HEAD_REVISION,)]


async def _upgrade(url: URL, database_url: str) -> None:
    from alembic.util import CommandError

    engine = create_engine(database_url, poolclass=NullPool)
    try:
        async with _exclusive_file_lock(_sqlite_lock_path(url)):
            async with engine.begin() as connection:
                if url.get_backend_name() == "postgresql":
                    # Transaction-scoped, so it is released by the commit or the rollback
                    # even when a migration fails halfway.
                    await connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                    )
                await connection.run_sync(_upgrade_to_head)
    except (SQLAlchemyError, OSError) as exc:
        raise StorageError(f"cannot migrate the database: {exc}") from exc
    except CommandError as exc:
        raise StorageError(f"cannot migrate the database: {exc}") from exc
    finally:
        await engine.dispose()


def _upgrade_to_head(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def _sqlite_lock_path(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        # An in-memory database is private to its connection: nobody to race with.
        return None
    return Path(f"{database}.lock")


@asynccontextmanager
async def _exclusive_file_lock(path: Path | None) -> AsyncIterator[None]:
    """Hold an exclusive flock on ``path`` (created if missing); no-op for None.

    Polls instead of blocking in a worker thread: a thread stuck in ``flock`` cannot be
    cancelled and would take the lock after its caller gave up.
    """
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await anyio.sleep(_LOCK_POLL_SECONDS)
        yield
    finally:
        # Closing the descriptor releases the lock.
        os.close(fd)
