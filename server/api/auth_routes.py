"""Accounts: register, sign in and out, the profile, and personal API tokens.

Signing in returns a token for ``Authorization: Bearer`` and also sets the browser's cookies:
``gess_session`` (HttpOnly, SameSite=Lax: the same token) and ``gess_csrf`` (readable by the
page, to echo in ``X-CSRF-Token`` on state-changing calls authenticated by the cookie).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import Query
from starlette.responses import JSONResponse, Response

from server.accounts import CSRF_COOKIE, SESSION_COOKIE, new_id
from server.api.common import user_out
from server.api.dependencies import Call, PublicCall, SignedInCall
from server.api.errors import ApiError, conflict, forbidden, not_found, unauthenticated
from server.api.models import (
    LoginIn,
    PageQuery,
    ProfilePatch,
    RegisterIn,
    SessionOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
    TokenPage,
    UserOut,
)
from server.api.routing import api_router, errors
from server.email_address import lookup_forms
from server.login_throttle import Throttled
from server.services.activity import push
from server.services.invitations import accept_invitation, usable_invitation
from server.services.paging import decode_cursor, split_page
from storage.catalog import ActivityRecord
from storage.clock import utcnow
from storage.errors import Conflict
from storage.people import (
    TokenRecord,
    count_users,
    delete_token,
    insert_user,
    list_tokens,
    update_user,
    user_by_email,
)
from storage.schema import users

router = api_router("accounts")

__all__: list[str] = []


def _signed_in(call: Call, session: SessionOut, status: int) -> Response:
    """The session as JSON, with the browser's session and CSRF cookies set."""
    response = JSONResponse(session.model_dump(mode="json"), status_code=status)
    max_age = int(call.services.tokens.session_lifetime.total_seconds())
    secure = call.request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        max_age=max_age,
        httponly=False,
        samesite="lax",
        secure=secure,
    )
    return response


@router.post(
    "/api/auth/register",
    summary="Create an account and sign in",
    response_model=SessionOut,
    status_code=201,
    responses=errors(403, 404, 409),
)
async def register(call: PublicCall, body: RegisterIn) -> Response:
    """The first account becomes the instance's admin. Afterwards registration is open, or
    needs an ``invite_token`` when the server runs with ``--registration invite``; an
    invitation token also makes the new account a member of its workspace."""
    services = call.services
    password_hash = await services.passwords.hash(body.password)
    joined: list[ActivityRecord] = []
    try:
        async with services.database.transaction() as connection:
            # Serialises registrations, so that exactly one account is ever the first.
            await services.database.lock_for_update(connection, users)
            first = await count_users(connection) == 0
            invitation = None
            if body.invite_token is not None:
                invitation = await usable_invitation(connection, body.invite_token, body.email)
            elif services.settings.registration == "invite" and not first:
                raise forbidden(
                    "registration is by invitation only: ask a workspace owner for an invite "
                    "link, or an operator for an account",
                    code="registration_closed",
                )
            user = await insert_user(
                connection,
                user_id=new_id(),
                email=body.email,
                name=body.name,
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
    token, record_ = await services.tokens.issue(user.id)
    session = SessionOut(token=token, expires_at=record_.expires_at, user=user_out(user))
    return _signed_in(call, session, 201)


@router.post(
    "/api/auth/login",
    summary="Sign in with e-mail and password",
    response_model=SessionOut,
    responses=errors(401, 429),
)
async def login(call: PublicCall, body: LoginIn) -> Response:
    """Answers 401 for an unknown address and for a wrong password alike, in the same time.
    Repeated failures are throttled (429 with ``Retry-After``) per address and IP address and
    per IP address, the same way whether or not the address has an account."""
    services = call.services
    throttle = services.login_throttle
    client = call.request.client.host if call.request.client is not None else "unknown"
    forms = lookup_forms(body.email)
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
            None if user is None else user.password_hash, body.password
        )
        ok = user is not None and verified
    finally:
        throttle.end(address, client, ok=ok)
    if user is None or not ok:
        raise unauthenticated("wrong e-mail address or password")
    token, record_ = await services.tokens.issue(user.id)
    session = SessionOut(token=token, expires_at=record_.expires_at, user=user_out(user))
    return _signed_in(call, session, 200)


