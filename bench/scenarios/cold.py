"""Cold load: how long a fresh client takes to sync a long-edited or a large document."""

from __future__ import annotations

from bench.scenarios.common import Figure, Run, open_clients, percentile, require_open
from bench.targets import Server, Target

__all__ = ["cold_load", "fresh_sync"]


async def fresh_sync(run: Run, server: Server, document: str, key: str) -> tuple[float, str]:
    """Milliseconds from connect to synced for a new client, and its digest."""
    worker = run.workers[1 % len(run.workers)]
    opened = await open_clients(
        worker, server.url, server.dialect, [{"key": key, "doc": document}], 1
    )
    require_open([opened])
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
        opened = await open_clients(
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
        require_open([opened])
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
                ms, digest = await fresh_sync(run, server, document, f"f{sample}")
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
                    ms, digest = await fresh_sync(run, server, document, f"s{restart}")
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
