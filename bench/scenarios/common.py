"""What every scenario shares: sizes, figures, the run, and the convergence checks.

Every scenario starts from a fresh server (``target.running``), connects its clients through
the worker pool, measures, then compares every client's text and state vector: a client that
lacks updates counts them as lost, a client whose content differs counts as diverged.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.system import Pinning, cpu_seconds
from bench.workers import Worker, WorkerPool

__all__ = [
    "CHUNK",
    "FULL",
    "QUICK",
    "Figure",
    "Run",
    "Sizes",
    "count_diverged",
    "gather",
    "open_clients",
    "percentile",
    "quiet",
    "require_open",
    "server_cpu",
]

CHUNK = 8
"""Characters each fan-out or throughput update inserts (its sequence number, padded)."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure (or a note saying why there is none)."""

    scenario: str
    name: str
    value: float | None
    unit: str = ""
    better: str = ""
    """``lower``, ``higher`` or empty (not a performance figure)."""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big each scenario is."""

    readers: tuple[int, ...] = (10, 100, 300)
    rate: int = 100
    steady_seconds: float = 5.0
    burst: int = 500
    throughput_docs: int = 50
    throughput_seconds: float = 10.0
    window: int = 16
    connections: tuple[int, ...] = (2000, 10000)
    connection_docs: int = 100
    cold_updates: int = 20000
    cold_bytes: int = 5_000_000
    cold_samples: int = 5
    cold_restarts: int = 3
    crossnode_readers: int = 10
    rooms_docs: int = 1000
    rooms_clients: int = 5
    rooms_seconds: float = 30.0
    typing_ms: tuple[int, int] = (200, 300)
    """Shortest and longest pause between one person's keystrokes."""
    large_bytes: int = 5_000_000
    large_writers: int = 3
    large_readers: int = 50
    large_seconds: float = 10.0
    storm_clients: int = 5000
    storm_docs: int = 500
    storm_seconds: float = 120.0
    """How long the reconnect storm may take before a client counts as never synced."""
    drain_seconds: float = 20.0
    workers: int = 4


FULL = Sizes()
QUICK = Sizes(
    readers=(10, 50),
    steady_seconds=2.0,
    burst=100,
    throughput_docs=10,
    throughput_seconds=3.0,
    connections=(200, 1000),
    connection_docs=20,
    cold_updates=2000,
    cold_bytes=500_000,
    cold_samples=3,
    cold_restarts=1,
    rooms_docs=50,
    rooms_seconds=5.0,
    large_bytes=500_000,
    large_readers=10,
    large_seconds=3.0,
    storm_clients=200,
    storm_docs=20,
    storm_seconds=30.0,
    drain_seconds=10.0,
)


@dataclass(slots=True)
class Run:
    """What every scenario of one run shares."""

    pool: WorkerPool
    pinning: Pinning
    sizes: Sizes
    log: Callable[[str], None]
    token: str = field(default_factory=lambda: secrets.token_hex(4))

    @property
    def workers(self) -> list[Worker]:
        return self.pool.workers


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (``q`` in 0..100); NaN when empty."""
    if not values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


async def gather(calls: Sequence[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*calls))


async def open_clients(
    worker: Worker, url: str, dialect: str, specs: list[dict[str, str]], concurrency: int = 32
) -> dict[str, Any]:
    if not specs:
        return {"synced_ms": [], "failed": [], "ids": {}, "wall_ms": 0.0}
    result: dict[str, Any] = await worker.call(
        "open", url=url, dialect=dialect, clients=specs, concurrency=concurrency
    )
    return result


def require_open(results: Sequence[dict[str, Any]]) -> None:
    failed = [f for result in results for f in result["failed"]]
    if failed:
        raise RuntimeError(f"{len(failed)} clients did not sync, e.g. {failed[0]}")


async def count_diverged(
    run: Run, groups: dict[int, list[str]], documents: Sequence[list[str]]
) -> int:
    """Clients whose text or state vector differs from the first client of their document."""
    replies = await gather([run.workers[i].call("digest", keys=keys) for i, keys in groups.items()])
    digests: dict[str, dict[str, Any]] = {}
    for reply in replies:
        digests.update(reply)
    diverged = 0
    for keys in documents:
        reference = digests[keys[0]]
        for key in keys[1:]:
            mine = digests[key]
            if mine["error"] or any(
                mine[field] != reference[field] for field in ("text_sha1", "state_vector")
            ):
                diverged += 1
    return diverged


async def quiet(workers: Sequence[Worker], deadline: float, quiet: float = 0.3) -> None:
    """Wait until no recording client has received anything for ``quiet`` seconds."""
    last = -1
    while time.monotonic() < deadline:
        counts = await gather([worker.call("received") for worker in workers])
        total = sum(int(count) for count in counts)
        if total == last:
            return
        last = total
        await asyncio.sleep(quiet)


def server_cpu(pids: Sequence[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)
