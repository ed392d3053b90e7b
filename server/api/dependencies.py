"""The FastAPI dependencies of the route modules: the node's services, the signed-in user
(with the CSRF checks of a cookie session), and the path's identifiers checked.

A route takes ``call: SignedInCall`` to require a signed-in user, or ``call: PublicCall``
when anyone may call it; either gives it the services, the path parameters and the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyCookie, HTTPBearer
from starlette.requests import Request

from server.accounts import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    SignedIn,
    csrf_matches,
    same_origin,
)
from server.api.errors import ApiError, unauthenticated
from server.services.context import ApiServices
from server.services.paging import storable

__all__ = ["Call", "PublicCall", "SignedInCall", "public", "signed_in"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Declared for the OpenAPI document's security schemes; the checks themselves are below,
# with the API's own messages.
_BEARER = HTTPBearer(scheme_name="bearer", auto_error=False)
_COOKIE = APIKeyCookie(name=SESSION_COOKIE, scheme_name="cookie", auto_error=False)


@dataclass(slots=True)
class Call:
    """One request, as a route sees it: authenticated (or public) and its path checked."""

    request: Request
    services: ApiServices
    signed_in: SignedIn | None
    path: dict[str, str] = field(default_factory=dict)

    @property
    def user_id(self) -> str:
        """The signed-in user's id (only for routes that require signing in)."""
        if self.signed_in is None:
            raise unauthenticated()
        return self.signed_in.user.id


def _services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.api
    return services


def _path(request: Request) -> dict[str, str]:
    """The path parameters, if every database can look them up.

    Raises:
        ApiError: 404 for one no database could store (a NUL, an unpaired surrogate).
    """
    path = {name: str(value) for name, value in request.path_params.items()}
    for name, value in path.items():
        if not storable(value):
            raise ApiError(404, f"no such {name.removesuffix('_id')}", code="not_found")
    return path


async def signed_in(
    request: Request,
    _bearer: Annotated[object, Depends(_BEARER)],
    _cookie: Annotated[object, Depends(_COOKIE)],
) -> Call:
    """The call of a signed-in user: by ``Authorization: Bearer``, else by session cookie.

    Raises:
        ApiError: 401 without a valid token; 403 for a cookie-authenticated state-changing
            call without the matching CSRF header or from another origin; then 404 for a path
            parameter no database could store.
    """
    services = _services(request)
    authorization = request.headers.get("authorization")
    by_cookie = False
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated("use the Authorization header as 'Bearer TOKEN'")
        token = token.strip()
    else:
        token = request.cookies.get(SESSION_COOKIE, "")
        by_cookie = True
        if not token:
            raise unauthenticated("sign in first: send 'Authorization: Bearer TOKEN'")
    found = await services.tokens.resolve(token)
    if found is None:
        raise unauthenticated("the token is unknown, revoked or expired; sign in again")
    if by_cookie and request.method not in _SAFE_METHODS:
        _check_csrf(request)
    user, token_record = found
    return Call(request, services, SignedIn(user, token_record, by_cookie), _path(request))


def _check_csrf(request: Request) -> None:
    if not csrf_matches(request.cookies.get(CSRF_COOKIE), request.headers.get(CSRF_HEADER)):
        raise ApiError(
            403,
            f"missing or wrong {CSRF_HEADER} header: echo the {CSRF_COOKIE} cookie in it",
            code="csrf_failed",
        )
    # Defence in depth beside the double submit: a page of another origin (another scheme
    # included, e.g. the plain-HTTP site) may not use the cookie at all.
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    if origin is not None and not same_origin(origin, request.url.scheme, host):
        raise ApiError(
            403,
            f"the session cookie is only accepted from this server's pages, not {origin}",
            code="csrf_failed",
        )


async def public(request: Request) -> Call:
    """The call of anyone, signed in or not.

    Raises:
        ApiError: 404 for a path parameter no database could store.
    """
    return Call(request, _services(request), None, _path(request))


SignedInCall = Annotated[Call, Depends(signed_in)]
PublicCall = Annotated[Call, Depends(public)]
