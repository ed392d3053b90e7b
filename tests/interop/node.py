"""Drive a real Yjs client (yjs + y-websocket in Node) from async tests.

``yclient.mjs`` beside this file runs one ``WebsocketProvider`` and takes line-delimited JSON
commands on stdin; :class:`NodeClient` is its Python side::

    async with NodeClient.start(server.ws_url, "doc-1") as alice:
        await alice.insert(0, "hello")
        await wait_for(lambda: bob.text_equals("hello"))

Every wait here is bounded, and every bound is scaled by ``GESS_TEST_TIMEOUT_FACTOR`` (a slow
CI machine sets it above 1).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import json
import os
import shutil
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "HARNESS_DIR",
    "NodeClient",
    "NodeError",
    "missing_reason",
    "scaled",
    "wait_for",
]

HARNESS_DIR = Path(__file__).resolve().parent
SCRIPT = HARNESS_DIR / "yclient.mjs"


def timeout_factor() -> float:
    """How much slower than a developer's machine this one is (``GESS_TEST_TIMEOUT_FACTOR``)."""
    raw = os.environ.get("GESS_TEST_TIMEOUT_FACTOR", "").strip()
    if not raw:
        return 1.0
    factor = float(raw)
    if factor <= 0:
        raise ValueError(f"GESS_TEST_TIMEOUT_FACTOR must be positive, got {raw!r}")
    return factor


def scaled(seconds: float) -> float:
    """A timeout of ``seconds`` on a developer's machine, scaled for this one."""
    return seconds * timeout_factor()


async def wait_for(
    predicate: Callable[[], object],
    within: float = 10.0,
    *,
    interval: float = 0.02,
    message: str | None = None,
) -> Any:
    """Call ``predicate`` until it returns something truthy, and return that.

    ``predicate`` may be a plain or a coroutine function. ``within`` is in seconds, scaled.

    Raises:
        AssertionError: ``within`` (scaled) passed first; says what the last call returned.
    """
    last: object = None
    try:
        async with asyncio.timeout(scaled(within)):
            while True:
                result = predicate()
                if inspect.isawaitable(result):
                    result = await result
                last = result
                if result:
                    return result
                await asyncio.sleep(interval)
    except TimeoutError:
        what = message or getattr(predicate, "__name__", repr(predicate))
        raise AssertionError(
            f"timed out after {scaled(within):.1f} s waiting for {what}; last result: {last!r}"
        ) from None


