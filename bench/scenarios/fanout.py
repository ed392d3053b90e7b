"""Fan-out: one writer, many readers of one document, a steady phase then a burst."""

from __future__ import annotations

import asyncio
import math
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from bench.scenarios.common import (
    CHUNK,
    Figure,
    Run,
    count_diverged,
    gather,
    open_clients,
    percentile,
    quiet,
    require_open,
    server_cpu,
)
from bench.targets import GessTarget, Server, Target
from bench.workers import spread

__all__ = ["FanoutResult", "Phase", "fanout", "fanout_figures", "fanout_once"]


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
    await gather(
        [
            run.workers[i].call("record", keys=keys, writer=writer_id, chunk=CHUNK, base=base)
            for i, keys in reader_groups.items()
        ]
    )
    workers = [run.workers[i] for i in reader_groups]
    deadline = time.monotonic() + run.sizes.drain_seconds
    client_before = run.pool.cpu_seconds()
    server_before = server_cpu(server_pids)
    sent = await writer.call("write", key="w", count=count, rate=rate, chunk=CHUNK)
    await quiet(workers, deadline)
    client_used = run.pool.cpu_seconds() - client_before
    server_used = server_cpu(server_pids) - server_before
    # Decoding what arrived happens only once nothing arrives any more: a worker busy decoding
    # would stamp the messages still in flight late.
    while True:
        progress = await gather(
            [run.workers[i].call("progress", keys=keys) for i, keys in reader_groups.items()]
        )
        if all(p["min"] >= count for p in progress) or time.monotonic() >= deadline:
            break
        await quiet(workers, deadline)
    send_times: list[float] = sent["send_times"]
    finished = await gather(
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
    opened = await open_clients(writer, writer_url, dialect, [{"key": "w", "doc": document}])
    require_open([opened])
    writer_id = int(opened["ids"]["w"])
    results = await gather(
        [
            open_clients(
                run.workers[i], reader_url, dialect, [{"key": k, "doc": document} for k in ks]
            )
            for i, ks in groups.items()
        ]
    )
    require_open(results)
    try:
        steady = await _phase(run, groups, writer_id, 0, steady_count, run.sizes.rate, server_pids)
        burst_phase = await _phase(run, groups, writer_id, steady_count, burst, 0, server_pids)
        everyone = {**groups}
        everyone[0] = ["w", *everyone.get(0, [])]
        diverged = await count_diverged(run, everyone, [["w", *keys]])
    finally:
        await run.pool.close_all()
    return FanoutResult(steady=steady, burst=burst_phase, diverged=diverged)


def fanout_figures(scenario: str, label: str, result: FanoutResult, rate: int) -> list[Figure]:
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
        figures += fanout_figures("fan-out", f"R={readers}", result, run.sizes.rate)
        if before is not None and after is not None and after[1] > before[1]:
            # Durable before visible: each broadcast waited for this (an fsync on SQLite).
            mean = (after[0] - before[0]) / (after[1] - before[1]) * 1000
            figures.append(
                Figure("fan-out", f"R={readers} GESS mean commit (its /metrics)", mean, "ms")
            )
    return figures
