"""The peers a run compares GESS with (installed on demand), or any server by URL.

y-websocket and Hocuspocus run on Node from ``bench/peers/package-lock.json``;
pycrdt-websocket in a venv of its own; :class:`ExternalTarget` measures a server someone else
started. Each is a :class:`~bench.targets.Target` like GESS's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from bench.system import Pinning
from bench.targets import BENCH_DIR, Server, ServerError, Target

__all__ = [
    "PEERS",
    "ExternalTarget",
    "HocuspocusTarget",
    "PycrdtWebsocketTarget",
    "YWebsocketTarget",
    "install_node_peers",
]

PEERS_DIR = BENCH_DIR / ".peers"
NODE_PEERS = PEERS_DIR / "node"
PYCRDT_VENV = PEERS_DIR / "pycrdt-websocket"
PYCRDT_REQUIREMENTS = ("pycrdt-websocket==0.16.5", "uvicorn[standard]==0.54.0")


def _package_version(package_dir: Path) -> str:
    try:
        data = json.loads((package_dir / "package.json").read_text())
    except (OSError, ValueError):
        return "?"
    return str(data.get("version", "?"))


def install_node_peers() -> None:
    """Install the Node peers from ``bench/peers/package-lock.json`` into ``bench/.peers/node``.

    Raises:
        ServerError: npm is missing or failed.
    """
    source = BENCH_DIR / "peers"
    NODE_PEERS.mkdir(parents=True, exist_ok=True)
    wanted = (source / "package-lock.json").read_bytes()
    lock = NODE_PEERS / "package-lock.json"
    installed = NODE_PEERS / "node_modules" / ".package-lock.json"
    for name in ("package.json", "hocuspocus.mjs"):
        shutil.copyfile(source / name, NODE_PEERS / name)
    if lock.is_file() and lock.read_bytes() == wanted and installed.is_file():
        return
    lock.write_bytes(wanted)
    npm = shutil.which("npm")
    if npm is None:
        raise ServerError("npm is not installed: it installs the Node peers")
    completed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=NODE_PEERS,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise ServerError(f"npm ci in {NODE_PEERS} failed:\n{completed.stderr[-2000:]}")


def _node() -> str:
    found = shutil.which("node")
    if found is None:
        raise ServerError("node is not installed")
    return found


class YWebsocketTarget(Target):
    """The y-websocket reference server (``@y/websocket-server``), no persistence."""

    name = "y-websocket"

    def install(self) -> None:
        install_node_peers()

    def version(self) -> str:
        modules = NODE_PEERS / "node_modules"
        return (
            f"@y/websocket-server {_package_version(modules / '@y' / 'websocket-server')}, "
            f"yjs {_package_version(modules / 'yjs')}"
        )

    def make(self, tmp: Path, port: int, pinning: Pinning) -> Server:
        script = NODE_PEERS / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
        return Server(
            name=self.name,
            command=[_node(), str(script)],
            port=port,
            url=f"ws://127.0.0.1:{port}",
            dialect="yws",
            env={"HOST": "127.0.0.1", "PORT": str(port)},
            cpus=pinning.server,
            log_path=tmp / "server.log",
            cwd=NODE_PEERS,
        )


class HocuspocusTarget(Target):
    """Hocuspocus (``@hocuspocus/server``) with no extensions, so no persistence."""

    name = "hocuspocus"

    def install(self) -> None:
        install_node_peers()

    def version(self) -> str:
        modules = NODE_PEERS / "node_modules"
        return (
            f"@hocuspocus/server {_package_version(modules / '@hocuspocus' / 'server')}, "
            f"yjs {_package_version(modules / 'yjs')}"
        )

    def make(self, tmp: Path, port: int, pinning: Pinning) -> Server:
        return Server(
            name=self.name,
            command=[_node(), str(NODE_PEERS / "hocuspocus.mjs")],
            port=port,
            url=f"ws://127.0.0.1:{port}",
            dialect="hocuspocus",
            env={"HOST": "127.0.0.1", "PORT": str(port)},
            cpus=pinning.server,
            log_path=tmp / "server.log",
            cwd=NODE_PEERS,
        )


class PycrdtWebsocketTarget(Target):
    """pycrdt-websocket's ``WebsocketServer`` behind its ``ASGIServer`` on uvicorn, no store."""

    name = "pycrdt-websocket"

    @property
    def _python(self) -> Path:
        return PYCRDT_VENV / "bin" / "python"

    def install(self) -> None:
        check = [str(self._python), "-c", "import pycrdt.websocket, uvicorn, websockets"]
        if self._python.is_file() and subprocess.run(check, capture_output=True).returncode == 0:
            return
        subprocess.run([sys.executable, "-m", "venv", str(PYCRDT_VENV)], check=True)
        completed = subprocess.run(
            [str(self._python), "-m", "pip", "install", "-q", *PYCRDT_REQUIREMENTS],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise ServerError(f"installing pycrdt-websocket failed:\n{completed.stderr[-2000:]}")

    def version(self) -> str:
        completed = subprocess.run(
            [
                str(self._python),
                "-c",
                "import importlib.metadata as m; "
                "print(*(m.version(p) for p in ('pycrdt-websocket', 'pycrdt', 'uvicorn')))",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        parts = completed.stdout.split()
        if len(parts) != 3:
            return "?"
        return f"pycrdt-websocket {parts[0]}, pycrdt {parts[1]}, uvicorn {parts[2]}"

    def make(self, tmp: Path, port: int, pinning: Pinning) -> Server:
        script = BENCH_DIR / "peers" / "pycrdt_websocket_server.py"
        return Server(
            name=self.name,
            command=[str(self._python), str(script), "127.0.0.1", str(port)],
            port=port,
            url=f"ws://127.0.0.1:{port}",
            dialect="yws",
            cpus=pinning.server,
            log_path=tmp / "server.log",
        )


class ExternalTarget(Target):
    """A server that is already running; the benchmark only connects to it.

    Args:
        url: its WebSocket base URL (documents at ``url/DOCUMENT``).
        dialect: ``yws`` or ``hocuspocus``.
        pid: its process id, to measure its memory (None: not measured).
    """

    name = "target"

    def __init__(self, url: str, dialect: str = "yws", pid: int | None = None) -> None:
        if not url.startswith(("ws://127.", "ws://localhost", "ws://[::1]")):
            raise ServerError(f"only loopback servers may be measured, not {url}")
        self.url = url.rstrip("/")
        self.dialect = dialect
        self.pid = pid

    def version(self) -> str:
        return self.url

    @contextlib.asynccontextmanager
    async def running(self, pinning: Pinning) -> AsyncIterator[Server]:
        server = _External(self.url, self.dialect, self.pid)
        yield server


class _External(Server):
    def __init__(self, url: str, dialect: str, pid: int | None) -> None:
        super().__init__(
            name="target",
            command=[],
            port=0,
            url=url,
            dialect=dialect,
            log_path=Path(os.devnull),
        )
        self._pid = pid

    @property
    def pid(self) -> int | None:
        return self._pid

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


PEERS: dict[str, type[Target]] = {
    "y-websocket": YWebsocketTarget,
    "hocuspocus": HocuspocusTarget,
    "pycrdt-websocket": PycrdtWebsocketTarget,
}
