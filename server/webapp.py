"""The browser app's files: the built bundle under ``/assets/`` and its page at every app URL.

The app is built from ``client/web/`` into ``server/static/`` (committed, shipped in the wheel),
so serving it needs no Node. Its routes are client-side: ``/login``, ``/register``,
``/invite/{token}``, ``/w/{workspace_id}`` and ``/d/{document_id}`` all answer ``index.html``, so
a deep link survives a reload. Asset names carry a content hash, hence may be cached for good;
``index.html`` must be revalidated so that a new build is picked up at once.

``/sw.js`` is the app's service worker (built from ``client/web/src/sw.ts``), which keeps the app
shell for offline use. It is served from the top so that its scope covers every app URL, as
JavaScript, and revalidated on every check like ``index.html``: a stale worker would keep a
stale app.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_DIR", "app_routes"]

STATIC_DIR = Path(__file__).resolve().parent / "static"

APP_PATHS = (
    "/",
    "/login",
    "/register",
    "/invite/{token}",
    "/w/{workspace_id}",
    "/d/{document_id:path}",
)
"""The URLs the app draws itself; each answers ``index.html``. ``/d/`` takes the whole rest of
the path: in ``--anonymous`` mode a room name may contain '/' (``/d/team/notes``)."""


class _HashedAssets(StaticFiles):
    """Static files whose names change with their content: cacheable for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def app_routes(static_dir: Path = STATIC_DIR) -> list[BaseRoute]:
    """The app's routes, or none when the bundle has not been built (a source checkout that
    skipped ``client/web/build.mjs``): the server then still serves the API and the socket."""
    index = static_dir / "index.html"
    if not index.is_file():
        return []

    async def page(request: Request) -> Response:
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    routes: list[BaseRoute] = [Route(path, page, methods=["GET", "HEAD"]) for path in APP_PATHS]
    worker = static_dir / "sw.js"
    if worker.is_file():

        async def service_worker(request: Request) -> Response:
            return FileResponse(
                worker, media_type="text/javascript", headers={"Cache-Control": "no-cache"}
            )

        routes.append(Route("/sw.js", service_worker, methods=["GET", "HEAD"]))
    routes.append(Mount("/assets", _HashedAssets(directory=static_dir / "assets"), name="assets"))
    return routes
