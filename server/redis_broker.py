"""Redis pub/sub between nodes: the :class:`~server.broker.Broker` port over Redis.

Imported only by a node started with a Redis URL.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from crdt import ProtocolError
from crdt.relay import Envelope, EnvelopeKind, decode_envelope, encode_envelope
from server.broker import Deliver
from server.metrics import Metrics

__all__ = ["RedisBroker", "channel_name"]

logger = logging.getLogger("gess.broker")

_MAX_OUTBOX = 100_000
"""Envelopes waiting for Redis before new ones are dropped (and caught up by subscribers)."""


def channel_name(document_id: str) -> str:
    return f"gess:doc:{document_id}"


class RedisBroker:
    """Redis pub/sub: one channel per document, ``gess:doc:{document_id}``.

    An async context manager that owns a listening task. When the connection to Redis fails,
    publishing is skipped (counted in the metrics) while the node keeps serving its own
    clients; the listener reconnects with backoff, resubscribes every channel, then calls the
    ``on_resubscribed`` callback so every room catches up from the database.

    Args:
        url: ``redis://host:port/db``.
        metrics: the node's metrics.
        origin: this node's origin in envelopes; Redis hands a publisher its own messages
            back, and these are dropped here.
    """

    shared = True

    def __init__(self, url: str, metrics: Metrics, origin: str) -> None:
        self._url = url
        self._origin = origin
        self._metrics = metrics
        self._subscribers: dict[str, Deliver] = {}
        self._publisher = self._client()
        self._pubsub: PubSub | None = None
        self._connected = asyncio.Event()
        self._resubscribed: Callable[[], Awaitable[None]] | None = None
        self._tasks: asyncio.TaskGroup | None = None
        self._stop = asyncio.Event()
        self._outbox: deque[tuple[str, bytes, bool]] = deque()
        self._outbox_ready = asyncio.Event()

    def _client(self) -> Redis:
        # No silent retries: an outage must surface here so that rooms catch up afterwards.
        return Redis.from_url(self._url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=2.0)

    def on_resubscribed(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._resubscribed = callback

    async def __aenter__(self) -> RedisBroker:
        self._tasks = asyncio.TaskGroup()
        await self._tasks.__aenter__()
        self._tasks.create_task(self._listen())
        self._tasks.create_task(self._publish_loop())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._tasks is not None
        self._stop.set()
        self._outbox_ready.set()  # the publisher drains what is queued, then returns
        await self._tasks.__aexit__(exc_type, exc, tb)
        await self._publisher.aclose()

    @property
    def connected(self) -> bool:
        """Whether the subscription to Redis is up right now."""
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        """Return once the subscription to Redis is up."""
        await self._connected.wait()

    async def subscribe(self, document_id: str, deliver: Deliver) -> None:
        self._subscribers[document_id] = deliver
        if self._pubsub is not None:
            try:
                await self._pubsub.subscribe(channel_name(document_id))
            except (RedisError, OSError) as exc:
                # The listener resubscribes everything once Redis is back.
                logger.warning("could not subscribe to %s: %s", document_id, exc)

    async def unsubscribe(self, document_id: str, deliver: Deliver) -> None:
        if self._subscribers.get(document_id) != deliver:  # bound methods compare by ==
            return
        del self._subscribers[document_id]
        if self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(channel_name(document_id))
            except (RedisError, OSError) as exc:
                logger.debug("could not unsubscribe from %s: %s", document_id, exc)

    def publish(self, document_id: str, envelope: Envelope) -> None:
        if len(self._outbox) >= _MAX_OUTBOX:
            # Redis is down or slow: drop; subscribers see the gap and catch up.
            self._metrics.pubsub_publish_failures.inc()
            return
        counted = envelope.kind is not EnvelopeKind.HEARTBEAT
        self._outbox.append((channel_name(document_id), encode_envelope(envelope), counted))
        self._outbox_ready.set()

    async def _publish_loop(self) -> None:
        while True:
            if not self._outbox:
                if self._stop.is_set():
                    return
                self._outbox_ready.clear()
                await self._outbox_ready.wait()
                continue
            channel, data, counted = self._outbox.popleft()
            try:
                await self._publisher.publish(channel, data)
            except (RedisError, OSError) as exc:
                self._metrics.pubsub_publish_failures.inc()
                logger.debug("publish to %s failed: %s", channel, exc)
                continue
            if counted:
                self._metrics.pubsub_published.inc()

    async def _listen(self) -> None:
        delay = 0.1
        first = True
        while not self._stop.is_set():
            pubsub = self._client().pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.ping()
                channels: set[str] = set()
                while missing := {channel_name(d) for d in self._subscribers} - channels:
                    # Documents may open while we subscribe: loop until none is missing, then
                    # publish the pubsub (no await in between), after which subscribe() does it.
                    await pubsub.subscribe(*missing)
                    channels |= missing
                self._pubsub = pubsub
                self._connected.set()
                self._metrics.redis_connected.set(1)
                logger.info("connected to Redis (%d channels)", len(channels))
                delay = 0.1
                if not first and self._resubscribed is not None:
                    await self._resubscribed()
                first = False
                await self._pump(pubsub)
            except (RedisError, OSError) as exc:
                if self._connected.is_set():
                    logger.warning("lost Redis: %s; serving local clients only", exc)
                first = False
            finally:
                self._pubsub = None
                self._connected.clear()
                self._metrics.redis_connected.set(0)
                await _close_quietly(pubsub)
            if not self._stop.is_set():
                await _sleep_or_stop(self._stop, delay * (0.5 + random.random()))
                delay = min(delay * 2, 5.0)

    async def _pump(self, pubsub: PubSub) -> None:
        idle = 0.0
        while not self._stop.is_set():
            message = await pubsub.get_message(timeout=1.0)
            if message is None:
                idle += 1.0
                if idle >= 5.0:
                    await pubsub.ping()  # an idle connection can die silently
                    idle = 0.0
                continue
            idle = 0.0
            if message.get("type") != "message":
                continue
            channel = message["channel"].decode()
            deliver = self._subscribers.get(channel.removeprefix("gess:doc:"))
            if deliver is None:
                continue
            try:
                envelope = decode_envelope(message["data"])
            except ProtocolError as exc:
                logger.error("dropping a malformed envelope on %s: %s", channel, exc)
                continue
            if envelope.origin == self._origin:
                continue
            if envelope.kind is not EnvelopeKind.HEARTBEAT:
                self._metrics.pubsub_received.inc()
            deliver(envelope)


async def _close_quietly(pubsub: PubSub) -> None:
    try:
        await pubsub.aclose()
    except (RedisError, OSError):
        return


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
