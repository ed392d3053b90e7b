"""The refusals a service raises: a status, a stable machine-readable code and a message a
person can read.

The REST API answers each as ``{"error": {"code", "message"}}`` with its status
(:mod:`server.api.errors`); the statuses are HTTP's because they are what every client knows,
but nothing here depends on a web framework.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "STATUS_CODES",
    "ApiError",
    "bad_request",
    "conflict",
    "forbidden",
    "not_found",
    "unauthenticated",
    "unprocessable",
]

STATUS_CODES: Mapping[int, tuple[str, str]] = {
    400: ("bad_request", "The request is malformed"),
    401: ("unauthenticated", "Not signed in, or the token is unknown, revoked or expired"),
    403: ("forbidden", "Signed in, but not allowed to do this"),
    404: ("not_found", "No such resource, or not visible to you"),
    405: ("method_not_allowed", "This path does not take this method"),
    409: ("conflict", "The request conflicts with the current state"),
    413: ("too_large", "The request body is too large"),
    422: ("validation_failed", "The request body or query is invalid"),
    429: ("too_many_attempts", "Too many attempts: wait the seconds Retry-After says"),
    500: ("internal", "The server failed"),
    503: ("unavailable", "The database is unavailable; try again"),
}
"""Default error code and description of each status the API answers with."""


class ApiError(Exception):
    """An error response: status, a stable machine-readable code, and a readable message."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or STATUS_CODES.get(status, ("error", ""))[0]
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str, code: str = "bad_request") -> ApiError:
    return ApiError(400, message, code=code)


def unauthenticated(message: str = "sign in first") -> ApiError:
    return ApiError(
        401, message, code="unauthenticated", headers={"WWW-Authenticate": 'Bearer realm="gess"'}
    )


def forbidden(message: str, code: str = "forbidden") -> ApiError:
    return ApiError(403, message, code=code)


def not_found(message: str) -> ApiError:
    return ApiError(404, message, code="not_found")


def conflict(message: str, code: str = "conflict") -> ApiError:
    return ApiError(409, message, code=code)


def unprocessable(message: str) -> ApiError:
    return ApiError(422, message, code="validation_failed")
