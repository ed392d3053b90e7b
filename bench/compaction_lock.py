"""``python -m bench.compaction_lock``: how long compacting a large document holds the write lock.

A store on a fresh SQLite file gets a document of about ``--mb`` megabytes (millions of small
text items, each its own block, as a long-edited document has), then compacts it while a probe
on a connection of its own commits a one-row write to another document in a loop, waiting as
long as it takes (a 120 s busy timeout). The longest probe commit is the longest time a writer
had to wait for the lock: what every other document's writers and every REST write would have
waited too. It prints that figure with the compaction's total time.

SQLite only: it is where one writer excludes every other. On PostgreSQL a compaction locks
only its own document's row.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pycrdt import Doc, Text

from storage import SqlStore, create_engine, upgrade_database

__all__ = ["main"]

_BYTES_PER_ITEM = 14.5
"""About what one inserted one-character item costs in an update (measured)."""
_UPDATES = 25


def _updates(megabytes: float) -> list[bytes]:
    items = int(megabytes * 1_000_000 / _BYTES_PER_ITEM)
    doc: Doc[Any] = Doc()
    text = doc.get("text", type=Text)
    updates = []
    per_update = max(1, items // _UPDATES)
    for n in range(_UPDATES):
        before = doc.get_state()
        with doc.transaction():
            for i in range(per_update):
                # At the start each time: no two items merge into one block.
                text.insert(0, chr(97 + (n + i) % 26))
        updates.append(doc.get_update(before))
    return updates


class _Probe:
    """Commits one small row after another on its own connection; records the longest."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA busy_timeout=120000")
        self._connection.execute("INSERT INTO documents (id) VALUES ('probe')")
        self._stop = threading.Event()
        self.longest = 0.0
        self.commits = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._connection.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            self._connection.execute("BEGIN IMMEDIATE")
            self._connection.execute(
                "INSERT INTO doc_updates (document_id, data) VALUES ('probe', x'0000')"
            )
            self._connection.execute("COMMIT")
            self.longest = max(self.longest, time.perf_counter() - started)
            self.commits += 1
            time.sleep(0.005)


async def _measure(megabytes: float) -> None:
    updates = await asyncio.to_thread(_updates, megabytes)
    size = sum(map(len, updates))
    with tempfile.TemporaryDirectory(prefix="gess-bench-") as directory:
        path = Path(directory) / "gess.db"
        url = f"sqlite+aiosqlite:///{path}"
        await upgrade_database(url)
        engine = create_engine(url, durability="power")
        try:
            async with SqlStore(engine, compact_threshold=0) as store:
                await store.load("large")
                for update in updates:
                    await store.append("large", update)
                probe = _Probe(path)
                probe.start()
                started = time.perf_counter()
                await store.compact("large")
                elapsed = time.perf_counter() - started
                probe.stop()
        finally:
            await engine.dispose()
    print(f"document: {size / 1e6:.1f} MB in {len(updates)} log entries")
    print(f"compaction: {elapsed:.2f} s")
    print(f"longest wait of another writer for the lock: {probe.longest:.3f} s")
    print(f"probe commits during the compaction: {probe.commits}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compaction_lock", description=__doc__)
    parser.add_argument("--mb", type=float, default=50.0, help="document size (default 50)")
    args = parser.parse_args(argv)
    asyncio.run(_measure(args.mb))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
