"""Prometheus metrics of one server node, in a registry of its own (one per app).

Counters and gauges touched per message are plain numbers (:class:`Count`, :class:`Level`)
exported by a collector of our own, not ``prometheus_client`` metrics: those take a lock on
every ``inc()``, several times per message per reader, although only the event loop's thread
ever updates them. The names, types and values at ``GET /metrics`` are the same. The
histograms, observed once per commit, stay ``prometheus_client`` ones.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["Count", "Labelled", "Level", "Metrics"]

# The *_created series double the output and no dashboard reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Count:
    """A counter: only goes up. Update it from the event loop's thread only."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: float = 0

    def inc(self, amount: float = 1) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self.value += amount


class Level:
    """A gauge: goes up and down. Update it from the event loop's thread only."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: float = 0

    def inc(self, amount: float = 1) -> None:
        self.value += amount

    def dec(self, amount: float = 1) -> None:
        self.value -= amount

    def set(self, value: float) -> None:
        self.value = value


class Labelled:
    """A counter with one label: one :class:`Count` per label value, made on first use."""

    __slots__ = ("children", "label")

    def __init__(self, label: str) -> None:
        self.label = label
        self.children: dict[str, Count] = {}

    def labels(self, value: str) -> Count:
        child = self.children.get(value)
        if child is None:
            child = self.children[value] = Count()
        return child


_Plain = Count | Level | Labelled


class _PlainCollector(Collector):
    """Exports the plain metrics of one :class:`Metrics` in the standard format."""

    def __init__(self) -> None:
        self.metrics: list[tuple[str, str, _Plain]] = []

    def collect(self) -> Iterator[Metric]:
        for name, documentation, metric in self.metrics:
            if isinstance(metric, Level):
                yield GaugeMetricFamily(name, documentation, value=metric.value)
            elif isinstance(metric, Count):
                yield CounterMetricFamily(name, documentation, value=metric.value)
            else:
                family = CounterMetricFamily(name, documentation, labels=[metric.label])
                for value, child in sorted(metric.children.items()):
                    family.add_metric([value], child.value)
                yield family


class Metrics:
    """Every metric a node exports at ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._plain = _PlainCollector()
        self.documents_loaded = self._level(
            "gess_documents_loaded", "Documents held in memory by open rooms"
        )
        self.document_loads = self._count(
            "gess_document_loads", "Times a document was loaded from storage"
        )
        self.connections = self._level("gess_connections", "Open WebSocket connections")
        self.messages_received = self._count(
            "gess_messages_received", "WebSocket messages received from clients"
        )
        self.messages_sent = self._count("gess_messages_sent", "WebSocket messages sent to clients")
        self.bytes_received = self._count("gess_bytes_received", "Bytes received from clients")
        self.bytes_sent = self._count("gess_bytes_sent", "Bytes sent to clients")
        self.commit_seconds = Histogram(
            "gess_commit_seconds",
            "Time from handing a room's updates to the store until they are committed",
            buckets=(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )
        self.updates_pending = self._level(
            "gess_updates_pending",
            "Updates received and not yet committed (they are not visible yet)",
        )
        self.store_transactions = Histogram(
            "gess_store_transaction_updates",
            "Updates written per store transaction (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=self.registry,
        )
        self.pubsub_published = self._count(
            "gess_pubsub_published", "Envelopes published to other nodes"
        )
        self.pubsub_publish_failures = self._count(
            "gess_pubsub_publish_failures",
            "Envelopes that could not be published (Redis unreachable)",
        )
        self.pubsub_received = self._count(
            "gess_pubsub_received", "Envelopes received from other nodes"
        )
        self.pubsub_gaps = self._count(
            "gess_pubsub_gaps", "Times a room noticed missed envelopes from another node"
        )
        self.pubsub_catchups = self._count(
            "gess_pubsub_catchups",
            "Catch-ups from the database (after a gap, a Redis outage, or a room load)",
        )
        self.redis_connected = self._level(
            "gess_redis_connected",
            "1 while the node's Redis subscription is connected (absent without --redis-url)",
        )
        self.disconnects = Labelled("reason")
        self._plain.metrics.append(
            ("gess_disconnects", "Connections the server closed, by reason", self.disconnects)
        )
        self.registry.register(self._plain)

    def _count(self, name: str, documentation: str) -> Count:
        count = Count()
        self._plain.metrics.append((name, documentation, count))
        return count

    def _level(self, name: str, documentation: str) -> Level:
        level = Level()
        self._plain.metrics.append((name, documentation, level))
        return level

    def record_store_commit(self, updates: int, seconds: float) -> None:
        """Called by the store after each transaction."""
        self.store_transactions.observe(updates)

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
