"""A real ``gess serve`` process on a free loopback port, for integration tests."""

from __future__ import annotations

import asyncio
import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.interop.node import scaled

__all__ = ["GessServer", "ServerFailed", "free_port", "gess_command", "parse_metrics"]

REPO_ROOT = Path(__file__).resolve().parents[2]


_ALIVE: weakref.WeakSet[GessServer] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    """Servers run in sessions of their own: make sure an interrupted run leaves none behind."""
    for server in list(_ALIVE):
        if server.running:
            server.kill()


class ServerFailed(AssertionError):
    """The server did not start, or did not stop, as it should have."""


# Below Linux's ephemeral range (32768-60999): the outgoing sockets of the many clients the
# tests open take their ports from that range, and one of them could take a port picked there
# between our check and the server's bind.
_PORTS = range(20000, 32768)
_BIND_RETRIES = 5


def free_port() -> int:
    """A TCP port that nothing listens on right now, on 127.0.0.1, outside the ephemeral range."""
    for _ in range(100):
        port = random.choice(_PORTS)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ServerFailed("no free TCP port found on 127.0.0.1")


def gess_command() -> list[str]:
    """How to run ``gess``: the console script beside this Python, else ``python -m server``."""
    script = Path(sys.executable).parent / "gess"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("gess")
    if found is not None:
        return [found]
    return [sys.executable, "-m", "server"]


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text into ``{'name{label="value",...}': value}``; labels sorted by name."""
    metrics: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name
            if sample.labels:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                key += "{" + labels + "}"
            metrics[key] = float(sample.value)
    return metrics


class GessServer:
    """One ``gess serve`` process; :meth:`restart` brings it back on the same port and data.

    Its output goes to a log file (:meth:`log_text`), which collects every run of this server.
    """

    def __init__(
        self,
        *,
        data_dir: Path,
        log_path: Path,
        database_url: str | None = None,
        extra_args: Sequence[str] = (),
        port: int | None = None,
        env: dict[str, str] | None = None,
        anonymous: bool = True,
    ) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.database_url = database_url
        self.extra_args = list(extra_args)
        self.port = port or free_port()
        self._port_chosen = port is None
        """True when we picked the port: a start that finds it taken may pick another."""
        self.env = env or {}
        self.anonymous = anonymous
        """Open mode (``--anonymous``); False: the WebSocket requires accounts."""
        self._process: subprocess.Popen[bytes] | None = None
        self._runs = 0
        _ALIVE.add(self)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """The base URL a ``WebsocketProvider`` takes; documents live at ``ws_url/ID``."""
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise ServerFailed("the server is not running")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def command(self) -> list[str]:
        args = [
            *gess_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--log-level",
            "info",
        ]
        if self.database_url is not None:
            args += ["--database-url", self.database_url]
        if self.anonymous:
            args.append("--anonymous")
        return args + self.extra_args

    async def start(self, within: float = 30.0) -> None:
        """Start the process and wait until ``GET /healthz`` answers 200.

        Raises:
            ServerFailed: the process exited, or did not become healthy in time (scaled);
                the message holds the server's log.
        """
        if self.running:
            raise ServerFailed("the server is already running")
        for attempt in range(_BIND_RETRIES):
            try:
                await self._start_once(within)
                return
            except ServerFailed:
                # Another process took our port between free_port() and the server's bind: a
                # race with the machine, not a fault of the server. Only the first run may move.
                if not (
                    self._port_chosen
                    and self._runs == attempt + 1
                    and self.returncode is not None
                    and "address already in use" in self.log_text().split("==== run ")[-1]
                    and attempt + 1 < _BIND_RETRIES
                ):
                    raise
                self.port = free_port()

    async def _start_once(self, within: float) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._runs += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("GESS_")}
        env.update(PYTHONUNBUFFERED="1", **self.env)
        with self.log_path.open("ab") as log:
            log.write(f"==== run {self._runs}: {' '.join(self.command())}\n".encode())
            log.flush()
            self._process = await asyncio.to_thread(
                subprocess.Popen,
                self.command(),
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        await self._wait_healthy(within)

    async def _wait_healthy(self, within: float) -> None:
        deadline = time.monotonic() + scaled(within)
        last_error = "no answer yet"
        async with httpx.AsyncClient(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if not self.running:
                    raise ServerFailed(
                        f"gess serve exited with status {self.returncode} while starting\n"
                        f"{self.log_text()}"
                    )
                try:
                    response = await http.get(f"{self.http_url}/healthz")
                    if response.status_code == 200:
                        return
                    last_error = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.TransportError as exc:
                    last_error = repr(exc)
                await asyncio.sleep(0.05)
        self.kill()
        raise ServerFailed(
            f"gess serve was not healthy after {scaled(within):.0f} s ({last_error})\n"
            f"{self.log_text()}"
        )

    def kill(self) -> None:
        """SIGKILL: the process dies at once, without flushing anything."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=scaled(10))

    async def terminate(self, within: float = 20.0) -> int:
        """SIGTERM, then wait for a graceful exit; return the exit status.

        ``within`` is in seconds, scaled.

        Raises:
            ServerFailed: the process did not exit in time (it is then killed).
        """
        if self._process is None:
            raise ServerFailed("the server was never started")
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + scaled(within)
        while (code := self._process.poll()) is None:
            if time.monotonic() > deadline:
                self.kill()
                raise ServerFailed(
                    f"gess serve did not exit within {scaled(within):.0f} s of SIGTERM\n"
                    f"{self.log_text()}"
                )
            await asyncio.sleep(0.02)
        return code

    async def restart(self, within: float = 30.0) -> None:
        """Stop gracefully if running, then start again on the same port and data."""
        if self.running:
            await self.terminate()
        await self.start(within)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=scaled(10)) as http:
            return await http.get(f"{self.http_url}{path}")

    async def healthz(self) -> dict[str, object]:
        response = await self.get("/healthz")
        response.raise_for_status()
        body = response.json()
        assert isinstance(body, dict)
        return body

    async def metrics(self) -> dict[str, float]:
        """``GET /metrics``, parsed by :func:`parse_metrics`."""
        response = await self.get("/metrics")
        response.raise_for_status()
        return parse_metrics(response.text)

    async def wait_metric(self, name: str, value: float, within: float = 10.0) -> None:
        """Poll ``/metrics`` until ``name`` reads ``value`` (another process: nothing to wait
        on but its answers).

        Raises:
            AssertionError: not within ``within`` seconds (scaled).
        """
        seen: float | None = None
        try:
            async with asyncio.timeout(scaled(within)):
                while (seen := (await self.metrics()).get(name)) != value:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"{name} stayed {seen}, not {value}") from None

    async def stop(self) -> None:
        """Teardown: SIGTERM if still running.

        Raises:
            ServerFailed: it did not exit within 10 s (scaled) of SIGTERM; it was killed.
        """
        if self.running:
            await self.terminate(within=10.0)
