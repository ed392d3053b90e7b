"""The application factory: one FastAPI app (a Starlette app) per node."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from server.accounts import AccountAuthenticator, Passwords, Tokens, presents_credential
from server.admission import Admission, send_http_refusal
from server.api.errors import error_response
from server.api.routes import EXCEPTION_HANDLERS, api_routes
from server.auth import Authenticator, allow_guests
from server.broker import Broker, MemoryBroker
from server.config import Settings
from server.listener import ConnectionGuard, connection_cap
from server.live import LiveAccess
from server.metrics import Metrics
from server.presence import PresenceLimits
from server.room import RoomServices
from server.rooms import RoomManager
from server.security_headers import SecurityHeaders
from server.services.context import ApiServices
from server.services.versions import Checkpointer
from server.session import Hub
from server.token_purge import TokenPurger
from server.webapp import app_routes
from server.websocket import Sockets
from storage import DocumentStore, SqlStore, create_engine, default_sqlite_url, upgrade_database
from storage.database import Database
from storage.refusals import MemoryRefusals, Refusals, SqlRefusals

__all__ = ["create_app", "database_url"]

logger = logging.getLogger("gess.app")


class _Node(FastAPI):
    """The app: the REST API's FastAPI routes, the web app and static files, behind the
    middleware and the router.

    Document sockets (``/ws/...``) never reach it: a socket lives for hours and carries
    every keystroke, so ``gess serve`` hands their upgrades to the node's own WebSocket layer
    (``app.state.sockets``, :mod:`server.websocket`) before any ASGI app is called.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != _HEALTH:
            # Beyond the connection cap only the health check is served: a load balancer
            # must still be able to tell a busy node from a dead one.
            refusal = self.state.admission.full()
            if refusal is not None:

                async def busy(scope: Scope, receive: Receive, send: Send) -> None:
                    await send_http_refusal(send, refusal)

                await SecurityHeaders(busy)(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def build_middleware_stack(self) -> ASGIApp:
        # Outermost, around Starlette's error middleware: its 500 answers get the headers too.
        return SecurityHeaders(super().build_middleware_stack())


_HEALTH = "/healthz"


def database_url(settings: Settings) -> str:
    """The database the settings point at: the flag, or SQLite under the data directory."""
    return settings.database_url or default_sqlite_url(settings.data_dir)


def create_app(
    settings: Settings,
    *,
    store: DocumentStore | None = None,
    authenticate: Authenticator | None = None,
) -> Starlette:
    """Build a node's ASGI app.

    Accounts live in the database the settings name: the REST API (``/api/...``,
    ``/openapi.json``) and, unless ``settings.anonymous``, the authenticate step of the
    WebSocket, which then requires a token and a role in the document's workspace. In
    anonymous mode every connection is a guest editor.

    Args:
        settings: the node's settings.
        store: a store to use instead of the database the settings name (tests pass a
            ``MemoryStore``); the caller owns its lifetime. There is no database then, hence
            no accounts and no REST API.
        authenticate: replaces the WebSocket's authenticate step.

    Raises:
        ValueError: a custom ``store`` without ``settings.anonymous`` or ``authenticate``:
            nothing could authenticate connections.

    The database schema is brought up to date when the app starts.
    """
    if store is not None and authenticate is None and not settings.anonymous:
        raise ValueError(
            "accounts need the database: pass anonymous=True or an authenticator "
            "with a custom store"
        )
    metrics = Metrics()
    guard = ConnectionGuard(
        request_timeout=settings.request_timeout,
        max_pending=settings.max_pending_connections,
        max_connections=connection_cap(settings.max_connections, settings.max_pending_connections),
    )
    accounts_gate = store is None and authenticate is None and not settings.anonymous
    admission = Admission(settings, guard, presents_credential if accounts_gate else None)
    sockets = Sockets(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            active = store
            database: Database | None = None
            refusals: Refusals = MemoryRefusals()
            if active is None:
                url = database_url(settings)
                await upgrade_database(url)
                engine = create_engine(url, durability=settings.durability)
                stack.push_async_callback(engine.dispose)
                database = Database(engine)
                refusals = SqlRefusals(engine)
                active = await stack.enter_async_context(
                    SqlStore(
                        engine,
                        compact_threshold=settings.compact_threshold,
                        on_commit=metrics.record_store_commit,
                    )
                )
            origin = f"{settings.node_id}/{secrets.token_hex(4)}"
            broker: Broker
            app.state.redis = None
            if settings.redis_url is None:
                broker = MemoryBroker()
            else:
                # Imported only here: a node without Redis never loads the Redis client.
                from server.redis_broker import RedisBroker

                redis = await stack.enter_async_context(
                    RedisBroker(settings.redis_url, metrics, origin)
                )
                try:
                    async with asyncio.timeout(5.0):
                        await redis.wait_connected()
                except TimeoutError:
                    logger.warning("Redis is unreachable; serving local clients until it is back")
                broker = app.state.redis = redis
            app.state.broker = broker

            # Anonymous mode has no workspace documents, hence no versions.
            checkpoints = None if database is None or settings.anonymous else Checkpointer(database)
            services = RoomServices(
                store=active,
                broker=broker,
                metrics=metrics,
                origin=origin,
                max_pending_bytes=settings.max_pending_bytes,
                refusals=refusals,
                max_document_bytes=settings.max_document_bytes,
                presence=PresenceLimits(
                    max_bytes=settings.max_presence_bytes,
                    updates_per_second=settings.presence_per_second,
                ),
            )
            rooms = await stack.enter_async_context(
                RoomManager(
                    services,
                    grace_seconds=settings.room_grace_seconds,
                    presence_timeout=settings.presence_timeout_seconds,
                    checkpoints=checkpoints,
                    checkpoint_after=settings.checkpoint_after,
                )
            )
            gate = authenticate
            if database is not None:
                tokens = Tokens(database, session_days=settings.session_days)
                live = await stack.enter_async_context(LiveAccess(rooms, database))
                await stack.enter_async_context(TokenPurger(database))
                app.state.api = ApiServices(settings, database, Passwords(), tokens, active, live)
                if gate is None and not settings.anonymous:
                    gate = AccountAuthenticator(database, tokens)
            if settings.anonymous:
                logger.warning(
                    "ANONYMOUS MODE: no sign-in on the WebSocket; anyone who can reach "
                    "%s:%d can read and edit every document",
                    settings.host,
                    settings.port,
                )
            app.state.hub = Hub(settings, metrics, rooms, gate or allow_guests, admission)
            sockets.hub = app.state.hub
            stack.callback(sockets.stop)
            logger.info("node %s ready", settings.node_id)
            yield
            logger.info("node %s stopping: committing pending edits", settings.node_id)

    async def healthz(request: Request) -> Response:
        body: dict[str, object] = {"status": "ok", "node_id": settings.node_id}
        redis = request.app.state.redis
        if redis is not None:
            # Without Redis a node still serves its clients: report it, stay healthy.
            body["redis"] = "connected" if redis.connected else "down"
        return JSONResponse(body)

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def internal_error(request: Request, exc: Exception) -> Response:
        return error_response(500, "internal", "the server failed; the error is in its log")

    routes: list[BaseRoute] = [
        Route(_HEALTH, healthz),
        Route("/metrics", metrics_endpoint),
    ]
    if store is None:
        routes += api_routes()
    routes += app_routes()
    node = _Node(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={**EXCEPTION_HANDLERS, Exception: internal_error},
        # /openapi.json is the API's own route (served with the API only); interactive docs
        # would load their scripts from a CDN, which the CSP forbids: none.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    node.state.admission = admission
    node.state.connection_guard = guard
    node.state.sockets = sockets
    return node
