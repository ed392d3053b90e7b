"""Engines: URL checks, the embedded default, and the SQLite connection settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import create_engine, default_sqlite_url


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///gess.db",
        "mysql+aiomysql://user@host/db",
        "postgresql://user@host/db",
        "postgresql+psycopg://user@host/db",
        "not a url",
    ],
)
def test_unsupported_urls_are_rejected(url: str):
    with pytest.raises(ValueError):
        create_engine(url)


def test_default_sqlite_url_creates_the_data_directory(tmp_path: Path):
    data_dir = tmp_path / "gess data" / "nested"
    url = default_sqlite_url(data_dir)
    assert data_dir.is_dir()
    parsed = make_url(url)
    assert parsed.drivername == "sqlite+aiosqlite"
    assert parsed.database == str(data_dir.resolve() / "gess.db")


async def test_sqlite_connections_are_configured(tmp_path: Path):
    engine = create_engine(default_sqlite_url(tmp_path))
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: await connection.scalar(text(f"PRAGMA {name}"))
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    finally:
        await engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,
        "busy_timeout": 5000,
        "foreign_keys": 1,
    }


async def test_sqlite_transactions_take_the_write_lock_up_front(tmp_path: Path):
    url = default_sqlite_url(tmp_path)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            # Only a read so far: a deferred transaction would not hold the write lock yet.
            await connection.execute(text("SELECT 1"))
            other = sqlite3.connect(make_url(url).database or "", timeout=0)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
    finally:
        await engine.dispose()


async def test_store_engines_reach_their_database(engine: AsyncEngine):
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT 1")) == 1
