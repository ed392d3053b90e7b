"""Provision a throwaway PostgreSQL for tests: plain functions, reusable outside pytest.

Preference order (see :func:`provision_postgres`):

1. a private cluster started from ``initdb``/``pg_ctl`` in a temporary directory (run as the
   ``postgres`` OS user when we are root, since ``initdb`` refuses root), on a free port,
   with fsync off, deleted afterwards;
2. the server at ``GESS_TEST_POSTGRES_URL``;
3. a local server at ``postgresql://postgres@127.0.0.1:5432``.

In cases 2 and 3 a uniquely named database is created and dropped afterwards. The
integration tests start real server processes with the URLs this module hands out.

Call these functions from synchronous code: the asynchronous steps run on a private event
loop in a worker thread, so they never disturb a test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.integration.server import free_port

__all__ = [
    "LOCAL_ADMIN_URL",
    "PostgresCluster",
    "PostgresServer",
    "PostgresUnavailable",
    "create_database",
    "drop_database",
    "find_pg_bin",
    "provision_postgres",
    "run_async",
    "start_cluster",
    "stop_cluster",
]

LOCAL_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ENV_URL = "GESS_TEST_POSTGRES_URL"

_T = TypeVar("_T")


class PostgresUnavailable(RuntimeError):
    """No way to get a PostgreSQL database worked; the message says what was tried."""


@dataclass(frozen=True)
class PostgresCluster:
    """A running throwaway cluster."""

    root: Path
    bin_dir: Path
    port: int
    run_as: str | None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def admin_url(self) -> str:
        """A superuser URL (libpq/asyncpg form) to the ``postgres`` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


@dataclass(frozen=True)
class PostgresServer:
    """What :func:`provision_postgres` hands out."""

    url: str
    """A fresh, empty database, in asyncpg form (``postgresql+asyncpg://``)."""
    admin_url: str
    """A superuser URL in libpq form, for :func:`create_database` of more databases."""


def run_async(factory: Callable[[], Awaitable[_T]]) -> _T:
    """Run a coroutine to completion on a fresh event loop in a worker thread."""
    result: list[_T] = []
    errors: list[BaseException] = []

    async def main() -> None:
        result.append(await factory())

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # handed to the calling thread below
            errors.append(exc)

    thread = threading.Thread(target=target, name="tests.pg.run_async")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None."""
    initdb = shutil.which("initdb")
    if initdb is not None:
        path = Path(initdb).resolve().parent
        if (path / "pg_ctl").exists():
            return path
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        path = Path(candidate)
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    return None


def _run(cluster_user: str | None, *argv: str) -> None:
    command = ["runuser", "-u", cluster_user, "--", *argv] if cluster_user else list(argv)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if completed.returncode != 0:
        raise PostgresUnavailable(
            f"{' '.join(command)} failed ({completed.returncode}):\n"
            f"{completed.stdout}\n{completed.stderr}"
        )


def start_cluster(bin_dir: Path) -> PostgresCluster:
    """Initialise and start a private cluster; the caller must :func:`stop_cluster` it.

    Raises:
        PostgresUnavailable: initdb or pg_ctl failed (the temp directory is removed).
    """
    run_as = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="gess-pg-"))
    try:
        if run_as is not None:
            shutil.chown(root, user=run_as, group=None)
        data = root / "data"
        _run(
            run_as,
            str(bin_dir / "initdb"),
            "-D", str(data),
            "-U", "postgres",
            "-A", "trust",
            "-E", "UTF8",
            "--no-locale",
            "--no-sync",
        )  # fmt: skip
        # The free port may be taken between probing and binding; a second try is enough.
        for attempt in range(2):
            port = free_port()
            options = (
                f"-p {port} -F -c listen_addresses=127.0.0.1 "
                f"-c unix_socket_directories={root} -c max_connections=200"
            )
            try:
                _run(
                    run_as,
                    str(bin_dir / "pg_ctl"),
                    "-D", str(data),
                    "-l", str(root / "server.log"),
                    "-o", options,
                    "-w",
                    "-t", "30",
                    "start",
                )  # fmt: skip
                return PostgresCluster(root=root, bin_dir=bin_dir, port=port, run_as=run_as)
            except PostgresUnavailable:
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def stop_cluster(cluster: PostgresCluster) -> None:
    """Stop the cluster at once (its data is thrown away) and delete its directory."""
    try:
        _run(
            cluster.run_as,
            str(cluster.bin_dir / "pg_ctl"),
            "-D", str(cluster.data_dir),
            "-m", "immediate",
            "-w",
            "stop",
        )  # fmt: skip
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)


def _with_database(admin_url: str, database: str) -> str:
    head, _, _ = admin_url.rpartition("/")
    return f"{head}/{database}"


def create_database(admin_url: str, name: str | None = None) -> str:
    """Create a database and return its URL in asyncpg form (``postgresql+asyncpg://``).

    Args:
        admin_url: a URL of a role allowed to create databases.
        name: the database name; a unique ``gess_test_...`` name by default.
    """
    database = name or f"gess_test_{uuid.uuid4().hex[:12]}"

    run_async(lambda: _admin(admin_url, f'CREATE DATABASE "{database}"'))
    return _asyncpg_url(_with_database(admin_url, database))


def drop_database(admin_url: str, database_url: str) -> None:
    """Drop a database created by :func:`create_database`, disconnecting its clients."""
    database = database_url.rpartition("/")[2]

    run_async(lambda: _admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


async def _admin(admin_url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run in a transaction, hence AUTOCOMMIT.
    engine = create_async_engine(
        _asyncpg_url(admin_url),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"timeout": 10},
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _reachable(admin_url: str) -> bool:
    try:
        run_async(lambda: _admin(admin_url, "SELECT 1"))
    except (TimeoutError, OSError, SQLAlchemyError):
        return False
    return True


@contextlib.contextmanager
def provision_postgres() -> Iterator[PostgresServer]:
    """Yield a fresh, empty database and throw everything away afterwards.

    Databases made with :func:`create_database` on ``admin_url`` go away with it too when
    the server is a private cluster; on a shared server, drop them yourself.

    Raises:
        PostgresUnavailable: no cluster could be started and no server was reachable.
    """
    tried: list[str] = []
    bin_dir = find_pg_bin()
    if bin_dir is not None:
        try:
            cluster = start_cluster(bin_dir)
        except PostgresUnavailable as exc:
            tried.append(f"private cluster from {bin_dir}: {exc}")
        else:
            try:
                url = create_database(cluster.admin_url)
                yield PostgresServer(url=url, admin_url=cluster.admin_url)
            finally:
                stop_cluster(cluster)
            return
    else:
        tried.append("private cluster: no initdb/pg_ctl on PATH or in /usr/lib/postgresql")
    for admin_url in (os.environ.get(ENV_URL), LOCAL_ADMIN_URL):
        if not admin_url:
            continue
        admin_url = admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        if not _reachable(admin_url):
            tried.append(f"server at {admin_url}: unreachable")
            continue
        url = create_database(admin_url)
        try:
            yield PostgresServer(url=url, admin_url=admin_url)
        finally:
            drop_database(admin_url, url)
        return
    raise PostgresUnavailable("no PostgreSQL for tests; tried:\n" + "\n".join(tried))


def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)
