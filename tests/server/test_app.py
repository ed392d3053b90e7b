"""The app: in-process (Starlette's TestClient) on the in-memory store for HTTP, and its
document sockets on a real ``gess serve`` (they are served by the node's own WebSocket layer,
which runs under ``gess serve`` only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pycrdt import Doc, Text
from starlette.testclient import TestClient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from crdt import Saved, SyncStep1, SyncStep2, SyncUpdate, decode, encode
from server import CloseCode, Settings, create_app
from storage import MemoryStore
from tests.conftest import StartServer


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = Settings(node_id="test-node", max_message_bytes=1024, anonymous=True)
    app = create_app(settings, store=MemoryStore())
    with TestClient(app) as test_client:
        yield test_client


def test_healthz_names_the_node(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "node_id": "test-node"}


async def test_an_edit_is_saved_and_counted(gess_server: StartServer) -> None:
    server = await gess_server()
    doc: Doc[Text] = Doc()
    doc["text"] = text = Text()
    text += "hello"
    async with connect(f"{server.ws_url}/notes?saved=1") as ws:
        assert isinstance(decode(await ws.recv(decode=False)), SyncStep1)
        await ws.send(encode(SyncUpdate(doc.get_update())))
        # Its own update comes back once committed (a stock client's "saved"), then Saved.
        echo = decode(await ws.recv(decode=False))
        assert echo == SyncUpdate(doc.get_update())
        saved = decode(await ws.recv(decode=False))
        assert isinstance(saved, Saved)
        assert saved.state_vector == doc.get_state()
        await ws.send(encode(SyncStep1(b"\x00")))
        step2 = decode(await ws.recv(decode=False))
        assert isinstance(step2, SyncStep2)
        fresh: Doc[Text] = Doc()
        fresh.apply_update(step2.update)
        assert str(fresh.get("text", type=Text)) == "hello"
    metrics = await server.metrics()
    assert metrics["gess_document_loads_total"] == 1.0
    assert metrics["gess_messages_received_total"] == 2.0


@pytest.mark.parametrize(
    ("path", "payload", "code", "reason"),
    [
        ("/" + "x" * 201, None, CloseCode.MALFORMED, "invalid document id"),
        ("/tab%09name", None, CloseCode.MALFORMED, "1-200 printable characters"),
        ("/doc", b"\x00\x02\x05abc", CloseCode.MALFORMED, "declared length 5 exceeds"),
        ("/doc", b"\x00\x02\x03abc", CloseCode.MALFORMED, "invalid document update"),
        ("/doc", b"\x09", CloseCode.MALFORMED, "unknown message type 9"),
        ("/doc", b"\x00" * 2000, CloseCode.TOO_LARGE, "exceeds the limit of 1024 bytes"),
        ("/doc", "text", CloseCode.MALFORMED, "text frames are not accepted"),
    ],
)
async def test_bad_input_closes_with_a_readable_reason(
    gess_server: StartServer, path: str, payload: bytes | str | None, code: int, reason: str
) -> None:
    server = await gess_server(extra_args=["--max-message-bytes", "1024"])
    async with connect(server.ws_url + path) as ws:
        if payload is not None:
            assert isinstance(decode(await ws.recv(decode=False)), SyncStep1)
            await ws.send(payload)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code
    assert reason in closed.value.rcvd.reason
