"""How the REST API reads a request before FastAPI validates it, and what every route may answer.

:class:`ApiRoute` is the route class of every API router. Before FastAPI parses a JSON body it
checks what FastAPI does not: the media type, the size (:data:`MAX_BODY_BYTES`, 413), the
nesting depth (:data:`MAX_BODY_DEPTH`, 400, measured before parsing), valid JSON (400) and text
every database can store (422). A refused body is not answered at once: its error waits in the
request's scope until authentication has run (a caller who is not signed in learns only that,
whatever the body), and :func:`server.api.errors.validation_error_handler` answers it. The same
class adds to each route's OpenAPI responses the errors it may answer implicitly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from server.api.errors import BODY_ERROR, STATUS_CODES, ApiError
from server.api.models import ErrorOut
from server.services.paging import storable

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_BODY_DEPTH",
    "ApiRoute",
    "also_answers",
    "api_router",
    "errors",
    "json_nesting",
]

MAX_BODY_BYTES = 64 * 1024
"""The largest JSON body the API reads; larger ones are refused with 413."""

MAX_BODY_DEPTH = 32
"""The deepest nesting of arrays and objects a body may have; deeper ones are refused with 400
(no operation takes more than a few levels)."""

SIGNED_IN = "signed_in"
"""The name of the dependency that authenticates (see :mod:`server.api.dependencies`)."""

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiRoute(APIRoute):
    """An API route: checked JSON bodies, and its implicit errors in the OpenAPI document."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # The errors go in before FastAPI builds the route: it makes their schemas then.
        dependant = get_dependant(path=path, call=endpoint)
        methods = set(kwargs.get("methods") or ())
        responses = dict(kwargs.get("responses") or {})
        for status in sorted(_implicit_errors(dependant, methods)):
            responses.setdefault(status, _error_response(status))
        kwargs["responses"] = responses
        if not _needs_sign_in(dependant):
            kwargs["openapi_extra"] = {"security": [], **(kwargs.get("openapi_extra") or {})}
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def checked(request: Request) -> Response:
            try:
                raw = await _checked_body(request)
            except ApiError as exc:
                request.scope[BODY_ERROR] = exc
                raw = b""  # FastAPI then reports a missing body, which the error replaces

            async def replay() -> Message:
                return {"type": "http.request", "body": raw, "more_body": False}

            return await handler(Request(request.scope, replay))

        return checked


def api_router(tag: str) -> APIRouter:
    """The router of one route module: its operations under ``tag``, named by function."""
    return APIRouter(
        route_class=ApiRoute,
        tags=[tag],
        generate_unique_id_function=lambda route: route.name,
    )


def _implicit_errors(dependant: Dependant, methods: set[str]) -> set[int]:
    errors = {503}
    if _needs_sign_in(dependant):
        errors.add(401)
        if methods - _SAFE_METHODS:
            errors.add(403)  # a cookie-authenticated call without its CSRF header
    if dependant.body_params:
        errors |= {400, 413, 422}
    if dependant.query_params or dependant.path_params:
        # FastAPI would otherwise describe its own 422 shape for them.
        errors.add(422)
    return errors


def _needs_sign_in(dependant: Dependant) -> bool:
    pending = list(dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if getattr(dependency.call, "__name__", "") == SIGNED_IN:
            return True
        pending.extend(dependency.dependencies)
    return False


def _error_response(status: int) -> dict[str, Any]:
    _, description = STATUS_CODES.get(status, ("error", "Error"))
    return {"model": ErrorOut, "description": description}


async def _checked_body(request: Request) -> bytes:
    """The raw body, if it is JSON that may be parsed and stored.

    Raises:
        ApiError: 400 (not JSON, empty, too deep, invalid), 413 (too large), 422 (text no
            database can store).
    """
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
    if json_nesting(raw) > MAX_BODY_DEPTH:
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
    return raw


_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


def json_nesting(raw: bytes) -> int:
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


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI responses of the errors a route answers beyond its implicit ones."""
    return {status: _error_response(status) for status in statuses}


def also_answers(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI response of a route that may also answer a file (an export), as text."""
    return {
        200: {"content": {media_type: {"schema": {"type": "string"}} for media_type in media_types}}
    }
