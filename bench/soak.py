"""``python -m bench.soak``: a bounded soak of a fresh ``gess serve``; memory over time, no loss.

Many clients (Python SDK sessions, 200 by default) spread over a few documents keep joining,
editing and leaving until the time is up (20 minutes at most). Each edit inserts a unique token
like ``[17.42]`` at a token boundary, or deletes one whole token; a client counts its edits as
acknowledged once ``session.saved()`` returned after them, and some clients leave without
waiting. Every 10 s it prints the server's resident memory, its connections and loaded
documents. At the end the server is restarted and every document read back: a token whose
insertion was acknowledged (and whose deletion was not attempted) must be there, a token whose
deletion was acknowledged must not, and no token may appear that nobody wrote.

    python -m bench.soak --minutes 3 [--clients 200] [--documents 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pycrdt import Text

from bench.system import pinning
from bench.targets import GessTarget
from client import connect
from crdt import CollabError

__all__ = ["Ledger", "main", "soak"]

MAX_MINUTES = 20.0
TOKEN = re.compile(r"\[(\d+)\.(\d+)\]")
TEXT = "soak"


@dataclass
class Ledger:
    """What every client did to one document, and what the server acknowledged."""

    sent: set[str] = field(default_factory=set)
    inserted: set[str] = field(default_factory=set)
    """Insertions acknowledged as saved."""
    delete_tried: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    """Deletions acknowledged as saved."""

    def problems(self, text: str) -> list[str]:
        """How ``text`` (the document read back) contradicts the ledger; empty if it does not."""
        found = {match.group(0) for match in TOKEN.finditer(text)}
        problems = []
        lost = self.inserted - self.delete_tried - found
        if lost:
            problems.append(f"{len(lost)} acknowledged insertions missing, e.g. {sorted(lost)[:3]}")
        back = self.deleted & found
        if back:
            problems.append(f"{len(back)} acknowledged deletions undone, e.g. {sorted(back)[:3]}")
        unknown = found - self.sent
        if unknown:
            problems.append(f"{len(unknown)} tokens nobody wrote, e.g. {sorted(unknown)[:3]}")
        if TOKEN.sub("", text):
            problems.append(f"text outside tokens: {TOKEN.sub('', text)[:60]!r}")
        return problems


async def _client(
    number: int,
    url: str,
    document: str,
    ledger: Ledger,
    deadline: float,
    rng: random.Random,
    counts: dict[str, int],
) -> None:
    sequence = 0
    while time.monotonic() < deadline:
        pending_inserts: list[str] = []
        pending_deletes: list[str] = []
        try:
            async with connect(url, document, reconnect=False) as session:
                counts["joins"] += 1
                text = session.doc.get(TEXT, type=Text)
                for _ in range(rng.randint(1, 15)):
                    if time.monotonic() >= deadline:
                        break
                    current = str(text)
                    tokens = list(TOKEN.finditer(current))
                    if tokens and rng.random() < 0.2:
                        victim = rng.choice(tokens)
                        del text[victim.start() : victim.end()]
                        ledger.delete_tried.add(victim.group(0))
                        pending_deletes.append(victim.group(0))
                    else:
                        sequence += 1
                        token = f"[{number}.{sequence}]"
                        boundaries = [0, *(match.end() for match in tokens)]
                        text.insert(rng.choice(boundaries), token)
                        ledger.sent.add(token)
                        pending_inserts.append(token)
                    counts["edits"] += 1
                    if rng.random() < 0.5:
                        await asyncio.wait_for(session.saved(), 30)
                        ledger.inserted.update(pending_inserts)
                        ledger.deleted.update(pending_deletes)
                        pending_inserts, pending_deletes = [], []
                    await asyncio.sleep(rng.uniform(0.2, 2.0))
                if rng.random() < 0.8:
                    await asyncio.wait_for(session.saved(), 30)
                    ledger.inserted.update(pending_inserts)
                    ledger.deleted.update(pending_deletes)
                # else: leave at once; whatever was not acknowledged may or may not be kept.
        except (CollabError, OSError, TimeoutError) as exc:
            counts["errors"] += 1
            counts.setdefault(f"error {type(exc).__name__}", 0)
            counts[f"error {type(exc).__name__}"] += 1
        await asyncio.sleep(rng.uniform(0.0, 5.0))


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _gauges(http_url: str) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"{http_url}/metrics")).text
    values = {}
    for name in ("gess_connections", "gess_documents_loaded"):
        match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        values[name] = float(match.group(1)) if match else float("nan")
    return values


async def soak(
    url: str,
    server_pid: Callable[[], int],
    *,
    seconds: float,
    clients: int,
    documents: int,
    restart: Callable[[], Awaitable[None]] | None = None,
    seed: int = 13,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the soak against a server; return its figures and any problem found.

    Args:
        url: the server's WebSocket base URL (``ws://HOST:PORT/ws``).
        server_pid: the server's process id now (it changes across a restart).
        seconds: how long clients keep joining, editing and leaving.
        clients: how many clients at once.
        documents: how many documents they share.
        restart: restarts the server before the content is read back (None: read as is).
        seed: for the clients' choices.
        log: where the progress lines go.

    Returns:
        ``{"memory": [(seconds, MiB)...], "counts": {...}, "problems": [...]}``.
    """
    http_url = url.replace("ws://", "http://").rsplit("/ws", 1)[0]
    names = [f"soak-{seed}-{n}" for n in range(documents)]
    ledgers = {name: Ledger() for name in names}
    counts = {"joins": 0, "edits": 0, "errors": 0}
    memory: list[tuple[float, float]] = []
    started = time.monotonic()
    deadline = started + seconds
    master = random.Random(seed)

    async def sample() -> None:
        while True:
            elapsed = time.monotonic() - started
            rss = _rss_mib(server_pid())
            memory.append((elapsed, rss))
            gauges = await _gauges(http_url)
            log(
                f"{elapsed:7.0f} s  server RSS {rss:7.1f} MiB  "
                f"connections {gauges['gess_connections']:4.0f}  "
                f"documents loaded {gauges['gess_documents_loaded']:3.0f}  "
                f"joins {counts['joins']:6d}  edits {counts['edits']:7d}  "
                f"errors {counts['errors']}"
            )
            if elapsed >= seconds:
                return
            await asyncio.sleep(min(10.0, max(0.0, deadline - time.monotonic())) or 10.0)

    async with asyncio.TaskGroup() as tasks:
        sampler = tasks.create_task(sample())
        workers = [
            tasks.create_task(
                _client(
                    n,
                    url,
                    names[n % documents],
                    ledgers[names[n % documents]],
                    deadline,
                    random.Random(master.random()),
                    counts,
                )
            )
            for n in range(clients)
        ]
        await asyncio.gather(*workers)
        await sampler
    memory.append((time.monotonic() - started, _rss_mib(server_pid())))
    if restart is not None:
        await restart()
    problems = []
    tokens = 0
    for name in names:
        async with connect(url, name, reconnect=False) as session:
            text = str(session.doc.get(TEXT, type=Text))
        tokens += len(TOKEN.findall(text))
        problems += [f"{name}: {problem}" for problem in ledgers[name].problems(text)]
    acknowledged = sum(len(ledger.inserted) for ledger in ledgers.values())
    log(
        f"read back {documents} documents after {'a restart' if restart else 'the run'}: "
        f"{tokens} tokens; {acknowledged} acknowledged insertions; "
        f"{'NOTHING LOST' if not problems else 'PROBLEMS: ' + '; '.join(problems)}"
    )
    return {"memory": memory, "counts": counts, "problems": problems}


