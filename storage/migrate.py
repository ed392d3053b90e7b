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

import anyio
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from storage.engine import create_engine, parse_database_url
from storage.errors import StorageError

__all__ = [
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


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic configuration for the shipped migrations, built without an ini file.

    Args:
        connection: handed to ``env.py``, which runs the migrations on it.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError("no migrations are shipped")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at, or None if it was never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_database(database_url: str) -> None:
    """Apply every migration the database lacks; do nothing if it is at the head.

    Holds a lock for the whole upgrade, so concurrent calls from any number of tasks or
    processes apply each migration exactly once: ``pg_advisory_xact_lock`` on PostgreSQL,
    an exclusive ``flock`` on ``<database file>.lock`` on SQLite. The lock is taken before
    alembic runs, which also matters within one process: alembic keeps its migration context
    in a module global, so two upgrades interleaving in one event loop would corrupt each
    other. The upgrade runs in one
    transaction (both dialects have transactional DDL), so a failed migration leaves the
    schema where it was.

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