@router.post(
    "/api/auth/logout",
    summary="Sign out: revoke the token this call was made with",
    response_model=None,
    status_code=204,
    responses=errors(403),
)
async def logout(call: SignedInCall) -> Response:
    """Revokes the session (or the personal token) that authenticated the call and clears
    the browser's cookies."""
    assert call.signed_in is not None
    token = call.signed_in.token
    async with call.services.database.transaction() as connection:
        await delete_token(connection, user_id=token.user_id, token_id=token.id, kind=token.kind)
    call.services.live.end_token(token.id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, samesite="lax")
    return response


@router.get(
    "/api/me",
    summary="Your account",
    response_model=UserOut,
)
async def me(call: SignedInCall) -> UserOut:
    assert call.signed_in is not None
    return user_out(call.signed_in.user)


@router.patch(
    "/api/me",
    summary="Change your profile",
    response_model=UserOut,
    responses=errors(403),
)
async def update_me(call: SignedInCall, body: ProfilePatch) -> UserOut:
    """Name, actor type, organisation, country (ISO 3166-1 alpha-2). Only the fields sent
    change; null clears an optional one."""
    values = body.changes()
    async with call.services.database.transaction() as connection:
        user = await update_user(connection, call.user_id, values, utcnow())
    if user is None:
        raise unauthenticated("this account no longer exists")
    return user_out(user)


def _token_out(token: TokenRecord) -> TokenOut:
    return TokenOut.model_validate(token, from_attributes=True)


@router.post(
    "/api/me/tokens",
    summary="Create a personal API token",
    response_model=TokenCreated,
    status_code=201,
    responses=errors(403),
)
async def create_token(call: SignedInCall, body: TokenCreate) -> TokenCreated:
    """For integrations: a token that acts as you until it expires or you revoke it. It is
    in the response only. Only a sign-in (a session) may create one: a personal token that
    could mint others would outlive its own revocation."""
    assert call.signed_in is not None
    if call.signed_in.token.kind != "session":
        raise forbidden(
            "a personal token cannot create tokens: sign in (a session) to create one",
            code="session_required",
        )
    secret, token = await call.services.tokens.issue(
        call.user_id,
        kind="personal",
        name=body.name,
        lifetime=timedelta(days=body.expires_in_days),
    )
    return TokenCreated(**_token_out(token).model_dump(), token=secret)


@router.get(
    "/api/me/tokens",
    summary="Your personal API tokens",
    response_model=TokenPage,
    responses=errors(400),
)
async def list_my_tokens(call: SignedInCall, query: Annotated[PageQuery, Query()]) -> TokenPage:
    """Without their secrets, which are never stored."""
    after = decode_cursor(query.cursor, str)
    async with call.services.database.transaction() as connection:
        rows = await list_tokens(
            connection,
            call.user_id,
            kind="personal",
            limit=query.limit + 1,
            after=None if after is None else str(after[0]),
        )
    page, cursor = split_page(rows, query.limit, lambda row: (row.id,))
    return TokenPage(items=[_token_out(row) for row in page], next_cursor=cursor)


@router.delete(
    "/api/me/tokens/{token_id}",
    summary="Revoke a personal API token",
    response_model=None,
    status_code=204,
    responses=errors(403, 404),
)
async def revoke_token(call: SignedInCall, token_id: str) -> None:
    async with call.services.database.transaction() as connection:
        deleted = await delete_token(
            connection, user_id=call.user_id, token_id=token_id, kind="personal"
        )
    if not deleted:
        raise not_found(f"you have no token {token_id}")
    call.services.live.end_token(token_id)
