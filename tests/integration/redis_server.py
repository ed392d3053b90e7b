"""A throwaway ``redis-server`` on a free loopback port, for integration tests.

Nothing is persisted (``--save '' --appendonly no``): a :meth:`RedisServer.restart` comes back
empty, like a Redis that lost its memory, on the same port so that clients reconnect to it::

    server = RedisServer(directory=tmp_path / "redis")
    await server.start()
    ...
    server.kill()              # SIGKILL: every connection drops at once
    await server.restart()     # same port, empty
    await server.client_kill(type="pubsub")
    server.stop()

Besides the process, it offers the few admin commands the tests use to hurt clients on
purpose (``CLIENT LIST``, ``CLIENT KILL``, ``CLIENT PAUSE``), and :func:`local_addresses` to tell
which of those connections belong to which server process.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import signal
import subprocess
import time
import weakref
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tests.integration.server import free_port
from tests.interop.node import scaled

__all__ = ["RedisFailed", "RedisServer", "local_addresses", "missing_reason"]

_ALIVE: weakref.WeakSet[RedisServer] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    """An interrupted run must not leave a redis-server behind."""
    for server in list(_ALIVE):
        if server.running:
            server.kill()


class RedisFailed(AssertionError):
    """redis-server did not start or stop as it should have."""


def missing_reason() -> str | None:
    """Why no throwaway Redis can run here, or None when it can."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (scripts/test installs it as root on Debian)"
    return None


def local_addresses(pid: int, remote_port: int) -> set[str]:
    """The ``ip:port`` ends of the loopback TCP connections that process ``pid`` holds to
    ``remote_port``: what ``CLIENT LIST`` shows as ``addr`` for that process's connections.

    Reads ``/proc`` (Linux): the socket inodes among the process's file descriptors, then the
    TCP table of its network namespace.
    """
    inodes: set[str] = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    addresses = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if inode not in inodes or int(remote.split(":")[1], 16) != remote_port:
            continue
        address_hex, port_hex = local.split(":")
        # /proc shows the IPv4 address as a little-endian 32-bit number.
        octets = bytes.fromhex(address_hex)[::-1]
        addresses.add(f"{'.'.join(str(o) for o in octets)}:{int(port_hex, 16)}")
    return addresses


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1; its files and log live in ``directory``.

    Args:
        directory: working directory (``--dir``) and home of the log file.
        port: the port to listen on; a free one by default. :meth:`restart` keeps it.
    """

    def __init__(self, *, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.log_path = directory / "redis.log"
        self._fixed_port = port is not None
        self._process: subprocess.Popen[bytes] | None = None
        _ALIVE.add(self)

    @property
    def url(self) -> str:
        """What ``gess serve --redis-url`` takes."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisFailed(missing_reason())
        return [
            binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--logfile", str(self.log_path),
            "--daemonize", "no",
        ]  # fmt: skip

    def client(self) -> Redis:
        """A new asyncio client for admin commands; close it with ``aclose()``."""
        return Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=scaled(2.0))

    async def start(self, within: float = 10.0) -> None:
        """Start the process and wait until it answers PING (``within`` seconds, scaled).

        The first start of a server without a fixed port picks another free port if the
        chosen one was taken meanwhile; later starts keep the port.

        Raises:
            RedisFailed: the process exited or did not answer in time; the message holds its log.
        """
        if self.running:
            raise RedisFailed("redis-server is already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            try:
                await self._start_once(within)
            except RedisFailed:
                if attempt == attempts - 1:
                    raise
                self.port = free_port()
            else:
                self._fixed_port = True  # restarts come back on this port
                return

    async def _start_once(self, within: float) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"==== {' '.join(self.command())}\n".encode())
            log.flush()
            self._process = await asyncio.to_thread(
                subprocess.Popen,
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + scaled(within)
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if not self.running:
                raise RedisFailed(
                    f"redis-server exited with status {self._process.poll()} while starting\n"
                    f"{self.log_text()[-4000:]}"
                )
            client = self.client()
            try:
                if await client.ping():
                    return
            except (RedisError, OSError) as exc:
                last_error = repr(exc)
            finally:
                await client.aclose()
            await asyncio.sleep(0.02)
        self.kill()
        raise RedisFailed(
            f"redis-server did not answer PING within {scaled(within):.0f} s ({last_error})\n"
            f"{self.log_text()[-4000:]}"
        )

    def kill(self) -> None:
        """SIGKILL: Redis vanishes at once and every client's connection drops."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=scaled(10))

    async def restart(self, within: float = 10.0) -> None:
        """Kill if running, then start again, empty, on the same port."""
        self.kill()
        await self.start(within)

    def stop(self) -> None:
        """Teardown: SIGTERM (nothing to save, so it exits at once), SIGKILL if it lingers."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=scaled(10))
        except subprocess.TimeoutExpired:
            self.kill()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- admin commands ----------------------------------------------------------------------

    async def clients(self) -> list[dict[str, str]]:
        """``CLIENT LIST``, one dict per connection (``addr``, ``flags``, ``sub``, ``cmd``...),
        without the connection asking."""
        client = self.client()
        try:
            entries = await client.client_list()
            me = await client.client_id()
        finally:
            await client.aclose()
        return [entry for entry in entries if entry.get("id") != str(me)]

    async def subscribers_of(self, pid: int) -> list[dict[str, str]]:
        """The pub/sub connections (``P`` flag) that process ``pid`` holds to this server."""
        addresses = local_addresses(pid, self.port)
        return [c for c in await self.clients() if c["addr"] in addresses and "P" in c["flags"]]

    async def client_kill(self, *, addr: str | None = None, type: str | None = None) -> int:
        """``CLIENT KILL ADDR addr`` and/or ``TYPE type`` (``normal``, ``pubsub``...);
        return how many connections were closed."""
        if addr is None and type is None:
            raise ValueError("name a client to kill: addr= or type=")
        client = self.client()
        try:
            killed = await client.client_kill_filter(_type=type, addr=addr, skipme=True)
        finally:
            await client.aclose()
        return int(killed)

    async def pause_writes(self, seconds: float) -> None:
        """``CLIENT PAUSE ms WRITE``: PUBLISH (and every write) waits until :meth:`unpause`
        or the timeout; subscribers stay connected and reads go on."""
        client = self.client()
        try:
            await client.client_pause(int(seconds * 1000), all=False)
        finally:
            await client.aclose()

    async def unpause(self) -> None:
        client = self.client()
        try:
            await client.client_unpause()
        finally:
            await client.aclose()
