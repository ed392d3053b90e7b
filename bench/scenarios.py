"""The scenarios: each bounded in time and count, each checking that every client converged.

Every scenario starts from a fresh server (``target.running``), connects its clients through
the worker pool, measures, then compares every client's text and state vector: a client that
lacks updates counts them as lost, a client whose content differs counts as diverged.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.system import Pinning, cpu_seconds, free_port, rss_bytes
from bench.targets import GessTarget, Server, Target
from bench.workers import Worker, WorkerPool, spread

__all__ = [
    "FULL",
    "QUICK",
    "SCENARIOS",
    "FanoutResult",
    "Figure",
    "Run",
    "Sizes",
    "fanout_once",
    "percentile",
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


async def _gather(calls: Sequence[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*calls))


async def _open(
    worker: Worker, url: str, dialect: str, specs: list[dict[str, str]], concurrency: int = 32
) -> dict[str, Any]:
    if not specs:
        return {"synced_ms": [], "failed": [], "ids": {}, "wall_ms": 0.0}
    result: dict[str, Any] = await worker.call(
        "open", url=url, dialect=dialect, clients=specs, concurrency=concurrency
    )
    return result


def _require_open(results: Sequence[dict[str, Any]]) -> None:
    failed = [f for result in results for f in result["failed"]]
    if failed:
        raise RuntimeError(f"{len(failed)} clients did not sync, e.g. {failed[0]}")


async def _diverged(run: Run, groups: dict[int, list[str]], documents: Sequence[list[str]]) -> int:
    """Clients whose text or state vector differs from the first client of their document."""
    replies = await _gather(
        [run.workers[i].call("digest", keys=keys) for i, keys in groups.items()]
    )
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


# -- fan-out ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Phase:
    """One fan-out phase: latencies (sorted, ms), losses, and how busy each side was."""

    latencies: list[float]
    lost: int
    window: float
    """Seconds from the first send to the last arrival."""
    client_cpu: float
    """CPU seconds the load generator used in the phase (decoding afterwards excluded)."""
    server_cpu: float | None
    """CPU seconds the server used in the phase."""


@dataclass(slots=True)
class FanoutResult:
    steady: Phase
    burst: Phase
    diverged: int


async def _quiet(workers: Sequence[Worker], deadline: float, quiet: float = 0.3) -> None:
    """Wait until no recording client has received anything for ``quiet`` seconds."""
    last = -1
    while time.monotonic() < deadline:
        counts = await _gather([worker.call("received") for worker in workers])
        total = sum(int(count) for count in counts)
        if total == last:
            return
        last = total
        await asyncio.sleep(quiet)


def _server_cpu(pids: Sequence[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


async def _phase(
    run: Run,
    reader_groups: dict[int, list[str]],
    writer_id: int,
    base: int,
    count: int,
    rate: int,
    server_pids: Sequence[int],
) -> Phase:
    writer = run.workers[0]
    await _gather(
        [
            run.workers[i].call("record", keys=keys, writer=writer_id, chunk=CHUNK, base=base)
            for i, keys in reader_groups.items()
        ]
    )
    workers = [run.workers[i] for i in reader_groups]
    deadline = time.monotonic() + run.sizes.drain_seconds
    client_before = run.pool.cpu_seconds()
    server_before = _server_cpu(server_pids)
    sent = await writer.call("write", key="w", count=count, rate=rate, chunk=CHUNK)
    await _quiet(workers, deadline)
    client_used = run.pool.cpu_seconds() - client_before
    server_used = _server_cpu(server_pids) - server_before
    # Decoding what arrived happens only once nothing arrives any more: a worker busy decoding
    # would stamp the messages still in flight late.
    while True:
        progress = await _gather(
            [run.workers[i].call("progress", keys=keys) for i, keys in reader_groups.items()]
        )
        if all(p["min"] >= count for p in progress) or time.monotonic() >= deadline:
            break
        await _quiet(workers, deadline)
    send_times: list[float] = sent["send_times"]
    finished = await _gather(
        [
            run.workers[i].call("finish", keys=keys, send_times=send_times)
            for i, keys in reader_groups.items()
        ]
    )
    last = max(float(f["last_arrival"]) for f in finished)
    window = max(last - send_times[0], 1.0) / 1000 if send_times else 0.0
    return Phase(
        latencies=sorted(lat for f in finished for lat in f["latencies"]),
        lost=sum(int(f["lost"]) for f in finished),
        window=window,
        client_cpu=client_used,
        server_cpu=server_used if server_pids else None,
    )


async def fanout_once(
    run: Run,
    *,
    writer_url: str,
    reader_url: str,
    dialect: str,
    readers: int,
    document: str,
    steady_count: int,
    burst: int,
    server_pids: Sequence[int] = (),
) -> FanoutResult:
    """One writer, ``readers`` readers of one document: a steady phase, then a burst."""
    writer = run.workers[0]
    reader_workers = list(range(1, len(run.workers))) or [0]
    keys = [f"r{i}" for i in range(readers)]
    dealt = spread(keys, len(reader_workers))
    groups = {reader_workers[i]: dealt[i] for i in range(len(reader_workers)) if dealt[i]}
    opened = await _open(writer, writer_url, dialect, [{"key": "w", "doc": document}])
    _require_open([opened])
    writer_id = int(opened["ids"]["w"])
    results = await _gather(
        [
            _open(run.workers[i], reader_url, dialect, [{"key": k, "doc": document} for k in ks])
            for i, ks in groups.items()
        ]
    )
    _require_open(results)
    try:
        steady = await _phase(run, groups, writer_id, 0, steady_count, run.sizes.rate, server_pids)
        burst_phase = await _phase(run, groups, writer_id, steady_count, burst, 0, server_pids)
        everyone = {**groups}
        everyone[0] = ["w", *everyone.get(0, [])]
        diverged = await _diverged(run, everyone, [["w", *keys]])
    finally:
        await run.pool.close_all()
    return FanoutResult(steady=steady, burst=burst_phase, diverged=diverged)


def _fanout_figures(scenario: str, label: str, result: FanoutResult, rate: int) -> list[Figure]:
    figures = []
    for name, phase in ((f"{rate}/s", result.steady), ("burst", result.burst)):
        for stat, q in (("p50", 50.0), ("p99", 99.0), ("max", 100.0)):
            figures.append(
                Figure(
                    scenario,
                    f"{label} {name} {stat}",
                    percentile(phase.latencies, q),
                    "ms",
                    "lower",
                )
            )
        figures.append(Figure(scenario, f"{label} {name} lost updates", phase.lost, "", "lower"))
        # A steady phase is long enough for a share of a core to mean something; a burst
        # lasts milliseconds, so its CPU is given as time spent.
        sides = (("client", phase.client_cpu), ("server", phase.server_cpu))
        for side, used in sides:
            if used is None:
                continue
            if phase is result.steady:
                share = used / phase.window * 100 if phase.window else math.nan
                figures.append(Figure(scenario, f"{label} {name} {side} CPU", share, "% of a core"))
            else:
                figures.append(
                    Figure(scenario, f"{label} {name} {side} CPU time", used * 1000, "ms")
                )
    figures.append(Figure(scenario, f"{label} diverged clients", result.diverged, "", "lower"))
    return figures


async def _commit_totals(server: Server) -> tuple[float, float] | None:
    """GESS's own ``gess_commit_seconds`` sum and count, from its ``/metrics``."""
    url = server.url.replace("ws://", "http://").removesuffix("/ws") + "/metrics"

    def fetch() -> str:
        with urllib.request.urlopen(url, timeout=5) as response:  # loopback only
            text: str = response.read().decode()
            return text

    try:
        text = await asyncio.to_thread(fetch)
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("gess_commit_seconds_sum", "gess_commit_seconds_count"):
            values[name] = float(value)
    if len(values) != 2:
        return None
    return values["gess_commit_seconds_sum"], values["gess_commit_seconds_count"]


