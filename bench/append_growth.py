"""``python -m bench.append_growth``: server CPU per 2,000 sequential 1 KB appends, by size.

One client (the Python SDK) appends 1 KB at the end of one text, waiting for each to be saved,
against a fresh ``gess serve``. Every 2,000 appends it prints the document's size and the CPU
seconds the server (its worker processes included) spent on them, so that a cost per update
that grows with the document shows as a rising column.

    python -m bench.append_growth [--mb 8]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from pycrdt import Text

from bench.system import cpu_seconds, pinning
from bench.targets import GessTarget
from client import connect

__all__ = ["main"]

CHUNK = 1024
STEP = 2000


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and of its descendants still alive."""
    total = cpu_seconds(pid)
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return total
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        total += sum(_tree_cpu(int(child)) for child in children)
    return total


async def _measure(megabytes: float) -> None:
    async with GessTarget().running(pinning()) as server:
        assert server.pid is not None
        pid = server.pid
        print(f"server pid {pid}", flush=True)
        async with connect(server.url, "append-growth", reconnect=False) as session:
            text = session.doc.get("text", type=Text)
            total = int(megabytes * 1_000_000 / CHUNK)
            cpu, wall = _tree_cpu(pid), time.perf_counter()
            print(f"{'appends':>8} {'document MB':>12} {'server CPU s':>13} {'wall s':>8}")
            for n in range(1, total + 1):
                text.insert(len(text), "x" * CHUNK)
                await session.saved()
                if n % STEP == 0 or n == total:
                    now_cpu, now_wall = _tree_cpu(pid), time.perf_counter()
                    print(
                        f"{n:8d} {n * CHUNK / 1e6:12.1f} {now_cpu - cpu:13.2f} "
                        f"{now_wall - wall:8.1f}",
                        flush=True,
                    )
                    cpu, wall = now_cpu, now_wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.append_growth", description=__doc__)
    parser.add_argument("--mb", type=float, default=8.0, help="final document size (default 8)")
    args = parser.parse_args(argv)
    asyncio.run(_measure(args.mb))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
