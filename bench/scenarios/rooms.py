"""Many small rooms: people typing at human pace in many documents at once.

:func:`type_in_rooms` is the typing phase that the many-rooms and the large-document scenarios
share: every typist of a room inserts :data:`CHUNK` characters, pauses a random
``sizes.typing_ms``, and again, for a bounded time; every client of the room records the
others' keystrokes, and each keystroke's latency is measured at every other client of its room.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

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
from bench.system import rss_bytes
from bench.targets import Target

__all__ = ["Room", "TypingResult", "many_rooms", "type_in_rooms", "typing_figures"]


class Room(TypedDict):
    """One room's share of one worker (what its ``type`` command takes)."""

    keys: list[str]
    """The room's clients in this worker; all of them record the others' keystrokes."""
    typists: list[str]
    """Those of ``keys`` that type."""
    writers: list[int]
    """The Yjs client ids of every typist of the room, in any worker."""


@dataclass(slots=True)
class TypingResult:
    latencies: list[float]
    """Every keystroke at every other client of its room, in ms, sorted."""
    sent: int
    lost: int
    """Keystrokes that some client of the room never received (counted once per client)."""
    window: float
    """Seconds from the start of typing until nothing more arrived."""
    server_cpu: float | None
    """CPU seconds the server used over ``window``."""
    client_cpu: float
    """CPU seconds the load generator used over ``window``."""


async def type_in_rooms(
    run: Run, rooms: dict[int, list[Room]], seconds: float, server_pids: Sequence[int]
) -> TypingResult:
    """Type in ``rooms`` (by worker index) for ``seconds``, then wait for every keystroke."""
    sizes = run.sizes
    # A room whose typists sit in another worker needs their send times passed along.
    spans = any(len(room["typists"]) < len(room["writers"]) for rs in rooms.values() for room in rs)
    keys = {i: [k for room in rs for k in room["keys"]] for i, rs in rooms.items()}
    workers = [run.workers[i] for i in rooms]
    started = time.monotonic()
    cpu_before = server_cpu(server_pids)
    client_before = run.pool.cpu_seconds()
    replies = await gather(
        [
            run.workers[i].call(
                "type",
                rooms=rs,
                duration_ms=seconds * 1000,
                min_ms=sizes.typing_ms[0],
                max_ms=sizes.typing_ms[1],
                chunk=CHUNK,
                seed=i + 1,
                return_times=spans,
            )
            for i, rs in rooms.items()
        ]
    )
    send_times: dict[str, list[float]] = {}
    for reply in replies:
        send_times.update(reply.get("send_times", {}))
    counts = {id_: len(times) for id_, times in send_times.items()}
    deadline = time.monotonic() + sizes.drain_seconds
    while True:
        await quiet(workers, deadline)
        progress = await gather(
            [run.workers[i].call("typing_progress", keys=ks, sent=counts) for i, ks in keys.items()]
        )
        if sum(int(p["missing"]) for p in progress) == 0 or time.monotonic() >= deadline:
            break
    window = time.monotonic() - started
    cpu_used = server_cpu(server_pids) - cpu_before
    client_used = run.pool.cpu_seconds() - client_before
    finished = await gather(
        [
            run.workers[i].call("typed", keys=ks, send_times=send_times if spans else {})
            for i, ks in keys.items()
        ]
    )
    return TypingResult(
        latencies=sorted(lat for f in finished for lat in f["latencies"]),
        sent=sum(int(r["sent"]) for r in replies),
        lost=sum(int(f["lost"]) for f in finished),
        window=window,
        server_cpu=cpu_used if server_pids else None,
        client_cpu=client_used,
    )


def typing_figures(scenario: str, label: str, result: TypingResult) -> list[Figure]:
    """Latency percentiles, keystrokes, losses and server CPU of one typing phase."""
    figures = [
        Figure(scenario, f"{label} {stat}", percentile(result.latencies, q), "ms", "lower")
        for stat, q in (("p50", 50.0), ("p99", 99.0), ("max", 100.0))
    ]
    figures.append(Figure(scenario, f"{label} keystrokes sent", result.sent))
    figures.append(Figure(scenario, f"{label} lost updates", result.lost, "", "lower"))
    if result.window > 0:
        for side, used in (("client", result.client_cpu), ("server", result.server_cpu)):
            if used is not None:
                share = used / result.window * 100
                figures.append(Figure(scenario, f"{label} {side} CPU", share, "% of a core"))
    return figures


async def many_rooms(run: Run, target: Target) -> list[Figure]:
    """``rooms_docs`` documents × ``rooms_clients`` clients, every client typing."""
    sizes = run.sizes
    scenario = "many rooms"
    label = f"{sizes.rooms_docs:,}x{sizes.rooms_clients}"
    count = len(run.workers)
    # A room's clients share a worker, so its keystrokes' send times stay where they are read.
    docs_of: dict[int, list[int]] = {
        i: list(range(i, sizes.rooms_docs, count)) for i in range(count)
    }
    keys_of = {
        d: [f"m{d}-{c}" for c in range(sizes.rooms_clients)] for d in range(sizes.rooms_docs)
    }
    async with target.running(run.pinning) as server:
        run.log(f"many rooms: {label} typing on {target.name}")
        pids = [server.pid] if server.pid else []
        try:
            opened = await gather(
                [
                    open_clients(
                        run.workers[i],
                        server.url,
                        server.dialect,
                        [
                            {"key": k, "doc": f"rooms-{d}-{run.token}"}
                            for d in ds
                            for k in keys_of[d]
                        ],
                    )
                    for i, ds in docs_of.items()
                ]
            )
            require_open(opened)
            ids = {k: v for reply in opened for k, v in reply["ids"].items()}
            rooms = {
                i: [
                    Room(keys=keys_of[d], typists=keys_of[d], writers=[ids[k] for k in keys_of[d]])
                    for d in ds
                ]
                for i, ds in docs_of.items()
                if ds
            }
            result = await type_in_rooms(run, rooms, sizes.rooms_seconds, pids)
            rss = rss_bytes(server.pid) if server.pid else None
            diverged = await count_diverged(
                run,
                {i: [k for d in ds for k in keys_of[d]] for i, ds in docs_of.items() if ds},
                list(keys_of.values()),
            )
        finally:
            await run.pool.close_all()
    figures = typing_figures(scenario, f"{label} typing", result)
    if rss is not None:
        figures.append(Figure(scenario, f"{label} server RSS", rss / 2**20, "MiB", "lower"))
    figures.append(Figure(scenario, f"{label} diverged clients", diverged, "", "lower"))
    return figures
