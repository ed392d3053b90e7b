"""``python -m bench``: run the scenarios against our server, a URL, or side by side with peers.

python -m bench                       every scenario against a fresh `gess serve`
python -m bench --quick               a one-minute smoke run
python -m bench --scenarios fanout,cold --readers 10,100
python -m bench --quick --scenarios rooms,large,storm --compare --peers y-websocket
python -m bench --url ws://127.0.0.1:1234 [--dialect hocuspocus] [--server-pid PID]
python -m bench --compare --repeat 2 --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import math
import os
import shlex
import signal
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from bench.peer_targets import PEERS, ExternalTarget
from bench.report import Column, markdown, table
from bench.scenarios import FULL, QUICK, SCENARIOS, Figure, Run, Sizes
from bench.system import describe_machine, pinning
from bench.targets import GessTarget, ServerError, Target
from bench.workers import WorkerError, WorkerPool

__all__ = ["main"]

NOTES = Path(__file__).resolve().parent / "notes.md"


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas: {text}") from exc
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"expected positive numbers: {text}")
    return values


def _names(choices: Sequence[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [name for name in names if name not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown: {', '.join(unknown)} (choose from {', '.join(choices)})"
            )
        return names

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Load-test Yjs WebSocket servers: ours, any by URL, or ours against peers.",
    )
    parser.add_argument(
        "--scenarios",
        type=_names(list(SCENARIOS)),
        default=list(SCENARIOS),
        help=f"comma-separated, from {','.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a one-minute smoke run")
    parser.add_argument("--url", help="measure this running server instead (loopback only)")
    parser.add_argument(
        "--dialect",
        choices=("yws", "hocuspocus"),
        default="yws",
        help="protocol of --url: y-websocket (default) or Hocuspocus's",
    )
    parser.add_argument("--server-pid", type=int, help="PID of --url's server, for its memory")
    parser.add_argument("--compare", action="store_true", help="also run the peers, side by side")
    parser.add_argument(
        "--peers",
        type=_names(list(PEERS)),
        default=list(PEERS),
        help=f"which peers --compare runs (default: {','.join(PEERS)})",
    )
    parser.add_argument("--database-url", help="run our server on this database (PostgreSQL)")
    parser.add_argument("--write", type=Path, help="write the Markdown report to this file")
    parser.add_argument("--readers", type=_ints, help="fan-out reader counts, e.g. 10,100,300")
    parser.add_argument("--burst", type=int, help="updates in the fan-out burst")
    parser.add_argument("--steady-seconds", type=float, help="length of the steady fan-out")
    parser.add_argument("--throughput-docs", type=int, help="documents in the throughput run")
    parser.add_argument("--throughput-seconds", type=float, help="length of the throughput run")
    parser.add_argument("--connections", type=_ints, help="idle connection levels, e.g. 2000,10000")
    parser.add_argument(
        "--cold-updates", type=int, help="updates the cold-load document is built of"
    )
    parser.add_argument("--rooms-docs", type=int, help="documents in the many-rooms run")
    parser.add_argument("--rooms-seconds", type=float, help="how long the many rooms type")
    parser.add_argument("--large-bytes", type=int, help="size of the large-document scenario's one")
    parser.add_argument("--storm-clients", type=int, help="clients in the reconnect storm")
    parser.add_argument("--storm-docs", type=int, help="documents of the reconnect storm")
    parser.add_argument("--workers", type=int, help="load-generator processes (default 4)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run everything this many times; report medians (and the worst loss counts)",
    )
    return parser


def _sizes(args: argparse.Namespace) -> Sizes:
    sizes = QUICK if args.quick else FULL
    overrides = {
        "readers": args.readers,
        "burst": args.burst,
        "steady_seconds": args.steady_seconds,
        "throughput_docs": args.throughput_docs,
        "throughput_seconds": args.throughput_seconds,
        "connections": args.connections,
        "cold_updates": args.cold_updates,
        "rooms_docs": args.rooms_docs,
        "rooms_seconds": args.rooms_seconds,
        "large_bytes": args.large_bytes,
        "storm_clients": args.storm_clients,
        "storm_docs": args.storm_docs,
        "workers": args.workers,
    }
    return replace(sizes, **{k: v for k, v in overrides.items() if v is not None})


def _targets(args: argparse.Namespace) -> list[Target]:
    if args.url:
        return [ExternalTarget(args.url, args.dialect, args.server_pid)]
    targets: list[Target] = [GessTarget(args.database_url)]
    if args.compare:
        targets += [PEERS[name]() for name in args.peers]
    return targets


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _combine(runs: list[list[Figure]]) -> list[Figure]:
    """One figure per name over repeated runs: the worst count of failures, else the median."""
    combined: dict[tuple[str, str], list[Figure]] = {}
    for figures in runs:
        for figure in figures:
            combined.setdefault((figure.scenario, figure.name), []).append(figure)
    result = []
    for found in combined.values():
        values = [f.value for f in found if f.value is not None and not math.isnan(f.value)]
        if not values:
            result.append(found[0])
        elif any(word in found[0].name for word in _COUNTS):
            result.append(replace(found[0], value=max(values)))
        else:
            result.append(replace(found[0], value=statistics.median(values)))
    return result


_COUNTS = ("lost", "diverged", "failed", "other content")


async def _run(args: argparse.Namespace, sizes: Sizes) -> list[Column]:
    # SIGTERM cancels the run like Ctrl-C does: the servers it started are stopped on the way out.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    targets = _targets(args)
    for target in targets:
        _log(f"installing {target.name} if needed")
        target.install()
    pins = pinning()
    results: dict[str, list[list[Figure]]] = {target.name: [] for target in targets}
    async with WorkerPool(sizes.workers, pins.clients) as pool:
        run = Run(pool=pool, pinning=pins, sizes=sizes, log=_log)
        # Repeats go round every server in turn, so that passing load elsewhere on the
        # machine spreads over all of them.
        for repeat in range(args.repeat):
            if args.repeat > 1:
                _log(f"round {repeat + 1} of {args.repeat}")
            for target in targets:
                figures: list[Figure] = []
                for name in args.scenarios:
                    try:
                        figures += await SCENARIOS[name](run, target)
                    except (ServerError, WorkerError, RuntimeError, OSError) as exc:
                        _log(f"{name} on {target.name} failed: {exc}")
                        figures.append(Figure(name, "status", None, note=f"failed: {exc}"[:120]))
                        await pool.close_all()
                results[target.name].append(figures)
    return [Column(t.name, t.version(), _combine(results[t.name])) for t in targets]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.repeat < 1:
        print("bench: --repeat must be at least 1", file=sys.stderr)
        return 2
    sizes = _sizes(args)
    started = time.monotonic()
    load_before = os.getloadavg()
    try:
        columns = asyncio.run(_run(args, sizes))
    except (ServerError, WorkerError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench: interrupted", file=sys.stderr)
        return 130
    print(table(columns))
    if args.write is not None:
        load_after = os.getloadavg()
        notes = [
            "Load average of the machine (1 min) when the run started: "
            f"{load_before[0]:.2f}, when it ended: {load_after[0]:.2f}; above ~0.5, something "
            "else was running and the figures are noisier."
        ]
        command = "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)
        text = markdown(
            columns,
            machine=describe_machine(),
            pinning=pinning().describe(),
            sizes=sizes,
            command=command.strip(),
            date=datetime.date.today().isoformat(),
            duration_s=time.monotonic() - started,
            notes=notes,
            repeat=args.repeat,
        )
        if NOTES.is_file():
            text += "\n" + NOTES.read_text().strip() + "\n"
        args.write.write_text(text)
        _log(f"wrote {args.write}")
    return 0
