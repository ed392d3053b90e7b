"""Throughput: many documents, two writers each, as fast as a bounded window allows."""

from __future__ import annotations

from bench.scenarios.common import (
    CHUNK,
    Figure,
    Run,
    count_diverged,
    gather,
    open_clients,
    require_open,
    server_cpu,
)
from bench.targets import Target

__all__ = ["throughput"]


async def throughput(run: Run, target: Target) -> list[Figure]:
    sizes = run.sizes
    count = len(run.workers)
    per_worker: dict[int, list[int]] = {i: [] for i in range(count)}
    for doc in range(sizes.throughput_docs):
        per_worker[doc % count].append(doc)
    async with target.running(run.pinning) as server:
        run.log(f"throughput {sizes.throughput_docs} docs x 2 writers on {target.name}")
        opened = await gather(
            [
                open_clients(
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
            require_open(opened)
            server_before = server_cpu([server.pid] if server.pid else [])
            async with run.pool.measure_cpu() as meter:
                results = await gather(
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
            server_used = server_cpu([server.pid] if server.pid else []) - server_before
            server_share = server_used / meter.wall if server.pid else None
            groups = {i: [f"t{d}{s}" for d in docs for s in "ab"] for i, docs in per_worker.items()}
            diverged = await count_diverged(
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
