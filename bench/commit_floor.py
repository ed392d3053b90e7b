"""``python -m bench.commit_floor``: where the time of one commit goes, layer by layer.

Drives the document log on a fresh SQLite file in a temporary directory, without a server
or a socket, and prints for each layer the appends per second, the latency percentiles and
the CPU time per append (the whole process, every thread) for 1, 10 and 100 concurrent
appenders of ~200-byte updates, each to a document of its own:

- ``fdatasync``: append 200 bytes to a file and ``fdatasync`` it (one appender): the disk.
- ``sqlite``: a bare ``sqlite3`` commit of one row into GESS's own ``doc_updates`` table,
  WAL and the durability's ``synchronous`` (one appender, no event loop): the database.
- ``fdatasync@100`` and ``sqlite@100``: the same two at 100 commits per second, the pace of
  the steady fan-out scenario (a person typing). A disk idle between commits is slower to
  sync than one kept busy, so this, not the back-to-back figure, is the floor under a
  steady fan-out's latency.
- ``appender``: :class:`storage.engine.SqliteAppender` from the event loop (one batch per
  call, through a worker thread): the database plus the hop into the thread and back.
- ``store``: :meth:`storage.SqlStore.append`, what a room calls: the appender plus the
  group commit (queue, writer task, wake-ups). Concurrent appends share transactions, so
  it also prints the appends per transaction.

The difference between two adjacent layers is what the upper one adds. CPU per append is
the figure to compare on a loaded machine: it does not count the time spent waiting for
the disk or for other processes. Nothing here is asserted by a test.

    python -m bench.commit_floor [--durability power|process] [--seconds 3] [--loop uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage import SqlStore, create_engine, default_sqlite_url, upgrade_database
from storage.engine import SYNC_MODES, open_sqlite_appender

__all__ = ["main"]

_PAYLOAD = bytes(range(200))
_CONCURRENCY = (1, 10, 100)
_WARM_UP = 500
_STEADY_GAP = 0.01
"""Seconds between commits in the paced rows: the steady fan-out's 100 updates per second."""


@dataclass(frozen=True, slots=True)
class Result:
    """One layer at one concurrency."""

    layer: str
    appenders: int
    appends: int
    transactions: int
    wall: float
    cpu: float
    latencies_ns: list[int]

    def row(self) -> str:
        ordered = sorted(self.latencies_ns)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))] / 1e6

        per_tx = self.appends / max(1, self.transactions)
        return (
            f"{self.layer:<13} {self.appenders:>4} {self.appends / self.wall:>10,.0f} "
            f"{per_tx:>7.1f} {pct(0.5):>8.3f} {pct(0.9):>8.3f} {pct(0.99):>8.3f} "
            f"{statistics.fmean(ordered) / 1e6:>8.3f} {self.cpu / self.appends * 1e6:>9.1f} "
            f"{self.cpu / max(1, self.transactions) * 1e6:>9.1f}"
        )


HEADER = (
    f"{'layer':<13} {'conc':>4} {'appends/s':>10} {'per tx':>7} {'p50 ms':>8} {'p90 ms':>8} "
    f"{'p99 ms':>8} {'mean ms':>8} {'CPU us/ap':>9} {'CPU us/tx':>9}"
)


def _fdatasync(path: Path, seconds: float, gap: float = 0.0) -> Result:
    latencies: list[int] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        deadline = wall + seconds
        while time.perf_counter() < deadline:
            if gap:
                time.sleep(gap)
            t0 = time.perf_counter_ns()
            os.write(fd, _PAYLOAD)
            os.fdatasync(fd)
            latencies.append(time.perf_counter_ns() - t0)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        os.close(fd)
    return Result(_paced("fdatasync", gap), 1, len(latencies), len(latencies), wall, cpu, latencies)


def _paced(layer: str, gap: float) -> str:
    return f"{layer}@{round(1 / gap)}" if gap else layer


