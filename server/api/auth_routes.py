"""Accounts: register, sign in and out, the profile, and personal API tokens.

Signing in returns a token for ``Authorization: Bearer`` and also sets the browser's cookies:
``gess_session`` (HttpOnly, SameSite=Lax: the same token) and ``gess_csrf`` (readable by the
page, to echo in ``X-CSRF-Token`` on state-changing calls authenticated by the cookie).

The rules are :mod:`server.services.accounts`'; these routes translate requests into its
calls, and its records into responses and cookies.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Query
from starlette.responses import JSONResponse, Response

from server.accounts import CSRF_COOKIE, SESSION_COOKIE
from server.api.common import user_out
from server.api.dependencies import Call, PublicCall, SignedInCall
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
from server.services import accounts
from storage.people import TokenRecord

router = api_router("accounts")

__all__: list[str] = []


def _session_out(session: accounts.Session) -> SessionOut:
    return SessionOut(
        token=session.token, expires_at=session.record.expires_at, user=user_out(session.user)
    )


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
    session = await accounts.register(
        call.services,
        email=body.email,
        name=body.name,
        password=body.password,
        invite_token=body.invite_token,
    )
    return _signed_in(call, _session_out(session), 201)


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
    client = call.request.client.host if call.request.client is not None else "unknown"
    session = await accounts.log_in(
        call.services, email=body.email, password=body.password, client=client
    )
    return _signed_in(call, _session_out(session), 200)


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
    await accounts.log_out(call.services, call.signed_in.token)
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
    return user_out(await accounts.update_profile(call.services, call.user_id, body.changes()))


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
    secret, token = await accounts.create_token(
        call.services,
        call.signed_in.token,
        name=body.name,
        expires_in_days=body.expires_in_days,
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
    found = await accounts.list_personal_tokens(
        call.services, call.user_id, limit=query.limit, cursor=query.cursor
    )
    return TokenPage(items=[_token_out(row) for row in found.items], next_cursor=found.next_cursor)


@router.delete(
    "/api/me/tokens/{token_id}",
    summary="Revoke a personal API token",
    response_model=None,
    status_code=204,
    responses=errors(403, 404),
)
async def revoke_token(call: SignedInCall, token_id: str) -> None:
    await accounts.revoke_token(call.services, call.user_id, token_id)
