"""RFC 6455 on the document socket, as a client that is not ours sees it on the wire.

These pin what a client observes (frames, close codes, the opening handshake, when the TCP
connection ends), not how the server's WebSocket layer does it, so that the layer can be
replaced under them. ``wsprobe.mjs`` speaks for Node's ``ws`` client; the frames ``ws``
refuses to send (unmasked, reserved opcodes) go over a raw TCP socket from here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.frames import Close, Frame, Opcode
from websockets.streams import StreamReader

from tests.conftest import StartServer
from tests.integration.server import GessServer
from tests.integration.support import new_document_id, snapshot
from tests.interop.node import HARNESS_DIR, NodeClient, NodeError, missing_reason, scaled

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]

PROBE = HARNESS_DIR / "wsprobe.mjs"
NORMAL = 1000
PROTOCOL_ERROR = 1002
MALFORMED = 4400
TOO_LARGE = 4413


async def probe(scenario: str, url: str, *, within: float = 20.0, **args: Any) -> dict[str, Any]:
    """Run one scenario of ``wsprobe.mjs`` against ``url`` and return what it observed.

    ``within`` (seconds, scaled) bounds every wait inside the probe; the process gets a
    little longer to report.

    Raises:
        NodeError: Node or its packages are missing.
        AssertionError: the probe failed, timed out waiting for something, or did not exit.
    """
    reason = missing_reason()
    if reason is not None:
        raise NodeError(reason)
    node = shutil.which("node")
    assert node is not None
    request = {"scenario": scenario, "url": url, "timeout_ms": int(scaled(within) * 1000), **args}
    process = await asyncio.create_subprocess_exec(
        node,
        str(PROBE),
        json.dumps(request),
        cwd=HARNESS_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(scaled(within + 10)):
            out, err = await process.communicate()
    except TimeoutError:
        raise AssertionError(f"wsprobe {scenario} did not exit") from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    result: dict[str, Any] = json.loads(out) if out.strip() else {}
    assert process.returncode == 0 and "error" not in result, (
        f"wsprobe {scenario} failed (exit {process.returncode}): {result.get('error')}\n"
        f"{err.decode(errors='replace')[-3000:]}"
    )
    return result


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def document_url(server: GessServer, document_id: str) -> str:
    return f"{server.ws_url}/{document_id}"


async def committed(server: GessServer, document_id: str, text: str) -> None:
    """Wait until a client that connects now gets ``text``: it is stored and served."""
    async with NodeClient.start(server.ws_url, document_id) as check:
        await check.wait_text(text)


def assert_server_closed(close: dict[str, Any], code: int) -> None:
    """A close both sides acknowledged, with ``code``, after which the server ended TCP."""
    assert close["code"] == code, close
    assert close["was_clean"], f"close frames were not exchanged both ways: {close}"
    assert close["server_fin"], f"the server did not end the TCP connection: {close}"


# -- 1. fragmentation --------------------------------------------------------------------------


async def test_a_fragmented_message_counts_as_one(gess_server: StartServer) -> None:
    server = await gess_server()
    document_id = new_document_id()
    async with NodeClient.start(server.ws_url, document_id) as watcher:
        await watcher.insert(0, "before;")
        await committed(server, document_id, "before;")
        result = await probe(
            "fragments", document_url(server, document_id), text="fragmented;", pieces=4
        )
        # Sync step 1 in four frames was answered with the document, as one step 1 is.
        assert result["text_after_sync"] == "before;"
        # The update in four frames, with a ping between the first two, was applied once,
        # sent back to its sender and to the other client in the room.
        assert result["text"] == "before;fragmented;"
        assert result["pongs"] == [b64(b"between")]
        assert result["message_bytes"] > 4 * 4  # every fragment carried a part of it
        await watcher.wait_text("before;fragmented;")
    assert (await snapshot(server, document_id)).text == "before;fragmented;"


# -- 2. ping and pong --------------------------------------------------------------------------


async def test_a_ping_gets_a_pong_with_its_payload(gess_server: StartServer) -> None:
    server = await gess_server()
    payloads = [b"gess ping", b"", bytes(range(125))]  # 125 bytes: the most a ping may carry
    result = await probe(
        "ping", document_url(server, new_document_id()), payloads=[b64(p) for p in payloads]
    )
    assert result["pongs"] == [b64(p) for p in payloads]
    # Still usable: an edit sent after the pings came back from the server.
    assert result["open"]
    assert result["text"] == "after the pings"


# -- 3. and 4. closing handshakes --------------------------------------------------------------


async def test_a_close_from_the_client_is_answered_and_the_server_ends_tcp(
    gess_server: StartServer,
) -> None:
    server = await gess_server()
    result = await probe(
        "close", document_url(server, new_document_id()), code=NORMAL, reason="done editing"
    )
    assert_server_closed(result["close"], NORMAL)


@pytest.mark.parametrize(
    ("message", "reason_says"),
    [
        pytest.param({"binary": b64(b"\xfe\xfe\xfe")}, "malformed", id="not-yjs"),
        pytest.param({"text": "hello"}, "text", id="text-frame"),
    ],
)
async def test_the_server_closes_on_a_message_it_refuses(
    gess_server: StartServer, message: dict[str, Any], reason_says: str
) -> None:
    server = await gess_server()
    result = await probe("refused", document_url(server, new_document_id()), **message)
    close = result["close"]
    assert_server_closed(close, MALFORMED)
    reason = close["reason"]
    assert reason.isprintable() and reason_says in reason.lower(), close


# -- 5. oversize messages ----------------------------------------------------------------------


async def test_a_message_over_the_limit_closes_only_its_sender(gess_server: StartServer) -> None:
    limit = 4096
    server = await gess_server(extra_args=["--max-message-bytes", str(limit)])
    document_id = new_document_id()
    async with NodeClient.start(server.ws_url, document_id) as watcher:
        await watcher.insert(0, "kept;")
        await committed(server, document_id, "kept;")
        result = await probe("oversize", document_url(server, document_id), limit=limit)
        # A message of exactly the limit went through (its sender got it back)...
        accepted = result["accepted"]
        await watcher.wait_text("kept;" + accepted)
        # ...and one byte more closed its sender, with the limit in the reason.
        assert result["refused_bytes"] == limit + 1
        close = result["close"]
        assert_server_closed(close, TOO_LARGE)
        assert str(limit) in close["reason"], close
        # The other client goes on editing and syncing.
        await watcher.append(";after")
        async with NodeClient.start(server.ws_url, document_id) as fresh:
            await fresh.wait_text("kept;" + accepted + ";after")
        assert (await watcher.status())["connected"]
    # Nothing of the refused message was stored.
    assert (await snapshot(server, document_id)).text == "kept;" + accepted + ";after"


# -- 6. invalid frames, over a raw socket ------------------------------------------------------


@dataclass
class RawHandshake:
    status: int
    headers: dict[str, list[str]]
    """Header values by lower-case name."""
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


@contextlib.asynccontextmanager
async def raw_handshake(
    server: GessServer, document_id: str, *, version: str = "13", key: str | None = None
) -> AsyncIterator[RawHandshake]:
    """Send an opening handshake over a plain TCP socket and read the answer's head."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        key = key or b64(os.urandom(16))
        writer.write(
            (
                f"GET /ws/{document_id} HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{server.port}\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: {version}\r\n"
                "\r\n"
            ).encode()
        )
        async with asyncio.timeout(scaled(10)):
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status_line, *lines = head.split("\r\n")
        headers: dict[str, list[str]] = {}
        for line in filter(None, lines):
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        yield RawHandshake(int(status_line.split()[1]), headers, reader, writer)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def server_frames(data: bytes) -> list[Frame]:
    """The frames in ``data``, all the server sent until it ended the connection."""
    stream = StreamReader()
    stream.feed_data(data)
    stream.feed_eof()
    frames: list[Frame] = []
    while stream.buffer:
        parser = Frame.parse(stream.read_exact, mask=False)
        try:
            next(parser)
        except StopIteration as done:
            frames.append(done.value)
        except EOFError as exc:
            raise AssertionError(f"the server's last frame is cut short: {data!r}") from exc
        else:
            raise AssertionError("a frame parser waited for data after the end of the stream")
    return frames


