"""The REST API: accounts, workspaces, members, invitations, documents, activity, versions.

Every endpoint is declared on :data:`server.api.registry.api` by the route modules imported
here; :func:`api_routes` mounts them with ``GET /openapi.json``, which describes them all.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from server.api import (  # noqa: F401  (each module declares its operations when imported)
    activity,
    auth_routes,
    comment_routes,
    document_routes,
    invitations,
    member_routes,
    notification_routes,
    template_routes,
    thread_routes,
    version_routes,
    workspace_routes,
)
from server.api.openapi import openapi_document
from server.api.registry import api
from server.api.services import ApiServices

__all__ = ["ApiServices", "api_routes", "openapi"]


def _version() -> str:
    try:
        return version("gess-workspaces")
    except PackageNotFoundError:
        return "0.0.0"


def openapi() -> dict[str, Any]:
    """The OpenAPI document of every declared operation."""
    return openapi_document(api.operations, version=_version())


def api_routes() -> list[BaseRoute]:
    """The REST endpoints and ``GET /openapi.json``."""
    document = openapi()

    async def openapi_endpoint(request: Request) -> Response:
        return JSONResponse(document)

    return [Route("/openapi.json", openapi_endpoint, methods=["GET"]), *api.routes()]
