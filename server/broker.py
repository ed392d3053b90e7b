"""Brokers carry committed changes, presence and events between the nodes holding a document.

Two implementations of one small port: :class:`MemoryBroker` (one process: the embedded
default, and tests of several nodes in one process) and
:class:`~server.redis_broker.RedisBroker` (Redis pub/sub, for several processes or machines:
a module of its own, so that a node without Redis never imports the Redis client). A broker
is at-most-once: envelopes carry sequence numbers
so that rooms notice what was lost and catch up from the database (see :mod:`crdt.relay`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from crdt.relay import Envelope

__all__ = ["Broker", "Deliver", "MemoryBroker"]

logger = logging.getLogger("gess.broker")

Deliver = Callable[[Envelope], None]
"""Receives the envelopes published for a document by other nodes."""


class Broker(Protocol):
    """The port between rooms and the other nodes."""

    shared: bool
    """Whether other nodes may hold the same documents (False: nothing to catch up with)."""

    def on_resubscribed(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Call ``callback`` after an outage, once subscriptions are back (envelopes were lost)."""
        ...

    async def subscribe(self, document_id: str, deliver: Deliver) -> None:
        """Start delivering other nodes' envelopes for the document (one subscriber each)."""
        ...

    async def unsubscribe(self, document_id: str, deliver: Deliver) -> None:
        """Stop delivering to ``deliver`` (a no-op if another subscriber replaced it)."""
        ...

    def publish(self, document_id: str, envelope: Envelope) -> None:
        """Send an envelope to the other nodes: best effort, never blocks, never raises."""
        ...


class MemoryBroker:
    """Delivers envelopes between the rooms of one process, each to every other subscriber.

    Several :class:`MemoryBroker` objects made with the same ``hub`` behave like nodes sharing
    one Redis; the default (its own hub) connects nothing, as one node needs nothing.
    """

    def __init__(self, hub: dict[str, list[tuple[MemoryBroker, Deliver]]] | None = None) -> None:
        self.shared = hub is not None
        self._hub: dict[str, list[tuple[MemoryBroker, Deliver]]] = {} if hub is None else hub

    def on_resubscribed(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Never called: an in-process broker has no outages."""

    async def subscribe(self, document_id: str, deliver: Deliver) -> None:
        self._hub.setdefault(document_id, []).append((self, deliver))

    async def unsubscribe(self, document_id: str, deliver: Deliver) -> None:
        subscribers = [s for s in self._hub.get(document_id, []) if s != (self, deliver)]
        if subscribers:
            self._hub[document_id] = subscribers
        else:
            self._hub.pop(document_id, None)

    def publish(self, document_id: str, envelope: Envelope) -> None:
        for broker, deliver in list(self._hub.get(document_id, [])):
            if broker is not self:
                deliver(envelope)
