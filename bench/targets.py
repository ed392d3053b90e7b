"""The servers a run measures: what a target is, a running server process, and ours.

A :class:`Target` knows how to install and start one kind of server; each scenario gets a
fresh :class:`Server` process from it (``async with target.running() as server``), pinned to
the server's CPU, listening on a free loopback port, stopped when the scenario ends.
"""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import importlib.metadata
import os
import resource
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from bench.system import Pinning, free_port

__all__ = ["BENCH_DIR", "REPO_ROOT", "GessTarget", "Server", "ServerError", "Target"]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent

_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 30.0


class ServerError(RuntimeError):
    """A server could not be installed, started or stopped."""


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    """One server process on a loopback port.

    Args:
        name: what the report calls it.
        command: the command line (the port is already in it or in ``env``).
        port: where it listens.
        url: the WebSocket base URL; documents live at ``url/DOCUMENT``.
        dialect: ``yws`` (y-websocket) or ``hocuspocus``.
        env: extra environment variables.
        cpus: ``taskset -c`` list to pin it to, or None.
        log_path: where its output goes.
        cwd: its working directory.
    """

    def __init__(
        self,
        *,
        name: str,
        command: Sequence[str],
        port: int,
        url: str,
        dialect: str,
        env: dict[str, str] | None = None,
        cpus: str | None = None,
        log_path: Path,
        cwd: Path = REPO_ROOT,
        can_restart: bool = False,
    ) -> None:
        self.name = name
        self.url = url
        self.dialect = dialect
        self.port = port
        self.can_restart = can_restart
        self._command = list(command)
        if cpus is not None:
            self._command = ["taskset", "-c", cpus, *self._command]
        self._env = {**os.environ, **(env or {})}
        self._log_path = log_path
        self._cwd = cwd
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        """The process whose memory is measured (taskset execs, so it is the server itself)."""
        return None if self._process is None else self._process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def start(self) -> None:
        """Start the process and wait until its port accepts connections.

        Raises:
            ServerError: it exited or did not listen in time.
        """
        with self._log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                *self._command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env,
                cwd=self._cwd,
                start_new_session=True,
                preexec_fn=_raise_nofile,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.returncode is not None:
                raise ServerError(f"{self.name} exited at start:\n{self.log_tail()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return
        await self.stop()
        raise ServerError(f"{self.name} did not listen within {_START_TIMEOUT:.0f} s")

    async def stop(self) -> None:
        """SIGTERM (a server commits what is pending), SIGKILL if it does not exit in time."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), _STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def restart(self) -> None:
        """Stop and start again on the same port and data."""
        await self.stop()
        await self.start()


class Target:
    """A kind of server the benchmark can start."""

    name = "server"
    can_restart = False
    """Whether documents survive a restart (so a cold load from storage can be measured)."""

    def install(self) -> None:
        """Make sure the server is installed (peers are installed on first use)."""

    def version(self) -> str:
        return "unknown"

    @contextlib.asynccontextmanager
    async def running(self, pinning: Pinning) -> AsyncIterator[Server]:
        """Start a fresh server for one scenario; stop it afterwards."""
        with tempfile.TemporaryDirectory(prefix=f"bench-{self.name}-") as tmp:
            server = self.make(Path(tmp), free_port(), pinning)
            await server.start()
            try:
                yield server
            finally:
                await server.stop()

    def make(self, tmp: Path, port: int, pinning: Pinning) -> Server:
        raise NotImplementedError


def _gess_command() -> list[str]:
    script = Path(sys.executable).parent / "gess"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "server"]


def _git_revision() -> str:
    try:
        completed = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "?"
    return completed.stdout.strip() or "?"


class GessTarget(Target):
    """Our server, ``gess serve``, on SQLite in a temporary data directory by default.

    Args:
        database_url: a PostgreSQL URL instead (documents are then named per run).
        extra_args: more ``gess serve`` flags.
    """

    name = "gess"
    can_restart = True

    def __init__(self, database_url: str | None = None, extra_args: Sequence[str] = ()) -> None:
        self.database_url = database_url
        self.extra_args = list(extra_args)
        self._help: str | None = None

    def install(self) -> None:
        """Compile the bytecode of gess and of its dependencies, as ``pip install`` does.

        Without it every start compiles every module again wherever the bytecode is not
        written (``PYTHONDONTWRITEBYTECODE``, or an environment installed without compiling):
        2.8 s of CPU instead of 1.1 s to import the server, which the restart figures would
        count although no deployment pays it. Modules already compiled are skipped.
        """
        paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        for path in sorted(paths):
            compileall.compile_dir(path, quiet=2, workers=0)
        for package in ("content", "crdt", "storage", "server", "client"):
            compileall.compile_dir(REPO_ROOT / package, quiet=2, workers=0)

    def version(self) -> str:
        try:
            ours = importlib.metadata.version("gess-workspaces")
            pycrdt = importlib.metadata.version("pycrdt")
        except importlib.metadata.PackageNotFoundError:
            return f"git {_git_revision()}"
        store = "PostgreSQL" if self.database_url else "SQLite"
        return f"{ours} (git {_git_revision()}), pycrdt {pycrdt}, {store}"

    def accepts(self, flag: str) -> bool:
        """Whether ``gess serve`` has a flag (newer features are detected, not assumed)."""
        if self._help is None:
            completed = subprocess.run(
                [*_gess_command(), "serve", "--help"],
                capture_output=True,
                text=True,
                check=False,
                cwd=REPO_ROOT,
            )
            self._help = completed.stdout
        return flag in self._help

    def make(
        self,
        tmp: Path,
        port: int,
        pinning: Pinning,
        *,
        data_dir: Path | None = None,
        extra_args: Sequence[str] = (),
        name: str = "gess",
    ) -> Server:
        command = [
            *_gess_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir or tmp / "data"),
            "--log-level",
            "warning",
            *self.extra_args,
            *extra_args,
        ]
        if self.database_url:
            command += ["--database-url", self.database_url]
        if self.accepts("--anonymous"):
            # The peers have no accounts either: measure editing, not signing in.
            command.append("--anonymous")
        if self.accepts("--max-messages-per-second"):
            # Nor per-socket limits: a few load-generator sockets stand for many people (one
            # builds a 20,000-update document as fast as it can, 10,000 come from one address).
            command += [
                "--max-messages-per-second",
                "0",
                "--max-bytes-per-second",
                "0",
                "--max-connections-per-ip",
                "0",
            ]
        return Server(
            name=name,
            command=command,
            port=port,
            url=f"ws://127.0.0.1:{port}/ws",
            dialect="yws",
            cpus=pinning.server,
            log_path=tmp / f"{name}-{port}.log",
            can_restart=True,
        )