async def fanout(run: Run, target: Target) -> list[Figure]:
    figures: list[Figure] = []
    steady_count = int(run.sizes.rate * run.sizes.steady_seconds)
    for readers in run.sizes.readers:
        async with target.running(run.pinning) as server:
            run.log(f"fan-out R={readers} on {target.name}")
            before = await _commit_totals(server) if isinstance(target, GessTarget) else None
            result = await fanout_once(
                run,
                writer_url=server.url,
                reader_url=server.url,
                dialect=server.dialect,
                readers=readers,
                document=f"fanout-{readers}-{run.token}",
                steady_count=steady_count,
                burst=run.sizes.burst,
                server_pids=[server.pid] if server.pid else [],
            )
            after = await _commit_totals(server) if before is not None else None
        figures += _fanout_figures("fan-out", f"R={readers}", result, run.sizes.rate)
        if before is not None and after is not None and after[1] > before[1]:
            # Durable before visible: each broadcast waited for this (an fsync on SQLite).
            mean = (after[0] - before[0]) / (after[1] - before[1]) * 1000
            figures.append(
                Figure("fan-out", f"R={readers} GESS mean commit (its /metrics)", mean, "ms")
            )
    return figures


# -- throughput ------------------------------------------------------------------------------


async def throughput(run: Run, target: Target) -> list[Figure]:
    sizes = run.sizes
    count = len(run.workers)
    per_worker: dict[int, list[int]] = {i: [] for i in range(count)}
    for doc in range(sizes.throughput_docs):
        per_worker[doc % count].append(doc)
    async with target.running(run.pinning) as server:
        run.log(f"throughput {sizes.throughput_docs} docs x 2 writers on {target.name}")
        opened = await _gather(
            [
                _open(
                    run.workers[i],
                    server.url,
                    server.dialect,
                    [
                        {"key": f"t{d}{side}", "doc": f"tp-{d}-{run.token}"}
                        for d in docs
                        for side in "ab"
                    ],
                )
                for i, docs in per_worker.items()
            ]
        )
        try:
            _require_open(opened)
            server_before = _server_cpu([server.pid] if server.pid else [])
            async with run.pool.measure_cpu() as meter:
                results = await _gather(
                    [
                        run.workers[i].call(
                            "throughput",
                            pairs=[[f"t{d}a", f"t{d}b"] for d in docs],
                            duration_ms=sizes.throughput_seconds * 1000,
                            drain_ms=sizes.drain_seconds * 1000,
                            window=sizes.window,
                            chunk=CHUNK,
                        )
                        for i, docs in per_worker.items()
                        if docs
                    ]
                )
            server_used = _server_cpu([server.pid] if server.pid else []) - server_before
            server_share = server_used / meter.wall if server.pid else None
            groups = {i: [f"t{d}{s}" for d in docs for s in "ab"] for i, docs in per_worker.items()}
            diverged = await _diverged(
                run,
                {i: keys for i, keys in groups.items() if keys},
                [[f"t{d}a", f"t{d}b"] for d in range(sizes.throughput_docs)],
            )
        finally:
            await run.pool.close_all()
    elapsed = max(r["elapsed_ms"] for r in results) / 1000
    sent = sum(int(r["sent"]) for r in results)
    in_window = sum(int(r["delivered_in_window"]) for r in results)
    delivered = sum(int(r["delivered"]) for r in results)
    scenario = "throughput"
    label = f"{sizes.throughput_docs}x2 writers"
    return [
        Figure(scenario, f"{label} updates delivered/s", in_window / elapsed, "/s", "higher"),
        Figure(scenario, f"{label} updates sent/s", sent / elapsed, "/s", "higher"),
        Figure(scenario, f"{label} lost updates", sent - delivered, "", "lower"),
        Figure(scenario, f"{label} diverged clients", diverged, "", "lower"),
        Figure(scenario, f"{label} client CPU", meter.share * 100, "% of a core"),
        *(
            [Figure(scenario, f"{label} server CPU", server_share * 100, "% of a core")]
            if server_share is not None
            else []
        ),
    ]


