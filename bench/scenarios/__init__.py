"""The scenarios, one module per family, each bounded in time and count.

Every scenario is a coroutine ``(run, target) -> list[Figure]`` that starts a fresh server,
measures, and ends by checking that no update was lost and no client diverged (see
:mod:`bench.scenarios.common`). :data:`SCENARIOS` names them for the command line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bench.scenarios.cold import cold_load
from bench.scenarios.common import FULL, QUICK, Figure, Run, Sizes, percentile
from bench.scenarios.connections import connections
from bench.scenarios.crossnode import cross_node
from bench.scenarios.fanout import FanoutResult, fanout, fanout_once
from bench.scenarios.large import large_document
from bench.scenarios.rooms import many_rooms
from bench.scenarios.storm import reconnect_storm
from bench.scenarios.throughput import throughput
from bench.targets import Target

__all__ = [
    "FULL",
    "QUICK",
    "SCENARIOS",
    "FanoutResult",
    "Figure",
    "Run",
    "Scenario",
    "Sizes",
    "fanout_once",
    "percentile",
]

Scenario = Callable[[Run, Target], Awaitable[list[Figure]]]

SCENARIOS: dict[str, Scenario] = {
    "fanout": fanout,
    "throughput": throughput,
    "connections": connections,
    "cold": cold_load,
    "crossnode": cross_node,
    "rooms": many_rooms,
    "large": large_document,
    "storm": reconnect_storm,
}
