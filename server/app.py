"""The Starlette application factory."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from server.auth import Authenticator, allow_guests
from server.broker import Broker, MemoryBroker, RedisBroker
from server.config import Settings
from server.metrics import Metrics
from server.room import RoomServices
from server.rooms import RoomManager
from server.websocket import Hub, websocket_endpoint
from storage import DocumentStore, SqlStore, create_engine, default_sqlite_url, upgrade_database

__all__ = ["create_app", "database_url"]

logger = logging.getLogger("gess.app")


def database_url(settings: Settings) -> str:
    """The database the settings point at: the flag, or SQLite under the data directory."""
    return settings.database_url or default_sqlite_url(settings.data_dir)


def create_app(
    settings: Settings,
    *,
    store: DocumentStore | None = None,
    authenticate: Authenticator = allow_guests,
) -> Starlette:
    """Build a node's ASGI app.

    Args:
        settings: the node's settings.
        store: a store to use instead of the database the settings name (tests pass a
            ``MemoryStore``); the caller owns its lifetime.
        authenticate: the authenticate step every WebSocket connection passes.

    The database schema is brought up to date when the app starts.
    """
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            active = store
            if active is None:
                url = database_url(settings)
                await upgrade_database(url)
                engine = create_engine(url)
                stack.push_async_callback(engine.dispose)
                active = await stack.enter_async_context(
                    SqlStore(
                        engine,
                        compact_threshold=settings.compact_threshold,
                        on_commit=metrics.record_store_commit,
                    )
                )
            origin = f"{settings.node_id}/{secrets.token_hex(4)}"
            broker: Broker
            if settings.redis_url is None:
                broker = MemoryBroker()
            else:
                redis = await stack.enter_async_context(
                    RedisBroker(settings.redis_url, metrics, origin)
                )
                try:
                    async with asyncio.timeout(5.0):
                        await redis.wait_connected()
                except TimeoutError:
                    logger.warning("Redis is unreachable; serving local clients until it is back")
                broker = redis
            app.state.broker = broker
            services = RoomServices(
                store=active,
                broker=broker,
                metrics=metrics,
                origin=origin,
                max_pending_bytes=settings.max_pending_bytes,
            )
            rooms = await stack.enter_async_context(
                RoomManager(
                    services,
                    grace_seconds=settings.room_grace_seconds,
                    presence_timeout=settings.presence_timeout_seconds,
                )
            )
            app.state.hub = Hub(settings, metrics, rooms, authenticate)
            logger.info("node %s ready", settings.node_id)
            yield
            logger.info("node %s stopping: committing pending edits", settings.node_id)

    async def healthz(request: Request) -> Response:
        body: dict[str, object] = {"status": "ok", "node_id": settings.node_id}
        broker = request.app.state.broker
        if isinstance(broker, RedisBroker):
            # Without Redis a node still serves its clients: report it, stay healthy.
            body["redis"] = "connected" if broker.connected else "down"
        return JSONResponse(body)

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/metrics", metrics_endpoint),
            WebSocketRoute("/ws/{document_id}", websocket_endpoint),
        ],
        lifespan=lifespan,
    )