def _bare_sqlite(database: str, durability: str, seconds: float, gap: float = 0.0) -> Result:
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "foreign_keys=ON"):
            connection.execute(f"PRAGMA {pragma}")
        connection.execute(f"PRAGMA synchronous={SYNC_MODES[durability]}")
        connection.execute("INSERT OR IGNORE INTO documents (id) VALUES ('bare')")

        def commit() -> None:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                "INSERT INTO doc_updates (document_id, data, author_id) VALUES (?, ?, ?)",
                ("bare", _PAYLOAD, None),
            )
            connection.execute("COMMIT")

        # Past the first WAL checkpoint: until then every commit grows the WAL file, and
        # syncing a file whose size changed costs a journal commit that later ones do not.
        for _ in range(_WARM_UP):
            commit()
        latencies: list[int] = []
        cpu, wall = time.process_time(), time.perf_counter()
        deadline = wall + seconds
        while time.perf_counter() < deadline:
            if gap:
                time.sleep(gap)
            t0 = time.perf_counter_ns()
            commit()
            latencies.append(time.perf_counter_ns() - t0)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        connection.close()
    return Result(_paced("sqlite", gap), 1, len(latencies), len(latencies), wall, cpu, latencies)


async def _drive(
    layer: str,
    appenders: int,
    seconds: float,
    append: Callable[[int], Awaitable[None]],
    transactions: Callable[[], int],
) -> Result:
    """Run ``appenders`` loops of ``append(i)`` for ``seconds``; time each call."""
    latencies: list[int] = []
    stop = False

    async def loop(i: int) -> None:
        while not stop:
            t0 = time.perf_counter_ns()
            await append(i)
            latencies.append(time.perf_counter_ns() - t0)

    before = transactions()
    cpu, wall = time.process_time(), time.perf_counter()
    async with asyncio.TaskGroup() as tasks:
        for i in range(appenders):
            tasks.create_task(loop(i))
        await asyncio.sleep(seconds)
        stop = True
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    count = len(latencies)
    return Result(layer, appenders, count, transactions() - before, wall, cpu, latencies)


async def _layers(url: str, durability: str, seconds: float) -> list[Result]:
    results: list[Result] = []
    engine = create_engine(url, durability=durability)
    try:
        appender = await open_sqlite_appender(engine)
        assert appender is not None
        calls = 0

        async def through_appender(i: int) -> None:
            nonlocal calls
            calls += 1
            await appender.append([(f"doc-{i}", _PAYLOAD, None)], check=False)

        try:
            for appenders in _CONCURRENCY:
                results.append(
                    await _drive("appender", appenders, seconds, through_appender, lambda: calls)
                )
        finally:
            await appender.aclose()

        commits = 0

        def count(updates: int, seconds: float) -> None:
            nonlocal commits
            commits += 1

        async with SqlStore(engine, compact_threshold=0, on_commit=count) as store:
            for i in range(max(_CONCURRENCY)):
                await store.load(f"doc-{i}")

            async def through_store(i: int) -> None:
                await store.append(f"doc-{i}", _PAYLOAD)

            for appenders in _CONCURRENCY:
                results.append(
                    await _drive("store", appenders, seconds, through_store, lambda: commits)
                )
    finally:
        await engine.dispose()
    return results


async def _prepare(url: str, documents: int) -> None:
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        async with SqlStore(engine, compact_threshold=0) as store:
            for i in range(documents):
                await store.load(f"doc-{i}")
    finally:
        await engine.dispose()


def _run(main: Coroutine[Any, Any, list[Result]], loop: str) -> list[Result]:
    if loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main)
    return asyncio.run(main)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.commit_floor", description=__doc__)
    parser.add_argument("--durability", choices=sorted(SYNC_MODES), default="power")
    parser.add_argument("--seconds", type=float, default=3.0, help="per layer and concurrency")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop (gess serve runs on uvloop)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-commit-") as tmp:
        data = Path(tmp) / "data"
        url = default_sqlite_url(data)
        asyncio.run(_prepare(url, max(_CONCURRENCY)))
        load = os.getloadavg()[0]
        print(f"durability {args.durability}, {args.loop}, load average {load:.2f} at start")
        print(HEADER, flush=True)
        database = str(data / "gess.db")
        for gap in (0.0, _STEADY_GAP):
            for result in (
                _fdatasync(Path(tmp) / "raw.log", args.seconds, gap),
                _bare_sqlite(database, args.durability, args.seconds, gap),
            ):
                print(result.row(), flush=True)
        for result in _run(_layers(url, args.durability, args.seconds), args.loop):
            print(result.row(), flush=True)
        print(f"load average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