# -- connections -----------------------------------------------------------------------------


async def connections(run: Run, target: Target) -> list[Figure]:
    sizes = run.sizes
    figures: list[Figure] = []
    scenario = "connections"

    def doc_of(key: str) -> str:
        return f"conn-{int(key[1:]) % sizes.connection_docs}-{run.token}"

    async with target.running(run.pinning) as server:
        await asyncio.sleep(1.0)
        baseline = rss_bytes(server.pid) if server.pid else None
        opened_so_far = 0
        try:
            for level in sizes.connections:
                run.log(f"connections: {level} on {target.name}")
                keys = [f"c{i}" for i in range(opened_so_far, level)]
                # Keys c0.. cover each document once: they open first (see worker.mjs `open`).
                first = [k for k in keys if int(k[1:]) < sizes.connection_docs]
                rest = [k for k in keys if int(k[1:]) >= sizes.connection_docs]
                started = time.monotonic()
                results = []
                for batch in (first, rest):
                    results += await _gather(
                        [
                            _open(
                                run.workers[i],
                                server.url,
                                server.dialect,
                                [{"key": k, "doc": doc_of(k)} for k in ks],
                                concurrency=64,
                            )
                            for i, ks in enumerate(spread(batch, len(run.workers)))
                        ]
                    )
                wall = time.monotonic() - started
                opened_so_far = level
                failed = sum(len(r["failed"]) for r in results)
                synced = sorted(ms for r in results for ms in r["synced_ms"])
                await asyncio.sleep(1.0)
                label = f"{level:,}"
                figures.append(
                    Figure(scenario, f"{label}: time to connect and sync all", wall, "s", "lower")
                )
                figures.append(
                    Figure(
                        scenario,
                        f"{label}: one connection's sync p99",
                        percentile(synced, 99),
                        "ms",
                        "lower",
                    )
                )
                if baseline is not None and server.pid:
                    per = (rss_bytes(server.pid) - baseline) / level / 1024
                    figures.append(
                        Figure(scenario, f"{label}: server memory per connection", per, "KiB")
                    )
                    figures[-1] = replace(figures[-1], better="lower")
                figures.append(
                    Figure(scenario, f"{label}: failed connections", failed, "", "lower")
                )
        finally:
            await run.pool.close_all()
    return figures