MASK = b"\x37\xfa\x21\x3d"


def masked(first_byte: int, payload: bytes) -> bytes:
    """One client frame: ``first_byte`` (FIN, RSV, opcode), then the masked payload (< 126)."""
    body = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return bytes([first_byte, 0x80 | len(payload)]) + MASK + body


SYNC_STEP_1 = b"\x00\x00\x01\x00"  # an empty document's state vector

INVALID_FRAMES = {
    "unmasked": bytes([0x82, len(SYNC_STEP_1)]) + SYNC_STEP_1,
    "reserved-opcode": masked(0x83, SYNC_STEP_1),
    "rsv1-without-extension": masked(0xC2, SYNC_STEP_1),
    "fragmented-ping": masked(0x09, b"ping"),
}


@pytest.mark.parametrize("frame", list(INVALID_FRAMES.values()), ids=list(INVALID_FRAMES))
async def test_an_invalid_frame_fails_the_connection_with_1002(
    gess_server: StartServer, frame: bytes
) -> None:
    server = await gess_server()
    document_id = new_document_id()
    async with (
        NodeClient.start(server.ws_url, document_id) as editor,
        NodeClient.start(server.ws_url, document_id) as watcher,
    ):
        await editor.insert(0, "before;")
        await watcher.wait_text("before;")
        async with raw_handshake(server, document_id) as raw:
            assert raw.status == 101
            raw.writer.write(frame)
            async with asyncio.timeout(scaled(10)):
                sent = await raw.reader.read()  # returns once the server ended the connection
        closes = [f for f in server_frames(sent) if f.opcode is Opcode.CLOSE]
        assert len(closes) == 1, server_frames(sent)
        assert Close.parse(closes[0].data).code == PROTOCOL_ERROR
        # Nobody else in the room noticed.
        await editor.append("after;")
        await watcher.wait_text("before;after;")
        assert (await watcher.status())["connected"]


