"""Connections: idle, synced connections in steps, and the server's memory per connection."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from bench.scenarios.common import Figure, Run, gather, open_clients, percentile
from bench.system import rss_bytes
from bench.targets import Target
from bench.workers import spread

__all__ = ["connections"]


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
                    results += await gather(
                        [
                            open_clients(
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
