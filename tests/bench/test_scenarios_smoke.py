"""The many-rooms, large-document and reconnect-storm scenarios at a tiny size against GESS.

Correctness only, never timing: each scenario must produce its figures (numbers, not notes),
and every loss, divergence and failure count among them must be 0.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import replace

import pytest

from bench.scenarios import QUICK, SCENARIOS, Figure, Run, Sizes
from bench.system import pinning
from bench.targets import GessTarget
from bench.workers import WorkerPool
from tests.conftest import require

pytestmark = pytest.mark.integration

TINY = replace(
    QUICK,
    rooms_docs=3,
    rooms_clients=3,
    rooms_seconds=1.5,
    large_bytes=30_000,
    large_writers=2,
    large_readers=3,
    large_seconds=1.5,
    cold_samples=2,
    storm_clients=12,
    storm_docs=3,
    storm_seconds=30.0,
    drain_seconds=15.0,
)

EXPECTED = {
    "rooms": [
        "3x3 typing p50",
        "3x3 typing p99",
        "3x3 typing max",
        "3x3 typing server CPU",
        "3x3 server RSS",
    ],
    "large": [
        "encoded size",
        "0.03 MB, 2 typing p50",
        "0.03 MB, 2 typing p99",
        "server RSS while edited",
        "new client's sync (median)",
    ],
    "storm": [
        "12 clients: time until all synced",
        "12 clients: one client's sync p99",
        "12 clients: server stop and start",
    ],
}
"""Figures each scenario must measure (besides its zero counts)."""

ZERO = ("lost", "diverged", "failed", "other content", "incomplete")


async def _run(name: str, sizes: Sizes) -> list[Figure]:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    require(f"the load generator needs {' and '.join(missing)}" if missing else None)
    pins = pinning()
    async with WorkerPool(2, pins.clients) as pool:
        run = Run(pool=pool, pinning=pins, sizes=sizes, log=print)
        return await SCENARIOS[name](run, GessTarget())


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_scenario_measures_and_loses_nothing(name: str) -> None:
    figures = await _run(name, TINY)
    found = {figure.name: figure for figure in figures}
    for wanted in EXPECTED[name]:
        value = found[wanted].value
        assert value is not None and not math.isnan(value), found[wanted]
    counts = [f for f in figures if any(word in f.name for word in ZERO)]
    assert len(counts) >= 2
    assert {f.name: f.value for f in counts} == {f.name: 0 for f in counts}
