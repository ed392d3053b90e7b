"""The load generator's processes: Node workers running ``worker.mjs``, each many Yjs clients.

A worker answers one JSON request per line (see the header of ``worker.mjs``). Workers are
pinned to the CPUs the server does not use, and their CPU time is read from ``/proc`` so that
every scenario can show how busy the load generator itself was.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.system import cpu_seconds, raise_fd_limit

__all__ = [
    "BENCH_DIR",
    "CpuMeter",
    "Worker",
    "WorkerError",
    "WorkerPool",
    "ensure_node_packages",
    "node",
    "spread",
]

BENCH_DIR = Path(__file__).resolve().parent
SCRIPT = BENCH_DIR / "worker.mjs"

_LINE_LIMIT = 256 * 1024 * 1024
"""Largest reply line: latencies of every reader of a worker come back in one line."""


class WorkerError(RuntimeError):
    """A worker failed a command, or died."""


def node() -> str:
    """Path of the ``node`` executable.

    Raises:
        WorkerError: Node.js is not installed.
    """
    found = shutil.which("node")
    if found is None:
        raise WorkerError("node is not installed: the load generator's clients run on Node.js")
    return found


def ensure_node_packages() -> None:
    """Install the clients' packages from ``bench/package-lock.json`` unless they are current.

    Raises:
        WorkerError: npm is missing or failed.
    """
    lock = (BENCH_DIR / "package-lock.json").read_bytes()
    stamp = BENCH_DIR / "node_modules" / ".bench-package-lock.json"
    if stamp.is_file() and stamp.read_bytes() == lock:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise WorkerError("npm is not installed: it installs the load generator's packages")
    completed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=BENCH_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise WorkerError(f"npm ci in {BENCH_DIR} failed:\n{completed.stderr[-2000:]}")
    stamp.write_bytes(lock)


class Worker:
    """One Node process; :meth:`call` sends a command and returns its result."""

    def __init__(self, process: asyncio.subprocess.Process, index: int) -> None:
        self.index = index
        self._process = process
        self._ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, index: int, cpus: str | None) -> Worker:
        command = [node(), str(SCRIPT)]
        if cpus is not None:
            command = ["taskset", "-c", cpus, *command]
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,
            cwd=BENCH_DIR,
            limit=_LINE_LIMIT,
        )
        return cls(process, index)

    @property
    def pid(self) -> int:
        return self._process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time this worker has used so far."""
        return cpu_seconds(self.pid)

    async def call(self, cmd: str, **args: Any) -> Any:
        """Run one command in the worker and return its result.

        Raises:
            WorkerError: the command failed, or the worker died.
        """
        if self._process.returncode is not None or self._process.stdin is None:
            raise WorkerError(f"worker {self.index} is not running")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        line = json.dumps({"id": request_id, "cmd": cmd, **args}, separators=(",", ":"))
        self._process.stdin.write(line.encode() + b"\n")
        await self._process.stdin.drain()
        return await future

    async def _read(self) -> None:
        assert self._process.stdout is not None
        try:
            while line := await self._process.stdout.readline():
                reply = json.loads(line)
                future = self._waiting.pop(reply["id"], None)
                if future is None or future.done():
                    continue
                if reply["ok"]:
                    future.set_result(reply["result"])
                else:
                    future.set_exception(WorkerError(f"worker {self.index}: {reply['error']}"))
        finally:
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(WorkerError(f"worker {self.index} exited"))
            self._waiting.clear()

    async def stop(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.is_closing():
            self._process.stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 5)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class WorkerPool:
    """Several workers, started together and stopped together.

    Args:
        size: how many worker processes.
        cpus: a ``taskset -c`` CPU list for them, or None to leave them unpinned.
    """

    def __init__(self, size: int, cpus: str | None) -> None:
        self._size = size
        self._cpus = cpus
        self.workers: list[Worker] = []

    async def __aenter__(self) -> WorkerPool:
        ensure_node_packages()
        raise_fd_limit()
        self.workers = list(
            await asyncio.gather(*(Worker.start(i, self._cpus) for i in range(self._size)))
        )
        await asyncio.gather(*(worker.call("ping") for worker in self.workers))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.gather(*(worker.stop() for worker in self.workers))

    def cpu_seconds(self) -> float:
        return sum(worker.cpu_seconds() for worker in self.workers)

    async def close_all(self) -> None:
        """Close every client of every worker."""
        await asyncio.gather(*(worker.call("close") for worker in self.workers))

    @contextlib.asynccontextmanager
    async def measure_cpu(self) -> AsyncIterator[CpuMeter]:
        """Measure how much of a CPU the workers used while the block ran."""
        meter = CpuMeter(self)
        meter.start()
        try:
            yield meter
        finally:
            meter.stop()


class CpuMeter:
    """CPU used by a pool between :meth:`start` and :meth:`stop`, as a share of one core."""

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        self._cpu = 0.0
        self._wall = 0.0
        self.share = 0.0
        self.wall = 0.0

    def start(self) -> None:
        self._cpu = self._pool.cpu_seconds()
        self._wall = _monotonic()

    def stop(self) -> None:
        wall = self.wall = _monotonic() - self._wall
        self.share = (self._pool.cpu_seconds() - self._cpu) / wall if wall > 0 else 0.0


def _monotonic() -> float:
    return asyncio.get_running_loop().time()


def spread(items: Sequence[str], buckets: int) -> list[list[str]]:
    """Deal ``items`` round-robin into ``buckets`` lists."""
    dealt: list[list[str]] = [[] for _ in range(buckets)]
    for index, item in enumerate(items):
        dealt[index % buckets].append(item)
    return dealt
