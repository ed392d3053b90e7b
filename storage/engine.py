"""Async engines for the two supported databases, chosen by the URL.

``sqlite+aiosqlite:///path`` is the embedded default: one file under the data directory.
``postgresql+asyncpg://...`` is for production and for several server nodes sharing a
database. Nothing else is accepted, so a typo in ``--database-url`` fails at startup rather
than at the first write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["SQLITE_FILE_NAME", "create_engine", "default_sqlite_url", "parse_database_url"]

SQLITE_FILE_NAME = "gess.db"
"""The name of the embedded database file inside the data directory."""

_SUPPORTED = {("sqlite", "aiosqlite"), ("postgresql", "asyncpg")}

# busy_timeout comes first so that switching to WAL, which needs a brief exclusive lock the
# first time, waits for a process that is doing the same instead of failing.
_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=5000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
)

SYNC_MODES = {"power": "FULL", "process": "NORMAL"}
"""What a commit survives, and the SQLite ``synchronous`` setting that gives it.

``power``: the WAL is synced on every commit, so a commit survives a power cut or a kernel
crash; group commit keeps the number of syncs low. ``process``: the commit is in the WAL (in
the operating system's cache) when it returns, so it survives a crash or kill -9 of the
server, but not of the machine; a sync costs ~2 ms on common virtual disks, so this mode
is much faster per commit. PostgreSQL follows its own ``synchronous_commit`` setting.
"""


def parse_database_url(database_url: str) -> URL:
    """Parse and check a database URL.

    Args:
        database_url: ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://...``.

    Returns:
        The parsed URL.

    Raises:
        ValueError: the URL is malformed or names another database or driver.
    """
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise ValueError(f"malformed database URL: {exc}") from exc
    if (url.get_backend_name(), url.get_driver_name()) not in _SUPPORTED:
        raise ValueError(
            f"unsupported database URL {url.render_as_string(hide_password=True)!r}: "
            "use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/database"
        )
    return url


def create_engine(database_url: str, *, durability: str = "power", **options: Any) -> AsyncEngine:
    """Create an async engine for a supported URL.

    SQLite connections get WAL journaling, the ``synchronous`` level of ``durability`` (see
    :data:`SYNC_MODES`), a 5 s busy timeout and foreign keys, and every transaction starts
    with ``BEGIN IMMEDIATE`` (see :func:`_begin_immediate`). The caller owns the engine and
    must ``await engine.dispose()``.

    Args:
        database_url: ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://...``.
        durability: ``power`` or ``process``, for SQLite (see :data:`SYNC_MODES`).
        **options: passed to :func:`sqlalchemy.ext.asyncio.create_async_engine`
            (``poolclass``, ``pool_size``, ``echo``...).

    Returns:
        A new engine; no connection is opened yet.

    Raises:
        ValueError: the URL is malformed or unsupported.
    """
    url = parse_database_url(database_url)
    if durability not in SYNC_MODES:
        raise ValueError(f"durability must be one of {', '.join(SYNC_MODES)}, not {durability!r}")
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, **options)
        pragmas = (*_SQLITE_PRAGMAS, f"PRAGMA synchronous={SYNC_MODES[durability]}")

        def configure(dbapi_connection: Any, record: Any) -> None:
            _configure_sqlite_connection(dbapi_connection, pragmas)

        event.listen(engine.sync_engine, "connect", configure)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    # A pooled connection may have been closed by a database restart; checking it on checkout
    # costs one round trip and spares a whole batch of appends from failing.
    options.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **options)


def default_sqlite_url(data_dir: Path) -> str:
    """The URL of the embedded database file in ``data_dir``, creating the directory.

    Args:
        data_dir: the server's data directory.

    Returns:
        A ``sqlite+aiosqlite:///`` URL with an absolute path to ``data_dir/gess.db``.

    Raises:
        OSError: the directory cannot be created.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = (data_dir / SQLITE_FILE_NAME).resolve()
    return URL.create("sqlite+aiosqlite", database=str(path)).render_as_string()


def _configure_sqlite_connection(dbapi_connection: Any, pragmas: tuple[str, ...]) -> None:
    # The sqlite3 module's own transaction handling issues a deferred BEGIN only before DML;
    # disabling it lets _begin_immediate decide how every transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in pragmas:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _begin_immediate(connection: Connection) -> None:
    # A deferred transaction that reads and then writes cannot wait for the write lock in WAL
    # mode: it fails with SQLITE_BUSY as soon as another writer committed since its read.
    # Taking the write lock up front makes read-modify-write transactions (compaction) and
    # concurrent processes queue on busy_timeout instead, one after the other.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