async def _main(args: argparse.Namespace) -> int:
    pins = pinning()
    async with GessTarget().running(pins) as server:
        assert server.pid is not None

        def pid() -> int:
            assert server.pid is not None
            return server.pid

        result = await soak(
            server.url,
            pid,
            seconds=args.minutes * 60,
            clients=args.clients,
            documents=args.documents,
            restart=server.restart,
        )
    memory = [rss for _, rss in result["memory"]]
    half = len(memory) // 2
    print(
        f"server RSS: start {memory[0]:.1f} MiB, peak {max(memory):.1f} MiB, "
        f"first-half mean {sum(memory[:half]) / max(1, half):.1f} MiB, "
        f"second-half mean {sum(memory[half:]) / max(1, len(memory) - half):.1f} MiB, "
        f"end {memory[-1]:.1f} MiB"
    )
    print(f"counts: {result['counts']}")
    return 1 if result["problems"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument(
        "--minutes", type=float, default=MAX_MINUTES, help="how long (default and most: 20)"
    )
    parser.add_argument("--clients", type=int, default=200, help="clients at once (200)")
    parser.add_argument("--documents", type=int, default=20, help="documents they share (20)")
    args = parser.parse_args(argv)
    if not 0 < args.minutes <= MAX_MINUTES:
        parser.error(f"--minutes must be more than 0 and at most {MAX_MINUTES:.0f}")
    if args.clients < 1 or args.documents < 1:
        parser.error("--clients and --documents must be positive")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    raise SystemExit(main())