# -- 7. the opening handshake ------------------------------------------------------------------


async def test_the_handshake_answers_the_clients_key(gess_server: StartServer) -> None:
    server = await gess_server()
    # `ws` itself refuses a wrong Sec-WebSocket-Accept; the probe checks it once more.
    result = await probe("handshake", document_url(server, new_document_id()))
    assert result["status"] == 101
    headers = result["headers"]
    assert headers["upgrade"].lower() == "websocket"
    assert "upgrade" in headers["connection"].lower()
    assert headers["sec-websocket-accept"] == result["expected_accept"]
    # RFC 6455 section 1.3's own example: this key must be answered with this accept.
    async with raw_handshake(server, new_document_id(), key="dGhlIHNhbXBsZSBub25jZQ==") as raw:
        assert raw.status == 101
        assert raw.headers["sec-websocket-accept"] == ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]


# RFC 6455 4.2.2 (and 4.4): a version the server does not speak gets a 4xx naming the
# versions it does speak.
@pytest.mark.parametrize("version", ["8", "14"])
async def test_a_wrong_version_is_refused_naming_the_supported_one(
    gess_server: StartServer, version: str
) -> None:
    server = await gess_server()
    async with raw_handshake(server, new_document_id(), version=version) as raw:
        assert raw.status == 426, raw.status
        advertised = [
            v.strip()
            for value in raw.headers.get("sec-websocket-version", [])
            for v in value.split(",")
        ]
        assert "13" in advertised, raw.headers


# -- 8. order ----------------------------------------------------------------------------------


async def test_updates_arrive_in_the_order_they_were_sent(gess_server: StartServer) -> None:
    server = await gess_server()
    count = 1000
    result = await probe("order", document_url(server, new_document_id()), count=count)
    # The receiver saw the sender's clock ranges one after the other, never a gap it had to
    # hold back (the server may merge runs of updates, never reorder them).
    ranges = result["ranges"]
    assert ranges, result
    assert ranges[0][0] == 0 and ranges[-1][1] == count, ranges
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges)), ranges
    assert not result["pending"]
    assert result["arrived"] == list(range(count))
    assert result["receiver"] == result["sender"] == list(range(count))
    assert result["same_state"]
