"""Fixtures shared by every test: real server processes, databases, and the CI policy.

Outside CI a missing component (Node, PostgreSQL...) skips the tests that need it, with the
reason; under ``CI=true`` it fails them, so that a green CI run means everything ran.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.integration.redis_server import RedisServer
from tests.integration.redis_server import missing_reason as redis_missing_reason
from tests.integration.server import GessServer, ServerFailed
from tests.interop.node import missing_reason as node_missing_reason
from tests.pg import (
    PostgresServer,
    PostgresUnavailable,
    create_database,
    drop_database,
    provision_postgres,
)

_FAILED = pytest.StashKey[bool]()


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require(reason: str | None) -> None:
    """Skip (fail under CI) when ``reason`` says something needed is missing."""
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"CI=true and a required component is missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


def _test_failed(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.stash.get(_FAILED, False))


class StartServer(Protocol):
    def __call__(
        self,
        database_url: str | None = None,
        data_dir: Path | None = None,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        anonymous: bool = True,
    ) -> Awaitable[GessServer]: ...


@pytest.fixture
async def gess_server(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[StartServer]:
    """Start real ``gess serve`` processes: ``server = await gess_server(database_url=...)``.

    Each has its own free port and, unless ``data_dir`` is given, its own data directory.
    Servers run in open mode (``--anonymous``) unless ``anonymous=False``: then the WebSocket
    requires accounts.
    Every server still running at the end gets SIGTERM; the logs are printed when the test
    failed.
    """
    servers: list[GessServer] = []

    async def start(
        database_url: str | None = None,
        data_dir: Path | None = None,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        anonymous: bool = True,
    ) -> GessServer:
        number = len(servers)
        server = GessServer(
            data_dir=data_dir or tmp_path / f"server{number}",
            log_path=tmp_path / f"server{number}.log",
            database_url=database_url,
            extra_args=extra_args,
            env=env,
            anonymous=anonymous,
        )
        servers.append(server)
        await server.start()
        return server

    yield start

    errors: list[ServerFailed] = []
    for server in servers:
        try:
            await server.stop()
        except ServerFailed as exc:
            errors.append(exc)
    if errors or _test_failed(request):
        for number, server in enumerate(servers):
            print(f"\n===== log of server {number} (port {server.port}) =====")
            print(server.log_text()[-20000:])
    if errors:
        raise errors[0]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL for the whole run (see tests/pg.py)."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(provision_postgres())
        except PostgresUnavailable as exc:
            require(f"PostgreSQL is not available: {exc}")
            raise
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Each storage engine in turn: None (SQLite under the data dir) and a fresh PostgreSQL
    database of its own.

    Request it before ``gess_server`` so that servers stop before their database is dropped.
    """
    if request.param == "sqlite":
        yield None
        return
    postgres: PostgresServer = request.getfixturevalue("postgres")
    url = create_database(postgres.admin_url)
    yield url
    drop_database(postgres.admin_url, url)


@pytest.fixture
async def server(database_url: str | None, gess_server: StartServer) -> GessServer:
    """One running server on each storage engine."""
    return await gess_server(database_url=database_url)


@pytest.fixture
def node() -> None:
    """Require the Node harness (node + ``npm ci`` in tests/interop)."""
    require(node_missing_reason())


@pytest.fixture
async def redis(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RedisServer]:
    """A throwaway ``redis-server`` of the test's own on a free loopback port (see
    tests/integration/redis_server.py); stopped at teardown, its log printed if the test failed.

    Request it before ``gess_server`` so that servers stop before their Redis does.
    """
    require(redis_missing_reason())
    server = RedisServer(directory=tmp_path / "redis")
    await server.start()
    yield server
    server.stop()
    if _test_failed(request):
        print(f"\n===== log of redis-server (port {server.port}) =====")
        print(server.log_text()[-5000:])
