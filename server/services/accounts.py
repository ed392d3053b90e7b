"""The accounts service: registering, signing in and out, the profile, personal API tokens.

The first account becomes the instance's admin; afterwards registration is open, or needs an
invitation token when the server runs with ``--registration invite``. Signing in answers an
unknown address and a wrong password alike, and repeated failures are throttled per address
and IP address. Cookies and response shapes are the routes' (:mod:`server.api.auth_routes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from server.accounts import new_id
from server.email_address import lookup_forms
from server.login_throttle import Throttled
from server.services.activity import push
from server.services.context import ApiServices
from server.services.errors import ApiError, conflict, forbidden, not_found, unauthenticated
from server.services.invitations import accept_invitation, usable_invitation
from server.services.paging import decode_cursor, split_page
from storage.catalog import ActivityRecord
from storage.clock import utcnow
from storage.errors import Conflict
from storage.people import (
    TokenRecord,
    UserRecord,
    count_users,
    delete_token,
    insert_user,
    list_tokens,
    update_user,
    user_by_email,
)
from storage.schema import users

__all__ = [
    "Session",
    "TokenList",
    "create_token",
    "list_personal_tokens",
    "log_in",
    "log_out",
    "register",
    "revoke_token",
    "update_profile",
]


@dataclass(frozen=True, slots=True)
class Session:
    """A new session: its secret token (shown once), its record and its account."""

    token: str
    record: TokenRecord
    user: UserRecord


@dataclass(frozen=True, slots=True)
class TokenList:
    items: list[TokenRecord]
    next_cursor: str | None


async def register(
    services: ApiServices, *, email: str, name: str, password: str, invite_token: str | None
) -> Session:
    """Create an account and a session for it; an invitation token also makes the account a
    member of the invitation's workspace.

    Raises:
        ApiError: 403 registration by invitation only; 409 the address has an account; as
            :func:`~server.services.invitations.usable_invitation` for the token.
    """
    password_hash = await services.passwords.hash(password)
    joined: list[ActivityRecord] = []
    try:
        async with services.database.transaction() as connection:
            # Serialises registrations, so that exactly one account is ever the first.
            await services.database.lock_for_update(connection, users)
            first = await count_users(connection) == 0
            invitation = None
            if invite_token is not None:
                invitation = await usable_invitation(connection, invite_token, email)
            elif services.settings.registration == "invite" and not first:
                raise forbidden(
                    "registration is by invitation only: ask a workspace owner for an invite "
                    "link, or an operator for an account",
                    code="registration_closed",
                )
            user = await insert_user(
                connection,
                user_id=new_id(),
                email=email,
                name=name,
                password_hash=password_hash,
                instance_role="admin" if first else "user",
                now=utcnow(),
            )
            if invitation is not None:
                joined.append(await accept_invitation(connection, invitation, user))
    except Conflict:
        raise conflict(
            "an account with this e-mail address exists: sign in instead", code="email_taken"
        ) from None
    await push(services, joined)
    token, record = await services.tokens.issue(user.id)
    return Session(token, record, user)


async def log_in(services: ApiServices, *, email: str, password: str, client: str) -> Session:
    """A new session for the account with this address and password.

    Raises:
        ApiError: 401 unknown address or wrong password alike; 429 with ``Retry-After``
            after repeated failures for the address and ``client``, or ``client`` alone.
    """
    throttle = services.login_throttle
    forms = lookup_forms(email)
    address = forms[0]
    try:
        throttle.begin(address, client)
    except Throttled as exc:
        raise ApiError(
            429,
            f"{exc.reason}: try again in {exc.retry_after} s",
            code="too_many_attempts",
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    ok: bool | None = None
    try:
        async with services.database.transaction() as connection:
            user = None
            for form in forms:
                user = await user_by_email(connection, form)
                if user is not None:
                    break
        verified = await services.passwords.verify(
            None if user is None else user.password_hash, password
        )
        ok = user is not None and verified
    finally:
        throttle.end(address, client, ok=ok)
    if user is None or not ok:
        raise unauthenticated("wrong e-mail address or password")
    token, record = await services.tokens.issue(user.id)
    return Session(token, record, user)


async def log_out(services: ApiServices, token: TokenRecord) -> None:
    """Revoke the token, and end the live connections it opened."""
    async with services.database.transaction() as connection:
        await delete_token(connection, user_id=token.user_id, token_id=token.id, kind=token.kind)
    services.live.end_token(token.id)


async def update_profile(
    services: ApiServices, user_id: str, values: Mapping[str, object]
) -> UserRecord:
    """Change the profile fields given (401 if the account no longer exists)."""
    async with services.database.transaction() as connection:
        user = await update_user(connection, user_id, values, utcnow())
    if user is None:
        raise unauthenticated("this account no longer exists")
    return user


async def create_token(
    services: ApiServices, by: TokenRecord, *, name: str, expires_in_days: int
) -> tuple[str, TokenRecord]:
    """A personal token of ``by``'s user, and its secret (shown once).

    Raises:
        ApiError: 403 unless ``by`` is a session: a personal token that could mint others
            would outlive its own revocation.
    """
    if by.kind != "session":
        raise forbidden(
            "a personal token cannot create tokens: sign in (a session) to create one",
            code="session_required",
        )
    return await services.tokens.issue(
        by.user_id,
        kind="personal",
        name=name,
        lifetime=timedelta(days=expires_in_days),
    )


async def list_personal_tokens(
    services: ApiServices, user_id: str, *, limit: int, cursor: str | None
) -> TokenList:
    """The user's personal tokens, without their secrets (400 for a bad cursor)."""
    after = decode_cursor(cursor, str)
    async with services.database.transaction() as connection:
        rows = await list_tokens(
            connection,
            user_id,
            kind="personal",
            limit=limit + 1,
            after=None if after is None else str(after[0]),
        )
    page, next_cursor = split_page(rows, limit, lambda row: (row.id,))
    return TokenList(page, next_cursor)


async def revoke_token(services: ApiServices, user_id: str, token_id: str) -> None:
    """Revoke one of the user's personal tokens (404 if it has none such)."""
    async with services.database.transaction() as connection:
        deleted = await delete_token(
            connection, user_id=user_id, token_id=token_id, kind="personal"
        )
    if not deleted:
        raise not_found(f"you have no token {token_id}")
    services.live.end_token(token_id)
