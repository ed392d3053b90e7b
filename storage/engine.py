"""Async engines for the two supported databases, chosen by the URL.

``sqlite+aiosqlite:///path`` is the embedded default: one file under the data directory.
``postgresql+asyncpg://...`` is for production and for several server nodes sharing a
database. Nothing else is accepted, so a typo in ``--database-url`` fails at startup rather
than at the first write.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.schema.log import doc_updates, documents

__all__ = [
    "SQLITE_FILE_NAME",
    "SqliteAppender",
    "create_engine",
    "default_sqlite_url",
    "open_sqlite_appender",
    "parse_database_url",
    "snapshot_reader",
]

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

# The pragmas each SQLite engine made by create_engine gives its connections, so that the
# appender's own connection gets the same ones without asking the engine (which would take
# the write lock: every engine transaction begins IMMEDIATE).
_ENGINE_PRAGMAS: weakref.WeakKeyDictionary[Engine, tuple[str, ...]] = weakref.WeakKeyDictionary()


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
    with ``BEGIN IMMEDIATE`` (see :func:`_begin`) unless it comes from
    :func:`snapshot_reader`. The caller owns the engine and
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
        _ENGINE_PRAGMAS[engine.sync_engine] = pragmas
        event.listen(engine.sync_engine, "begin", _begin)
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
    # disabling it lets _begin decide how every transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in pragmas:
            cursor.execute(pragma)
    finally:
        cursor.close()


_READ_ONLY = "gess_read_only"
"""Execution option of :func:`snapshot_reader`'s SQLite connections."""


def snapshot_reader(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (and pool), for transactions that only read, from one snapshot.

    Every statement of such a transaction sees the database as of its first statement, and
    it takes no write lock: on SQLite it begins deferred (WAL readers never wait for the
    writer, nor make it wait), on PostgreSQL it is ``REPEATABLE READ, READ ONLY``. Writing
    in it fails.

    Args:
        engine: from :func:`create_engine`.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_READ_ONLY: True})
    return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def _begin(connection: Connection) -> None:
    if connection.get_execution_options().get(_READ_ONLY):
        # A reader: its snapshot starts with its first read, and no writer waits for it.
        connection.exec_driver_sql("BEGIN")
        return
    # A deferred transaction that reads and then writes cannot wait for the write lock in WAL
    # mode: it fails with SQLITE_BUSY as soon as another writer committed since its read.
    # Taking the write lock up front makes read-modify-write transactions and concurrent
    # processes queue on busy_timeout instead, one after the other.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


_INSERT_UPDATE = f"INSERT INTO {doc_updates.name} (document_id, data, author_id) VALUES (?, ?, ?)"
_IDS_PER_STATEMENT = 1000
"""Bound on the ids in one ``IN (...)`` list (SQLite allows 32766 bind parameters)."""


class SqliteAppender:
    """The log appends of a SQLite store, on a ``sqlite3`` connection of their own.

    Through the async engine a batch costs four trips between the event loop and the
    driver's thread (BEGIN, INSERT, COMMIT, and SQLAlchemy's work around each); here it is
    one call into a thread of the appender's own that begins, inserts every row and
    commits. The connection is used by nothing else, and only by that thread, one call
    after the other. Build it with :func:`open_sqlite_appender`, which copies the engine's
    settings.

    The hop is a plain executor future rather than ``anyio.to_thread.run_sync``: that
    yields to the event loop twice before handing the call over (its checkpoint and its
    capacity limiter's), and on a loop busy sending to readers each turn is a wait behind
    all of them, on every commit. The wait for the thread is shielded like anyio's, so a
    cancellation takes effect once the transaction is over, never with its outcome unknown.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gess-sqlite-append")
        self._closed = False

    @property
    def synchronous(self) -> int:
        """The connection's ``PRAGMA synchronous`` level (2 FULL, 1 NORMAL)."""
        level: int = self._connection.execute("PRAGMA synchronous").fetchone()[0]
        return level

    async def append(
        self, rows: Sequence[tuple[str, bytes, str | None]], *, check: bool
    ) -> set[str]:
        """Append ``(document_id, update, author_id)`` rows in one transaction.

        Args:
            rows: the log entries, in order.
            check: look up which documents exist first and insert only their rows, so
                that one stale append is refused alone. Without it a missing document
                fails the whole transaction with :class:`sqlite3.IntegrityError`.

        Returns:
            The documents whose rows were inserted.

        Raises:
            sqlite3.Error: the transaction failed and was rolled back; nothing was stored.
        """
        if self._closed:
            raise sqlite3.ProgrammingError("the appender is closed")
        future = self._thread.submit(self._write, rows, check)
        with anyio.CancelScope(shield=True):
            known = await asyncio.wrap_future(future)
        return known

    async def aclose(self) -> None:
        """Close the connection, after the append under way if any."""
        if self._closed:
            return
        self._closed = True
        future = self._thread.submit(self._connection.close)
        self._thread.shutdown(wait=False)
        with anyio.CancelScope(shield=True):
            await asyncio.wrap_future(future)

    def _write(self, rows: Sequence[tuple[str, bytes, str | None]], check: bool) -> set[str]:
        connection = self._connection
        ids = sorted({row[0] for row in rows})
        connection.execute("BEGIN IMMEDIATE")
        try:
            known = _existing(connection, ids) if check else set(ids)
            connection.executemany(_INSERT_UPDATE, [row for row in rows if row[0] in known])
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return known


async def open_sqlite_appender(engine: AsyncEngine) -> SqliteAppender | None:
    """An appender on the file of a SQLite engine, with the same pragmas, or None.

    The pragmas (durability included) are those :func:`create_engine` gave the engine; an
    engine made otherwise gets the defaults of ``durability="power"``. None for PostgreSQL
    and for in-memory SQLite (a second connection would see another database): those
    append through the engine.

    Raises:
        sqlite3.Error: the file cannot be opened or configured.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or engine.url.query.get("mode") == "memory":
        return None
    default = (*_SQLITE_PRAGMAS, f"PRAGMA synchronous={SYNC_MODES['power']}")
    pragmas = _ENGINE_PRAGMAS.get(engine.sync_engine, default)

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        try:
            _configure_sqlite_connection(connection, pragmas)
        except BaseException:
            connection.close()
            raise
        return connection

    return SqliteAppender(await anyio.to_thread.run_sync(connect))


def _existing(connection: sqlite3.Connection, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        chunk = ids[start : start + _IDS_PER_STATEMENT]
        marks = ", ".join("?" * len(chunk))
        query = f"SELECT id FROM {documents.name} WHERE id IN ({marks})"
        found.update(row[0] for row in connection.execute(query, chunk))
    return found
