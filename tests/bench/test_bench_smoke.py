"""The load generator at a tiny size against a real ``gess serve``: correctness only.

Benchmarks measure time; this test never asserts on it. It checks that the fan-out scenario's
clients all end with the same content and that no update went missing, so that a broken load
generator (or a server that loses updates under it) is caught by the test suite.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from bench.scenarios import QUICK, Run, fanout_once
from bench.system import pinning
from bench.targets import GessTarget
from bench.workers import WorkerPool
from tests.conftest import require

pytestmark = pytest.mark.integration

READERS = 5
STEADY = 20
BURST = 50


async def test_fanout_delivers_every_update_to_every_reader() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    require(f"the load generator needs {' and '.join(missing)}" if missing else None)
    pins = pinning()
    async with WorkerPool(2, pins.clients) as pool:
        run = Run(pool=pool, pinning=pins, sizes=replace(QUICK, drain_seconds=10.0), log=print)
        async with GessTarget().running(pins) as server:
            result = await fanout_once(
                run,
                writer_url=server.url,
                reader_url=server.url,
                dialect=server.dialect,
                readers=READERS,
                document="bench-smoke",
                steady_count=STEADY,
                burst=BURST,
            )
    assert result.steady.lost == 0
    assert result.burst.lost == 0
    assert result.diverged == 0
    assert len(result.steady.latencies) == READERS * STEADY
    assert len(result.burst.latencies) == READERS * BURST
