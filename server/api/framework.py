"""A small, typed layer between Starlette and the REST handlers.

Each endpoint is declared once with :meth:`Api.operation`: its method and path, the pydantic
models of its query, body and response, whether it needs a signed-in user and which errors it
may answer. The same declaration drives the request handling here (authentication, CSRF,
parsing, validation, serialisation, errors) and the OpenAPI document
(:mod:`server.api.openapi`), so the two cannot drift apart.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.accounts import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    SignedIn,
    csrf_matches,
    same_origin,
)
from server.api.errors import ApiError, error_response, unauthenticated
from server.api.fields import INVALID_EMAIL
from server.api.paging import storable
from server.api.services import ApiServices
from storage.errors import StorageError

__all__ = ["MAX_BODY_BYTES", "MAX_BODY_DEPTH", "Api", "Call", "Operation"]

logger = logging.getLogger("gess.api")

MAX_BODY_BYTES = 64 * 1024
"""The largest JSON body the API reads; larger ones are refused with 413."""

MAX_BODY_DEPTH = 32
"""The deepest nesting of arrays and objects a body may have; deeper ones are refused with 400
(no operation takes more than a few levels)."""

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

M = TypeVar("M", bound=BaseModel)
Handler = Callable[["Call"], Awaitable[BaseModel | Response | None]]


@dataclass(frozen=True, slots=True)
class Operation:
    """One endpoint, as declared."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    status: int
    response: type[BaseModel] | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    auth: bool
    errors: frozenset[int]
    media_types: tuple[str, ...] = ("application/json",)
    """What a successful response is; JSON unless said otherwise (exports)."""
    description: str = ""

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    @property
    def all_errors(self) -> frozenset[int]:
        """Every error status it may answer, the implicit ones included."""
        errors = set(self.errors) | {503}
        if self.auth:
            errors |= {401}
            if self.method not in _SAFE_METHODS:
                errors |= {403}  # a cookie-authenticated call without its CSRF header
        if self.body is not None:
            errors |= {400, 413, 422}
        if self.query is not None:
            errors |= {422}
        return frozenset(errors)


@dataclass(slots=True)
class Call:
    """One request, as a handler sees it: parsed and authenticated."""

    request: Request
    services: ApiServices
    signed_in: SignedIn | None
    _body: BaseModel | None = None
    _query: BaseModel | None = None
    path: Mapping[str, str] = field(default_factory=dict)

    def body(self, model: type[M]) -> M:
        """The validated body; ``model`` must be the operation's body model."""
        if not isinstance(self._body, model):
            raise TypeError(f"the body of this operation is not a {model.__name__}")
        return self._body

    def query(self, model: type[M]) -> M:
        """The validated query; ``model`` must be the operation's query model."""
        if not isinstance(self._query, model):
            raise TypeError(f"the query of this operation is not a {model.__name__}")
        return self._query

    @property
    def user_id(self) -> str:
        """The signed-in user's id (only for operations that require signing in)."""
        if self.signed_in is None:
            raise unauthenticated()
        return self.signed_in.user.id


