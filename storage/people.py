"""Queries of users and their tokens, on a connection the caller's transaction holds.

Token secrets never reach this module: callers pass the SHA-256 of a token, so a leaked
database does not leak working tokens.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.clock import as_utc
from storage.records import Record, UtcDatetime
from storage.schema import api_tokens, users

__all__ = [
    "TokenRecord",
    "UserRecord",
    "count_users",
    "delete_token",
    "delete_token_by_hash",
    "get_user",
    "insert_token",
    "insert_user",
    "list_tokens",
    "list_users",
    "live_tokens",
    "purge_expired_tokens",
    "set_instance_role",
    "token_owner",
    "update_user",
    "user_by_email",
]

PROFILE_FIELDS = frozenset({"name", "actor_type", "organisation", "country"})
"""The columns :func:`update_user` may change."""


class UserRecord(Record):
    """An account (its columns of ``users``)."""

    id: str
    email: str
    name: str
    password_hash: str
    instance_role: str
    actor_type: str | None
    organisation: str | None
    country: str | None
    created_at: UtcDatetime


class TokenRecord(Record):
    """A bearer token, without its hash (its columns of ``api_tokens``)."""

    id: str
    user_id: str
    kind: str
    name: str | None
    created_at: UtcDatetime
    expires_at: UtcDatetime | None


_USER_COLUMNS = [users.c[name] for name in UserRecord.model_fields]
_TOKEN_COLUMNS = [api_tokens.c[name] for name in TokenRecord.model_fields]


async def count_users(connection: AsyncConnection) -> int:
    result = await connection.scalar(sa.select(sa.func.count()).select_from(users))
    return int(result or 0)


async def insert_user(
    connection: AsyncConnection,
    *,
    user_id: str,
    email: str,
    name: str,
    password_hash: str,
    instance_role: str,
    now: datetime,
) -> UserRecord:
    """Create an account; ``email`` must already be lower-cased.

    Raises:
        Conflict: (from the transaction) the e-mail address is taken.
    """
    await connection.execute(
        users.insert().values(
            id=user_id,
            email=email,
            name=name,
            password_hash=password_hash,
            instance_role=instance_role,
            created_at=now,
            updated_at=now,
        )
    )
    return UserRecord(
        id=user_id,
        email=email,
        name=name,
        password_hash=password_hash,
        instance_role=instance_role,
        actor_type=None,
        organisation=None,
        country=None,
        created_at=now,
    )


async def get_user(connection: AsyncConnection, user_id: str) -> UserRecord | None:
    row = (await connection.execute(sa.select(*_USER_COLUMNS).where(users.c.id == user_id))).first()
    return None if row is None else UserRecord.model_validate(row)


async def user_by_email(connection: AsyncConnection, email: str) -> UserRecord | None:
    """The account of a (lower-cased) e-mail address."""
    statement = sa.select(*_USER_COLUMNS).where(users.c.email == email)
    row = (await connection.execute(statement)).first()
    return None if row is None else UserRecord.model_validate(row)


async def list_users(
    connection: AsyncConnection, *, limit: int, after: str | None = None
) -> list[UserRecord]:
    """Accounts in e-mail order, starting after the address ``after``."""
    statement = sa.select(*_USER_COLUMNS).order_by(users.c.email).limit(limit)
    if after is not None:
        statement = statement.where(users.c.email > after)
    return [UserRecord.model_validate(row) for row in await connection.execute(statement)]


async def update_user(
    connection: AsyncConnection, user_id: str, values: Mapping[str, object], now: datetime
) -> UserRecord | None:
    """Change profile fields (:data:`PROFILE_FIELDS` only); the account, or None if unknown.

    Raises:
        ValueError: ``values`` names another column.
    """
    unknown = set(values) - PROFILE_FIELDS
    if unknown:
        raise ValueError(f"not profile fields: {', '.join(sorted(unknown))}")
    if values:
        await connection.execute(
            users.update().where(users.c.id == user_id).values(**values, updated_at=now)
        )
    return await get_user(connection, user_id)


async def set_instance_role(
    connection: AsyncConnection, email: str, role: str
) -> UserRecord | None:
    """Make an account ``admin`` or ``user``; the account, or None if the address is unknown."""
    await connection.execute(
        users.update().where(users.c.email == email).values(instance_role=role)
    )
    return await user_by_email(connection, email)


async def insert_token(
    connection: AsyncConnection,
    *,
    token_id: str,
    user_id: str,
    token_hash: str,
    kind: str,
    name: str | None,
    expires_at: datetime | None,
    now: datetime,
) -> TokenRecord:
    await connection.execute(
        api_tokens.insert().values(
            id=token_id,
            user_id=user_id,
            token_hash=token_hash,
            kind=kind,
            name=name,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return TokenRecord(
        id=token_id, user_id=user_id, kind=kind, name=name, created_at=now, expires_at=expires_at
    )


async def token_owner(
    connection: AsyncConnection, token_hash: str, now: datetime
) -> tuple[UserRecord, TokenRecord] | None:
    """The account and token of a token hash, or None if unknown, revoked or expired."""
    statement = (
        sa.select(*_USER_COLUMNS, *[c.label(f"token_{c.name}") for c in _TOKEN_COLUMNS])
        .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
        .where(api_tokens.c.token_hash == token_hash)
    )
    row = (await connection.execute(statement)).first()
    if row is None:
        return None
    token = TokenRecord.model_validate(
        {name: row._mapping[f"token_{name}"] for name in TokenRecord.model_fields}
    )
    if token.expires_at is not None and token.expires_at <= now:
        return None
    return UserRecord.model_validate(row), token


async def list_tokens(
    connection: AsyncConnection, user_id: str, *, kind: str, limit: int, after: str | None
) -> list[TokenRecord]:
    """A user's tokens of one kind, in id order, starting after the id ``after``."""
    statement = (
        sa.select(*_TOKEN_COLUMNS)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.kind == kind)
        .order_by(api_tokens.c.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(api_tokens.c.id > after)
    return [TokenRecord.model_validate(row) for row in await connection.execute(statement)]


async def delete_token(
    connection: AsyncConnection, *, user_id: str, token_id: str, kind: str
) -> bool:
    """Revoke one of a user's tokens; False if they have no such token."""
    result = await connection.execute(
        api_tokens.delete().where(
            api_tokens.c.id == token_id,
            api_tokens.c.user_id == user_id,
            api_tokens.c.kind == kind,
        )
    )
    return bool(result.rowcount)


async def delete_token_by_hash(connection: AsyncConnection, token_hash: str) -> bool:
    """Revoke the token with this hash; False if there is none."""
    result = await connection.execute(
        api_tokens.delete().where(api_tokens.c.token_hash == token_hash)
    )
    return bool(result.rowcount)


async def purge_expired_tokens(connection: AsyncConnection, now: datetime) -> int:
    """Delete every token (session or personal) that expired at or before ``now``; how many.

    They are refused already (:func:`token_owner`); this only keeps the table from growing
    with every sign-in for ever.
    """
    result = await connection.execute(
        api_tokens.delete().where(
            api_tokens.c.expires_at.is_not(None), api_tokens.c.expires_at <= now
        )
    )
    return int(result.rowcount or 0)


async def live_tokens(
    connection: AsyncConnection, token_ids: Collection[str], now: datetime
) -> set[str]:
    """Which of these tokens still exist and have not expired at ``now``."""
    ids = list(token_ids)
    live: set[str] = set()
    # In slices: SQLite bounds the parameters of one statement.
    for start in range(0, len(ids), 500):
        statement = sa.select(api_tokens.c.id, api_tokens.c.expires_at).where(
            api_tokens.c.id.in_(ids[start : start + 500])
        )
        live.update(
            row.id
            for row in await connection.execute(statement)
            if row.expires_at is None or as_utc(row.expires_at) > now
        )
    return live
