"""The one error shape of the REST API: ``{"error": {"code": ..., "message": ...}}``.

Handlers raise :class:`ApiError` (through the helpers below); the exception handlers here,
which the app installs, turn it, validation errors, Starlette's own errors and an unavailable
database into that shape with the right status code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from server.api.fields import INVALID_EMAIL
from server.services.errors import (
    STATUS_CODES,
    ApiError,
    bad_request,
    conflict,
    forbidden,
    not_found,
    unauthenticated,
    unprocessable,
)
from storage.errors import StorageError

__all__ = [
    "BODY_ERROR",
    "EXCEPTION_HANDLERS",
    "STATUS_CODES",
    "ApiError",
    "api_error_handler",
    "bad_request",
    "conflict",
    "error_response",
    "forbidden",
    "http_exception_handler",
    "not_found",
    "storage_error_handler",
    "unauthenticated",
    "unprocessable",
    "validation_error_handler",
]

logger = logging.getLogger("gess.api")

_Handler = Callable[[Request, Exception], Coroutine[Any, Any, Response]]

BODY_ERROR = "gess.body_error"
"""The request scope's key for a body refused before validation (:mod:`server.api.routing`)."""


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method) in the API's shape."""
    assert isinstance(exc, HTTPException)
    code, _ = STATUS_CODES.get(exc.status_code, ("error", ""))
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        message = f"no such endpoint: {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
        # The router names only the first route of the path; a path has one per method.
        headers["Allow"] = ", ".join(sorted(_allowed(request)))
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, code, message, headers)


def _allowed(request: Request) -> set[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods is not None:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    return methods


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def storage_error_handler(request: Request, exc: Exception) -> Response:
    logger.error("%s %s: %s", request.method, request.url.path, exc)
    return error_response(503, "unavailable", "the database is unavailable; try again")


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    """A query or body that does not fit its model: 422 naming the first problems.

    The query is checked before the body; a body refused before validation (too large, not
    JSON) is answered with its own error; an e-mail address refused on purpose (a look-alike,
    an invisible character) is a plain 400 ``invalid_email``, not a mistyped field.
    """
    assert isinstance(exc, RequestValidationError)
    errors: Sequence[Any] = exc.errors()
    query = [error for error in errors if error["loc"][:1] == ("query",)]
    if query:
        return _invalid("query", query)
    refused = request.scope.get(BODY_ERROR)
    if isinstance(refused, ApiError):
        return error_response(refused.status, refused.code, refused.message, refused.headers)
    for error in errors:
        if error["type"] == INVALID_EMAIL:
            location = ".".join(str(part) for part in error["loc"][1:])
            return error_response(400, INVALID_EMAIL, f"{location}: {error['msg']}")
    return _invalid("body", errors)


def _invalid(where: str, errors: Sequence[Any]) -> Response:
    problems = []
    for error in errors[:5]:
        location = ".".join(str(part) for part in error["loc"][1:]) or where
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{location}: {message}")
    more = len(errors) - len(problems)
    suffix = f" (and {more} more)" if more > 0 else ""
    message = f"invalid {where}: " + "; ".join(problems) + suffix
    return error_response(422, "validation_failed", message)


EXCEPTION_HANDLERS: dict[int | type[Exception], _Handler] = {
    ApiError: api_error_handler,
    StorageError: storage_error_handler,
    RequestValidationError: validation_error_handler,
    HTTPException: http_exception_handler,
}
"""What the app installs for the API's errors (the catch-all 500 is the app's own)."""