class Api:
    """The registry of operations; :meth:`routes` mounts them."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        response: type[BaseModel] | None = None,
        status: int = 200,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        auth: bool = True,
        errors: Iterable[int] = (),
        media_types: tuple[str, ...] = ("application/json",),
        description: str = "",
    ) -> Callable[[Handler], Handler]:
        """Declare an endpoint; decorates its handler."""

        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(
                    method=method,
                    path=path,
                    handler=handler,
                    summary=summary,
                    tag=tag,
                    status=status,
                    response=response,
                    body=body,
                    query=query,
                    auth=auth,
                    errors=frozenset(errors),
                    media_types=media_types,
                    description=description or (handler.__doc__ or "").strip(),
                )
            )
            return handler

        return register

    def routes(self) -> list[Route]:
        """One Starlette route per path, dispatching on the method."""
        by_path: dict[str, dict[str, Operation]] = {}
        for operation in self.operations:
            by_path.setdefault(operation.path, {})[operation.method] = operation
        return [
            Route(path, _endpoint(operations), methods=list(operations))
            for path, operations in by_path.items()
        ]


def _endpoint(operations: Mapping[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        operation = operations[request.method]
        try:
            return await _run(operation, request)
        except ApiError as exc:
            return exc.response()
        except StorageError as exc:
            logger.error("%s %s: %s", request.method, request.url.path, exc)
            return error_response(503, "unavailable", "the database is unavailable; try again")

    return endpoint


async def _run(operation: Operation, request: Request) -> Response:
    services: ApiServices = request.app.state.api
    signed_in = await _authenticate(request, services) if operation.auth else None
    path = {name: str(value) for name, value in request.path_params.items()}
    for name, value in path.items():
        if not storable(value):
            raise ApiError(404, f"no such {name.removesuffix('_id')}", code="not_found")
    call = Call(request, services, signed_in, path=path)
    if operation.query is not None:
        call._query = _validate(operation.query, dict(request.query_params), "query")
    if operation.body is not None:
        call._body = _validate(operation.body, await _json_body(request), "body")
    result = await operation.handler(call)
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204 if operation.status == 200 else operation.status)
    return JSONResponse(result.model_dump(mode="json"), status_code=operation.status)


async def _authenticate(request: Request, services: ApiServices) -> SignedIn:
    """The signed-in user of a request: by ``Authorization: Bearer``, else by session cookie.

    Raises:
        ApiError: 401 without a valid token; 403 for a cookie-authenticated state-changing
            call without the matching CSRF header.
    """
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
        if not csrf_matches(request.cookies.get(CSRF_COOKIE), request.headers.get(CSRF_HEADER)):
            raise ApiError(
                403,
                f"missing or wrong {CSRF_HEADER} header: echo the {CSRF_COOKIE} cookie in it",
                code="csrf_failed",
            )
        # Defence in depth beside the double submit: a page of another origin (another
        # scheme included, e.g. the plain-HTTP site) may not use the cookie at all.
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        if origin is not None and not same_origin(origin, request.url.scheme, host):
            raise ApiError(
                403,
                f"the session cookie is only accepted from this server's pages, not {origin}",
                code="csrf_failed",
            )
    user, token_record = found
    return SignedIn(user, token_record, by_cookie)


async def _json_body(request: Request) -> object:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        # Also what keeps a cross-site HTML form (which cannot send JSON's media type without
        # the browser asking first) from posting to the API.
        raise ApiError(
            400, "send the body as JSON, with Content-Type: application/json", code="bad_request"
        )
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"the body exceeds {MAX_BODY_BYTES} bytes", code="too_large")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise ApiError(400, "a JSON body is required", code="bad_request")
    if _nesting(raw) > MAX_BODY_DEPTH:
        # Refused before parsing: the parser recurses once per level, and a body of the
        # allowed size can nest deeper than Python's stack allows (RecursionError).
        raise ApiError(
            400,
            f"the body nests arrays and objects deeper than {MAX_BODY_DEPTH} levels",
            code="bad_request",
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}", code="bad_request") from None
    if not _all_storable(data):
        raise ApiError(
            422,
            "invalid body: text may not contain NUL characters or unpaired surrogates",
            code="validation_failed",
        )
    return data


_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


def _nesting(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text, brackets in strings aside.

    Tolerant of invalid JSON (the parser reports that); only the depth is measured, in one
    pass over the structural characters.
    """
    depth = deepest = 0
    in_string = False
    escaped_at = -1  # the position of the character a backslash escapes
    for match in _STRUCTURE.finditer(raw):
        character, at = match.group(), match.start()
        if in_string:
            if at == escaped_at:
                continue
            if character == b"\\":
                escaped_at = at + 1
            elif character == b'"':
                in_string = False
        elif character == b'"':
            in_string = True
        elif character in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif character in (b"]", b"}"):
            depth -= 1
    return deepest


def _all_storable(data: object) -> bool:
    if isinstance(data, str):
        return storable(data)
    if isinstance(data, dict):
        return all(storable(key) and _all_storable(value) for key, value in data.items())
    if isinstance(data, list):
        return all(_all_storable(item) for item in data)
    return True


def _validate(model: type[M], data: object, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            if error["type"] == INVALID_EMAIL:
                # Not a mistyped field but an address refused on purpose (a look-alike, an
                # invisible character): a plain 400 with its own code.
                location = ".".join(str(part) for part in error["loc"])
                raise ApiError(400, f"{location}: {error['msg']}", code=INVALID_EMAIL) from None
        raise ApiError(422, _describe(exc, where), code="validation_failed") from None


def _describe(exc: ValidationError, where: str) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False)[:5]:
        location = ".".join(str(part) for part in error["loc"]) or where
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{location}: {message}")
    more = exc.error_count() - len(problems)
    suffix = f" (and {more} more)" if more > 0 else ""
    return f"invalid {where}: " + "; ".join(problems) + suffix
