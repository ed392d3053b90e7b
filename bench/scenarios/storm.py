"""Reconnect storm: every client of a server reconnects at once after the server restarts.

``storm_clients`` clients over ``storm_docs`` documents connect and each types its own name
into its document; once every client holds every name, the server is stopped and started again
(GESS on the same data directory, so it reloads the documents from storage; a peer without
persistence starts empty and is re-seeded by the clients, whose sync answers the server's step 1
with everything it lacks, as any Yjs client does on reconnect). Clients do not retry while the
server is down: once it listens again, all of them reconnect at the same moment, and one whose
attempt fails retries with the y-websocket provider's backoff (100 ms × 2^n after its n-th
unsuccessful connection, the drop counting as the first; at most 2.5 s). Afterwards the
clients must all be equal again, and a new, empty client of each document must receive from the
server everything the clients held before the restart.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.scenarios.common import Figure, Run, gather, open_clients, percentile, require_open
from bench.targets import Server, Target
from bench.workers import spread

__all__ = ["reconnect_storm"]

_TIMEOUT_MS = 10_000
"""How long one connection attempt may take to sync before it counts as failed."""


def _content(digest: dict[str, Any]) -> str:
    return f"{digest['text_sha1']}/{digest['state_vector']}"


async def _settle(
    run: Run, groups: dict[int, list[str]], docs: dict[str, list[str]], deadline: float
) -> dict[str, dict[str, Any]]:
    """Every client's digest once every document's clients all hold all its names (or at
    ``deadline``, as they are then)."""
    expected = {doc: sum(len(k) + 1 for k in keys) for doc, keys in docs.items()}
    while True:
        digests: dict[str, dict[str, Any]] = {}
        for reply in await gather(
            [run.workers[i].call("digest", keys=ks) for i, ks in groups.items()]
        ):
            digests.update(reply)
        settled = all(
            digests[k]["length"] == expected[doc]
            and _content(digests[k]) == _content(digests[keys[0]])
            for doc, keys in docs.items()
            for k in keys
        )
        if settled or time.monotonic() >= deadline:
            return digests
        await asyncio.sleep(0.3)


async def _connect(
    run: Run, server: Server, keys: list[str], doc_of: dict[str, str]
) -> dict[int, list[str]]:
    """Connect ``keys``; returns which worker holds which of them."""
    # The first client of each document connects before the others (see worker.mjs `open`).
    first = list({doc_of[k]: k for k in reversed(keys)}.values())
    chosen = set(first)
    rest = [k for k in keys if k not in chosen]
    placed: dict[int, list[str]] = {}
    for batch in (first, rest):
        dealt = dict(enumerate(spread(batch, len(run.workers))))
        require_open(
            await gather(
                [
                    open_clients(
                        run.workers[i],
                        server.url,
                        server.dialect,
                        [{"key": k, "doc": doc_of[k]} for k in ks],
                        concurrency=64,
                    )
                    for i, ks in dealt.items()
                ]
            )
        )
        for i, ks in dealt.items():
            placed.setdefault(i, []).extend(ks)
    return {i: ks for i, ks in placed.items() if ks}


async def reconnect_storm(run: Run, target: Target) -> list[Figure]:
    sizes = run.sizes
    scenario = "reconnect storm"
    label = f"{sizes.storm_clients:,} clients"
    keys = [f"s{i}" for i in range(sizes.storm_clients)]
    doc_of = {k: f"storm-{i % sizes.storm_docs}-{run.token}" for i, k in enumerate(keys)}
    docs: dict[str, list[str]] = {}
    for k in keys:
        docs.setdefault(doc_of[k], []).append(k)
    async with target.running(run.pinning) as server:
        try:
            run.log(f"reconnect storm on {target.name}: {label} over {sizes.storm_docs} documents")
            groups = await _connect(run, server, keys, doc_of)
            await gather([run.workers[i].call("stamp", keys=ks) for i, ks in groups.items()])
            before = await _settle(run, groups, docs, time.monotonic() + sizes.drain_seconds)
            run.log(f"reconnect storm on {target.name}: restarting the server")
            stopped = time.monotonic()
            await server.restart()
            restart = time.monotonic() - stopped
            replies = await gather(
                [
                    run.workers[i].call(
                        "reconnect",
                        keys=ks,
                        deadline_ms=sizes.storm_seconds * 1000,
                        timeout_ms=_TIMEOUT_MS,
                    )
                    for i, ks in groups.items()
                ]
            )
            after = await _settle(run, groups, docs, time.monotonic() + sizes.drain_seconds)
            # The reconnected clients kept their own documents, so they cannot show a loss: a
            # new, empty client per document shows what the server holds after the storm.
            fresh_of = {f"sf{j}": doc for j, doc in enumerate(docs)}
            fresh = {i: ks for i, ks in enumerate(spread(list(fresh_of), len(run.workers))) if ks}
            require_open(
                await gather(
                    [
                        open_clients(
                            run.workers[i],
                            server.url,
                            server.dialect,
                            [{"key": k, "doc": fresh_of[k]} for k in ks],
                        )
                        for i, ks in fresh.items()
                    ]
                )
            )
            fresh_digests: dict[str, dict[str, Any]] = {}
            for reply in await gather(
                [run.workers[i].call("digest", keys=ks) for i, ks in fresh.items()]
            ):
                fresh_digests.update(reply)
        finally:
            await run.pool.close_all()
    synced = sorted(ms for r in replies for ms in r["synced_ms"])
    failed = sum(len(r["failed"]) for r in replies)
    retried = sum(int(r["retried"]) for r in replies)
    reference = {doc: _content(before[ks[0]]) for doc, ks in docs.items()}
    unsettled = sum(_content(before[k]) != reference[doc_of[k]] for k in keys)
    lost = sum(_content(d) != reference[fresh_of[k]] for k, d in fresh_digests.items())
    diverged = sum(_content(after[k]) != _content(after[ks[0]]) for ks in docs.values() for k in ks)
    every = Figure(scenario, f"{label}: time until all synced", None, note=f"{failed} never did")
    if not failed:
        every = Figure(scenario, every.name, percentile(synced, 100) / 1000, "s", "lower")
    return [
        Figure(scenario, f"{label}: server stop and start", restart, "s"),
        every,
        Figure(scenario, f"{label}: one client's sync p50", percentile(synced, 50), "ms", "lower"),
        Figure(scenario, f"{label}: one client's sync p99", percentile(synced, 99), "ms", "lower"),
        Figure(scenario, f"{label}: clients whose first attempt failed", retried, "", "lower"),
        Figure(scenario, f"{label}: failed clients (never synced)", failed, "", "lower"),
        Figure(scenario, f"{label}: diverged before the restart", unsettled, "", "lower"),
        Figure(scenario, f"{label}: documents a new client found incomplete", lost, "", "lower"),
        Figure(scenario, f"{label}: diverged clients", diverged, "", "lower"),
    ]
