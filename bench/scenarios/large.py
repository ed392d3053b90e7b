"""A large document being edited: a few people typing and many reading a ~5 MB document.

The document is built like the cold-load scenario's large one (50 updates of ``large_bytes /
50`` characters each); then ``large_writers`` typists (in the first worker) and
``large_readers`` readers (in the others) join it, the typists type at human pace, and every
keystroke's latency is measured at every other client. Afterwards new clients join, one at a
time, while the others are still there: the time they take to sync is the cold load.
"""

from __future__ import annotations

from bench.scenarios.cold import fresh_sync
from bench.scenarios.common import (
    Figure,
    Run,
    count_diverged,
    gather,
    open_clients,
    percentile,
    require_open,
)
from bench.scenarios.rooms import Room, type_in_rooms, typing_figures
from bench.system import rss_bytes
from bench.targets import Target
from bench.workers import spread

__all__ = ["large_document"]

_UPDATES = 50
"""Updates the document is built of (as in the cold-load scenario)."""


async def large_document(run: Run, target: Target) -> list[Figure]:
    sizes = run.sizes
    scenario = "large document"
    document = f"large-{run.token}"
    label = f"{sizes.large_bytes / 1e6:g} MB, {sizes.large_writers} typing"
    builder = run.workers[0]
    writers = [f"lw{i}" for i in range(sizes.large_writers)]
    reader_workers = list(range(1, len(run.workers))) or [0]
    dealt = spread([f"lr{i}" for i in range(sizes.large_readers)], len(reader_workers))
    readers = {reader_workers[i]: ks for i, ks in enumerate(dealt) if ks}
    figures: list[Figure] = []
    async with target.running(run.pinning) as server:
        pids = [server.pid] if server.pid else []
        try:
            run.log(f"large document on {target.name}: building {sizes.large_bytes:,} bytes")
            opened = await open_clients(
                builder,
                server.url,
                server.dialect,
                [{"key": "lb", "doc": document}, {"key": "lh", "doc": document}],
            )
            require_open([opened])
            built = await builder.call(
                "build",
                key="lb",
                holder="lh",
                count=_UPDATES,
                chunk=max(1, sizes.large_bytes // _UPDATES),
                jump=0,
                window=4,
            )
            # The holder stays until the others have joined: pycrdt-websocket does not sync a
            # client that connects while the document's room is being created again.
            await builder.call("close", keys=["lb"])
            figures.append(Figure(scenario, "encoded size", built["bytes"] / 1024, "KiB"))
            run.log(f"large document on {target.name}: {label}, {sizes.large_readers} reading")
            joined = await gather(
                [
                    open_clients(
                        run.workers[i],
                        server.url,
                        server.dialect,
                        [{"key": k, "doc": document} for k in ks],
                        concurrency=8,
                    )
                    for i, ks in [(0, writers), *readers.items()]
                ]
            )
            require_open(joined)
            await builder.call("close", keys=["lh"])
            ids = {k: v for reply in joined for k, v in reply["ids"].items()}
            writer_ids = [ids[k] for k in writers]
            rooms: dict[int, list[Room]] = {0: []}
            rooms[0].append(Room(keys=list(writers), typists=writers, writers=writer_ids))
            for i, ks in readers.items():
                rooms.setdefault(i, []).append(Room(keys=ks, typists=[], writers=writer_ids))
            result = await type_in_rooms(run, rooms, sizes.large_seconds, pids)
            rss = rss_bytes(server.pid) if server.pid else None
            everyone = {i: [k for room in rs for k in room["keys"]] for i, rs in rooms.items()}
            diverged = await count_diverged(
                run, everyone, [writers + [k for ks in readers.values() for k in ks]]
            )
            reference = (await builder.call("digest", keys=[writers[0]]))[writers[0]]
            expected = f"{reference['text_sha1']}/{reference['state_vector']}"
            samples = []
            mismatched = 0
            for sample in range(sizes.cold_samples):
                ms, digest = await fresh_sync(run, server, document, f"lf{sample}")
                samples.append(ms)
                mismatched += digest != expected
        finally:
            await run.pool.close_all()
    figures += typing_figures(scenario, label, result)
    figures.append(Figure(scenario, f"{label} diverged clients", diverged, "", "lower"))
    if rss is not None:
        figures.append(Figure(scenario, "server RSS while edited", rss / 2**20, "MiB", "lower"))
    samples.sort()
    figures.append(
        Figure(scenario, "new client's sync (median)", percentile(samples, 50), "ms", "lower")
    )
    figures.append(Figure(scenario, "new clients with other content", mismatched, "", "lower"))
    return figures
