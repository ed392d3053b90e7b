"""Prometheus metrics of one server node, in a registry of its own (one per app)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

__all__ = ["Metrics"]

# The *_created series double the output and no dashboard reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """Every metric a node exports at ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.documents_loaded = Gauge(
            "gess_documents_loaded", "Documents held in memory by open rooms", registry=r
        )
        self.document_loads = Counter(
            "gess_document_loads", "Times a document was loaded from storage", registry=r
        )
        self.connections = Gauge("gess_connections", "Open WebSocket connections", registry=r)
        self.messages_received = Counter(
            "gess_messages_received", "WebSocket messages received from clients", registry=r
        )
        self.messages_sent = Counter(
            "gess_messages_sent", "WebSocket messages sent to clients", registry=r
        )
        self.bytes_received = Counter(
            "gess_bytes_received", "Bytes received from clients", registry=r
        )
        self.bytes_sent = Counter("gess_bytes_sent", "Bytes sent to clients", registry=r)
        self.commit_seconds = Histogram(
            "gess_commit_seconds",
            "Time from handing a room's updates to the store until they are committed",
            buckets=(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=r,
        )
        self.updates_pending = Gauge(
            "gess_updates_pending",
            "Updates received and not yet committed (they are not visible yet)",
            registry=r,
        )
        self.store_transactions = Histogram(
            "gess_store_transaction_updates",
            "Updates written per store transaction (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=r,
        )
        self.pubsub_published = Counter(
            "gess_pubsub_published", "Envelopes published to other nodes", registry=r
        )
        self.pubsub_publish_failures = Counter(
            "gess_pubsub_publish_failures",
            "Envelopes that could not be published (Redis unreachable)",
            registry=r,
        )
        self.pubsub_received = Counter(
            "gess_pubsub_received", "Envelopes received from other nodes", registry=r
        )
        self.pubsub_gaps = Counter(
            "gess_pubsub_gaps",
            "Times a room noticed missed envelopes from another node",
            registry=r,
        )
        self.pubsub_catchups = Counter(
            "gess_pubsub_catchups",
            "Catch-ups from the database (after a gap, a Redis outage, or a room load)",
            registry=r,
        )
        self.redis_connected = Gauge(
            "gess_redis_connected",
            "1 while the node's Redis subscription is connected (absent without --redis-url)",
            registry=r,
        )
        self.disconnects = Counter(
            "gess_disconnects",
            "Connections the server closed, by reason",
            ["reason"],
            registry=r,
        )

    def record_store_commit(self, updates: int, seconds: float) -> None:
        """Called by the store after each transaction."""
        self.store_transactions.observe(updates)

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
