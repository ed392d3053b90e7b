"""Fixtures of the storage tests: every SQL store test runs on SQLite and on PostgreSQL.

PostgreSQL is the session's throwaway server from the root ``postgres`` fixture (see
:mod:`tests.pg`): skipped when there is none, failed under CI.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import DocumentStore, MemoryStore, SqlStore, create_engine, upgrade_database
from tests.pg import PostgresServer, create_database, drop_database, run_async
from tests.storage.helpers import StoreOpener

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """A PostgreSQL database migrated to head, shared by the session's storage tests.

    Tests keep apart by using fresh document ids.
    """
    url = create_database(postgres.admin_url)
    try:
        run_async(lambda: upgrade_database(url))
        yield url
    finally:
        drop_database(postgres.admin_url, url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


def _migrated_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "postgresql":
        url: str = request.getfixturevalue("migrated_postgres_url")
        return url
    url = f"sqlite+aiosqlite:///{tmp_path / 'gess.db'}"
    run_async(lambda: upgrade_database(url))
    return url


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database: a new SQLite file, or the session's PostgreSQL database."""
    return _migrated_url(backend, request, tmp_path)


@pytest.fixture
def empty_store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any schema: a new SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    postgres: PostgresServer = request.getfixturevalue("postgres")
    url = create_database(postgres.admin_url)
    try:
        yield url
    finally:
        drop_database(postgres.admin_url, url)


@pytest.fixture
async def engine(store_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(store_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def _open_sql_store(url: str, **options: Any) -> AsyncIterator[SqlStore]:
    # Each store gets its own engine, as a separate server process would.
    engine = create_engine(url)
    try:
        async with SqlStore(engine, **options) as store:
            yield store
    finally:
        await engine.dispose()


@pytest.fixture
def open_sql_store(store_url: str) -> StoreOpener:
    """Open a SqlStore (with its own engine) on the test database: ``async with f(**options)``.

    A factory rather than a store fixture: the store's task group must be entered and left
    in one task, and pytest-asyncio sets a fixture up and tears it down in different tasks.
    """
    return functools.partial(_open_sql_store, store_url)


@asynccontextmanager
async def _open_memory_store() -> AsyncIterator[MemoryStore]:
    async with MemoryStore() as store:
        yield store


@pytest.fixture(params=["memory", *BACKENDS])
def open_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[], AbstractAsyncContextManager[DocumentStore]]:
    """Open each implementation of the DocumentStore contract in turn."""
    if request.param == "memory":
        return _open_memory_store
    return functools.partial(_open_sql_store, _migrated_url(request.param, request, tmp_path))


@pytest.fixture
def doc_id() -> str:
    """A document id no other test uses."""
    return f"doc-{uuid.uuid4().hex}"
