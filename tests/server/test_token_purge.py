"""Expired tokens are deleted: when the purger starts, and periodically while it runs, on a
real (SQLite) database."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from server.accounts import new_id
from server.token_purge import TokenPurger
from storage import create_engine, upgrade_database
from storage.clock import utcnow
from storage.database import Database
from storage.people import insert_token, insert_user
from storage.schema import api_tokens
from tests.interop.node import wait_for


async def _token(database: Database, user_id: str, expires_in: timedelta | None) -> str:
    token_id = new_id()
    async with database.transaction() as connection:
        await insert_token(
            connection,
            token_id=token_id,
            user_id=user_id,
            token_hash=uuid.uuid4().hex * 2,
            kind="session",
            name=None,
            expires_at=None if expires_in is None else utcnow() + expires_in,
            now=utcnow(),
        )
    return token_id


async def _ids(database: Database) -> set[str]:
    async with database.transaction() as connection:
        return set((await connection.execute(sa.select(api_tokens.c.id))).scalars())


async def test_expired_tokens_are_purged_at_start_and_then_periodically(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'gess.db'}"
    await upgrade_database(url)
    engine = create_engine(url)
    database = Database(engine)
    try:
        user_id = new_id()
        async with database.transaction() as connection:
            await insert_user(
                connection,
                user_id=user_id,
                email="amina@example.org",
                name="Amina",
                password_hash="x",
                instance_role="user",
                now=utcnow(),
            )
        old = await _token(database, user_id, timedelta(days=-1))
        valid = await _token(database, user_id, timedelta(days=1))
        forever = await _token(database, user_id, None)
        async with TokenPurger(database, interval=0.05):
            assert await _ids(database) == {valid, forever}
            later = await _token(database, user_id, timedelta(seconds=-1))
            assert later in await _ids(database)

            async def purged() -> bool:
                return await _ids(database) == {valid, forever}

            await wait_for(purged, message="the periodic purge")
        assert old not in await _ids(database)
    finally:
        await engine.dispose()