def missing_reason() -> str | None:
    """Why the Node harness cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (scripts/test installs it)"
    for package in ("y-websocket", "ws"):
        if not (HARNESS_DIR / "node_modules" / package).is_dir():
            return f"Node packages are not installed: run `npm ci` in {HARNESS_DIR}"
    return None


class NodeError(Exception):
    """The Node client refused a command, timed out, or died."""


class NodeClient:
    """One Node process holding one ``Y.Doc`` and its ``WebsocketProvider``.

    Create it with :meth:`start`. Events that the process pushes (``status``, ``sync``,
    ``connection-close``, ``closed``, ``saved``, ...) are kept in :attr:`events`, oldest first.
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._stderr: deque[str] = deque(maxlen=200)
        self._changed = asyncio.Condition()
        self._exited: str | None = None
        self.events: list[dict[str, Any]] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        url: str,
        document_id: str,
        params: Mapping[str, str] | None = None,
        *,
        reconnect: bool = True,
        synced: bool = True,
        release: str | None = None,
        within: float = 15.0,
    ) -> AsyncIterator[NodeClient]:
        """Start a Node client, connect it to ``url``/``document_id`` and yield it.

        Args:
            url: the server's WebSocket base URL, e.g. ``ws://127.0.0.1:8000/ws``.
            document_id: appended to ``url`` by the provider.
            params: query parameters for the connection (``{"saved": "1"}``).
            reconnect: whether the provider reconnects after the server closes the connection.
            synced: wait until the provider has synced before yielding.
            release: ``"rc"`` runs y-websocket 3.1.0-rc.5 (the sync-status API) instead of
                the current release.
            within: bound (scaled) on starting, connecting and syncing.

        Raises:
            NodeError: Node is missing, the process died, or it did not sync in time.
        """
        reason = missing_reason()
        if reason is not None:
            raise NodeError(reason)
        node = shutil.which("node")
        assert node is not None
        process = await asyncio.create_subprocess_exec(
            node,
            str(SCRIPT),
            cwd=HARNESS_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )
        client = cls(process)
        readers = [
            asyncio.create_task(client._read_stdout()),
            asyncio.create_task(client._read_stderr()),
        ]
        try:
            await client.wait_event("ready", within=within)
            await client.request(
                "connect",
                url=url,
                document=document_id,
                params=dict(params or {}),
                reconnect=reconnect,
                release=release,
            )
            if synced:
                await client.wait_synced(within)
            yield client
        finally:
            await client._stop()
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)

    # -- commands ----------------------------------------------------------------------------

    async def request(self, cmd: str, *, within: float = 10.0, **args: Any) -> Any:
        """Send one command and return its result.

        Raises:
            NodeError: the command failed, the process died, or no reply came in time.
        """
        if self._exited is not None:
            raise NodeError(f"the Node client has exited ({self._exited}){self._stderr_tail()}")
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        assert self._process.stdin is not None
        line = json.dumps({"id": request_id, "cmd": cmd, **args}) + "\n"
        try:
            self._process.stdin.write(line.encode())
            await self._process.stdin.drain()
            async with asyncio.timeout(scaled(within)):
                return await future
        except TimeoutError:
            raise NodeError(
                f"no reply to {cmd!r} within {scaled(within):.1f} s{self._stderr_tail()}"
            ) from None
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise NodeError(f"the Node client is gone{self._stderr_tail()}") from exc
        finally:
            self._pending.pop(request_id, None)

    async def wait_synced(self, within: float = 10.0) -> None:
        """Wait until the provider has synced with the server (``within`` seconds, scaled)."""
        timeout_ms = int(scaled(within) * 1000)
        await self.request("wait_synced", timeout_ms=timeout_ms, within=within + 5)

    async def insert(self, index: int, text: str, *, name: str = "text") -> None:
        await self.request("insert", index=index, text=text, name=name)

    async def append(self, text: str, *, name: str = "text") -> None:
        """Insert ``text`` at the end of the Y.Text ``name``."""
        await self.insert(len(await self.text(name=name)), text, name=name)

    async def delete(self, index: int, length: int, *, name: str = "text") -> None:
        await self.request("delete", index=index, length=length, name=name)

    async def text(self, *, name: str = "text") -> str:
        result = await self.request("text", name=name)
        assert isinstance(result, str)
        return result

    async def set_awareness(self, state: Mapping[str, Any] | None) -> None:
        """Set (or with None, clear) the local awareness state."""
        await self.request("set_awareness", state=None if state is None else dict(state))

    async def set_awareness_field(self, field: str, value: Any) -> None:
        await self.request("set_awareness_field", field=field, value=value)

    async def awareness(self) -> dict[int, Any]:
        """Every awareness state this client knows, its own included, by client id."""
        result = await self.request("awareness")
        return {int(client_id): state for client_id, state in result.items()}

    async def client_id(self) -> int:
        return int(await self.request("client_id"))

    async def state_vector(self) -> bytes:
        return base64.b64decode(await self.request("state_vector"))

    async def full_state(self) -> bytes:
        return base64.b64decode(await self.request("full_state"))

    async def apply_update(self, update: bytes) -> None:
        """Apply an update locally; the provider then sends it to the server."""
        await self.request("apply_update", base64=base64.b64encode(update).decode())

    async def sync_status(self) -> dict[str, Any]:
        """``{"status": "green" | "yellow" | "red", "local_updates_synced"}`` (rc only)."""
        result = await self.request("sync_status")
        assert isinstance(result, dict)
        return result

    async def status(self) -> dict[str, bool]:
        """``{"connected", "connecting", "synced", "should_connect"}`` of the provider."""
        result = await self.request("status")
        assert isinstance(result, dict)
        return result

    async def append_paragraph(self, runs: list[dict[str, Any]]) -> None:
        """Append a TipTap paragraph to the ``default`` fragment: ``runs`` of
        ``{"text", "attributes"?}``, the attributes being marks (``{"link": {"href": ...}}``)."""
        await self.request("append_paragraph", runs=runs)

    async def url_protocol(self, href: str, base: str) -> str | None:
        """The scheme a browser (Node's WHATWG ``URL``) reads in ``href`` against ``base``,
        with its colon (``"https:"``); None if it does not parse."""
        protocol: str | None = await self.request("url_protocol", href=href, base=base)
        return protocol

    async def disconnect(self) -> None:
        """Close the connection cleanly (the provider first sends a null awareness state)."""
        await self.request("disconnect")

    async def reconnect(self) -> None:
        await self.request("reconnect")

    async def close(self, within: float = 10.0) -> None:
        """Destroy the provider and wait for the process to exit."""
        if self._exited is None:
            with contextlib.suppress(NodeError):
                await self.request("close", within=within)
        await self._wait_exit(within)

    async def kill(self, within: float = 10.0) -> None:
        """SIGKILL the process: its connection drops without a goodbye."""
        if self._process.returncode is None:
            self._process.kill()
        await self._wait_exit(within)

    # -- conveniences for assertions ---------------------------------------------------------

    async def text_equals(self, expected: str, *, name: str = "text") -> bool:
        return await self.text(name=name) == expected

    async def wait_text(self, expected: str, within: float = 10.0, *, name: str = "text") -> None:
        """Wait until the Y.Text ``name`` reads ``expected``."""

        async def matches() -> bool:
            return await self.text_equals(expected, name=name)

        await wait_for(matches, within, message=f"Node text to equal {expected!r}")

    async def wait_event(
        self,
        name: str,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        since: int = 0,
        within: float = 10.0,
    ) -> dict[str, Any]:
        """The first event called ``name`` at index ``since`` or later that matches.

        Events already received count, so ``mark = len(client.events)`` before an action and
        ``since=mark`` after it waits for an event that the action caused.

        Raises:
            AssertionError: no such event within ``within`` (scaled).
        """

        def find() -> dict[str, Any] | None:
            for event in self.events[since:]:
                if event.get("event") == name and (predicate is None or predicate(event)):
                    return event
            return None

        try:
            async with asyncio.timeout(scaled(within)), self._changed:
                while (found := find()) is None:
                    if self._exited is not None:
                        raise NodeError(
                            f"the Node client exited ({self._exited}) before event {name!r}"
                            f"{self._stderr_tail()}"
                        )
                    await self._changed.wait()
                return found
        except TimeoutError:
            seen = [event.get("event") for event in self.events[since:]]
            raise AssertionError(
                f"no {name!r} event within {scaled(within):.1f} s; events seen: {seen}"
            ) from None

    def stderr_text(self) -> str:
        return "\n".join(self._stderr)

    # -- plumbing ----------------------------------------------------------------------------

    async def _read_stdout(self) -> None:
        assert self._process.stdout is not None
        while line := await self._process.stdout.readline():
            try:
                message = json.loads(line)
            except ValueError:
                self._stderr.append(f"[stdout, not JSON] {line.decode(errors='replace')}")
                continue
            if "event" in message:
                async with self._changed:
                    self.events.append(message)
                    self._changed.notify_all()
                continue
            future = self._pending.get(message.get("id"))
            if future is None or future.done():
                continue
            if message.get("ok"):
                future.set_result(message.get("result"))
            else:
                future.set_exception(NodeError(str(message.get("error"))))
        returncode = await self._process.wait()
        self._exited = f"exit status {returncode}"
        for future in self._pending.values():
            if not future.done():
                future.set_exception(
                    NodeError(f"the Node client exited ({self._exited}){self._stderr_tail()}")
                )
        async with self._changed:
            self._changed.notify_all()

    async def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        while line := await self._process.stderr.readline():
            self._stderr.append(line.decode(errors="replace").rstrip())

    async def _wait_exit(self, within: float) -> None:
        try:
            async with asyncio.timeout(scaled(within)):
                await self._process.wait()
        except TimeoutError:
            self._process.kill()
            await self._process.wait()

    async def _stop(self) -> None:
        if self._process.returncode is None:
            assert self._process.stdin is not None
            with contextlib.suppress(ConnectionError):
                self._process.stdin.close()
            try:
                await self._wait_exit(5.0)
            finally:
                if self._process.returncode is None:
                    self._process.kill()
                    await self._process.wait()

    def _stderr_tail(self) -> str:
        if not self._stderr:
            return ""
        return "\nNode stderr:\n" + "\n".join(list(self._stderr)[-20:])
