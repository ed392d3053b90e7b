"""Cross-node: the fan-out with the writer on one GESS node and the readers on another."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from bench.scenarios.common import Figure, Run
from bench.scenarios.fanout import fanout_figures, fanout_once
from bench.system import Pinning, free_port
from bench.targets import GessTarget, Target

__all__ = ["cross_node"]


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
    return fanout_figures(scenario, f"2 nodes R={readers}", result, run.sizes.rate)