# -- cold load -------------------------------------------------------------------------------


async def _fresh_sync(run: Run, server: Server, document: str, key: str) -> tuple[float, str]:
    """Milliseconds from connect to synced for a new client, and its digest."""
    worker = run.workers[1 % len(run.workers)]
    opened = await _open(worker, server.url, server.dialect, [{"key": key, "doc": document}], 1)
    _require_open([opened])
    digest = (await worker.call("digest", keys=[key]))[key]
    await worker.call("close", keys=[key])
    return float(opened["synced_ms"][0]), f"{digest['text_sha1']}/{digest['state_vector']}"


async def cold_load(run: Run, target: Target) -> list[Figure]:
    sizes = run.sizes
    scenario = "cold load"
    builder = run.workers[0]
    many = f"cold-many-{run.token}"
    big = f"cold-big-{run.token}"
    big_updates = 50
    big_chunk = max(1, sizes.cold_bytes // big_updates)
    figures: list[Figure] = []
    labels = {many: f"{sizes.cold_updates:,} updates", big: f"{sizes.cold_bytes / 1e6:g} MB"}
    async with target.running(run.pinning) as server:
        run.log(f"cold load on {target.name}: building documents")
        opened = await _open(
            builder,
            server.url,
            server.dialect,
            [
                {"key": "b-many", "doc": many},
                {"key": "h-many", "doc": many},
                {"key": "b-big", "doc": big},
                {"key": "h-big", "doc": big},
            ],
        )
        _require_open([opened])
        built_many = await builder.call(
            "build",
            key="b-many",
            holder="h-many",
            count=sizes.cold_updates,
            chunk=1,
            jump=100,
            window=32,
        )
        built_big = await builder.call(
            "build",
            key="b-big",
            holder="h-big",
            count=big_updates,
            chunk=big_chunk,
            jump=0,
            window=4,
        )
        holders = await builder.call("digest", keys=["h-many", "h-big"])
        expected = {
            many: f"{holders['h-many']['text_sha1']}/{holders['h-many']['state_vector']}",
            big: f"{holders['h-big']['text_sha1']}/{holders['h-big']['state_vector']}",
        }
        await builder.call("close", keys=["b-many", "b-big"])
        figures.append(
            Figure(scenario, f"{labels[many]}: encoded size", built_many["bytes"] / 1024, "KiB")
        )
        figures.append(
            Figure(scenario, f"{labels[big]}: encoded size", built_big["bytes"] / 1024, "KiB")
        )
        mismatched = 0
        for document in (many, big):
            samples = []
            for sample in range(sizes.cold_samples):
                ms, digest = await _fresh_sync(run, server, document, f"f{sample}")
                samples.append(ms)
                mismatched += digest != expected[document]
            samples.sort()
            figures.append(
                Figure(
                    scenario,
                    f"{labels[document]}: sync, in memory (median)",
                    percentile(samples, 50),
                    "ms",
                    "lower",
                )
            )
        await builder.call("close", keys=["h-many", "h-big"])
        if server.can_restart:
            stored: dict[str, list[float]] = {many: [], big: []}
            for restart in range(sizes.cold_restarts):
                run.log(f"cold load on {target.name}: restart {restart + 1}")
                await server.restart()
                order = (many, big) if restart % 2 == 0 else (big, many)
                for document in order:
                    ms, digest = await _fresh_sync(run, server, document, f"s{restart}")
                    stored[document].append(ms)
                    mismatched += digest != expected[document]
            for document in (many, big):
                samples = sorted(stored[document])
                figures.append(
                    Figure(
                        scenario,
                        f"{labels[document]}: sync, from storage after restart (median)",
                        percentile(samples, 50),
                        "ms",
                        "lower",
                    )
                )
        else:
            for document in (many, big):
                figures.append(
                    Figure(
                        scenario,
                        f"{labels[document]}: sync, from storage after restart (median)",
                        None,
                        note="n/a: no storage by default",
                    )
                )
        figures.append(
            Figure(scenario, "fresh clients with other content", mismatched, "", "lower")
        )
    return figures


# -- cross-node ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _redis(pinning: Pinning, tmp: Path) -> AsyncIterator[str]:
    binary = shutil.which("redis-server")
    assert binary is not None
    port = free_port()
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly"]
    command += ["no", "--dir", str(tmp)]
    if pinning.server is not None:
        command = ["taskset", "-c", pinning.server, *command]
    with (tmp / "redis.log").open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            break
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        await process.wait()


async def cross_node(run: Run, target: Target) -> list[Figure]:
    scenario = "cross-node"
    if not isinstance(target, GessTarget):
        return [Figure(scenario, "status", None, note="n/a: no several-node mode by default")]
    if not target.accepts("--redis-url"):
        return [Figure(scenario, "status", None, note="skipped: needs the several-nodes issue")]
    if shutil.which("redis-server") is None:
        return [Figure(scenario, "status", None, note="skipped: redis-server is not installed")]
    readers = run.sizes.crossnode_readers
    steady_count = int(run.sizes.rate * run.sizes.steady_seconds)
    with tempfile.TemporaryDirectory(prefix="bench-cross-") as name:
        tmp = Path(name)
        async with _redis(run.pinning, tmp) as redis_url:
            nodes = [
                target.make(
                    tmp,
                    free_port(),
                    run.pinning,
                    data_dir=tmp / "data",
                    extra_args=["--redis-url", redis_url, "--node-id", f"node-{n}"],
                    name=f"node-{n}",
                )
                for n in range(2)
            ]
            try:
                for node in nodes:
                    await node.start()
                run.log(f"cross-node R={readers}: writer on node 0, readers on node 1")
                result = await fanout_once(
                    run,
                    writer_url=nodes[0].url,
                    reader_url=nodes[1].url,
                    dialect="yws",
                    readers=readers,
                    document=f"cross-{run.token}",
                    steady_count=steady_count,
                    burst=run.sizes.burst,
                    server_pids=[node.pid for node in nodes if node.pid],
                )
            finally:
                for node in nodes:
                    await node.stop()
    return _fanout_figures(scenario, f"2 nodes R={readers}", result, run.sizes.rate)


Scenario = Callable[[Run, Target], Awaitable[list[Figure]]]

SCENARIOS: dict[str, Scenario] = {
    "fanout": fanout,
    "throughput": throughput,
    "connections": connections,
    "cold": cold_load,
    "crossnode": cross_node,
}
