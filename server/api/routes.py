"""Every REST route: accounts, workspaces, members, invitations, documents, threads,
notifications, versions and activity.

Each route module declares its operations on its own router; :data:`ROUTES` gathers them, and
:func:`openapi` describes them all (served at ``GET /openapi.json`` by :func:`api_routes`).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi.openapi.utils import get_openapi
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from server.api import (
    activity_routes,
    auth_routes,
    comment_routes,
    document_routes,
    invitation_routes,
    member_routes,
    notification_routes,
    template_routes,
    thread_routes,
    version_routes,
    workspace_routes,
)
from server.api.errors import EXCEPTION_HANDLERS

__all__ = ["EXCEPTION_HANDLERS", "ROUTES", "api_routes", "openapi"]

ROUTES: list[BaseRoute] = [
    route
    for module in (
        activity_routes,
        auth_routes,
        comment_routes,
        document_routes,
        invitation_routes,
        member_routes,
        notification_routes,
        template_routes,
        thread_routes,
        version_routes,
        workspace_routes,
    )
    for route in module.router.routes
]
"""Every REST route, flat (FastAPI's ``include_router`` would nest them)."""

_DESCRIPTION = (
    "Accounts, workspaces, members, documents and activity of a GESS Workspaces server. "
    "Authenticate with 'Authorization: Bearer TOKEN' (from /api/auth/login or a personal "
    "token), or in a browser with the session cookie plus the X-CSRF-Token header on "
    'state-changing calls. Every error is {"error": {"code", "message"}}. Documents are '
    "edited live over the y-websocket protocol at /ws/{document_id}?token=TOKEN."
)


def _version() -> str:
    try:
        return version("gess-workspaces")
    except PackageNotFoundError:
        return "0.0.0"


@cache
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route."""
    return get_openapi(
        title="GESS Workspaces",
        version=_version(),
        openapi_version="3.1.0",
        description=_DESCRIPTION,
        routes=ROUTES,
    )


def api_routes() -> list[BaseRoute]:
    """The REST routes and ``GET /openapi.json``."""

    async def openapi_endpoint(request: Request) -> Response:
        return JSONResponse(openapi())

    return [Route("/openapi.json", openapi_endpoint, methods=["GET"]), *ROUTES]
