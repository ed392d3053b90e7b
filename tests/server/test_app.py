"""The app in-process (Starlette's TestClient), on the in-memory store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pycrdt import Doc, Text
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from crdt import Saved, SyncStep1, SyncStep2, SyncUpdate, decode, encode
from server import CloseCode, Settings, create_app
from storage import MemoryStore


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


def test_an_edit_is_saved_and_counted(client: TestClient) -> None:
    doc: Doc[Text] = Doc()
    doc["text"] = text = Text()
    text += "hello"
    with client.websocket_connect("/ws/notes?saved=1") as ws:
        assert isinstance(decode(ws.receive_bytes()), SyncStep1)
        ws.send_bytes(encode(SyncUpdate(doc.get_update())))
        # Its own update comes back once committed (a stock client's "saved"), then Saved.
        echo = decode(ws.receive_bytes())
        assert echo == SyncUpdate(doc.get_update())
        saved = decode(ws.receive_bytes())
        assert isinstance(saved, Saved)
        assert saved.state_vector == doc.get_state()
        ws.send_bytes(encode(SyncStep1(b"\x00")))
        step2 = decode(ws.receive_bytes())
        assert isinstance(step2, SyncStep2)
        fresh: Doc[Text] = Doc()
        fresh.apply_update(step2.update)
        assert str(fresh.get("text", type=Text)) == "hello"
    metrics = client.get("/metrics").text
    assert "gess_document_loads_total 1.0" in metrics
    assert "gess_messages_received_total 2.0" in metrics


@pytest.mark.parametrize(
    ("path", "payload", "code", "reason"),
    [
        ("/ws/" + "x" * 201, None, CloseCode.MALFORMED, "invalid document id"),
        ("/ws/tab%09name", None, CloseCode.MALFORMED, "1-200 printable characters"),
        ("/ws/doc", b"\x00\x02\x05abc", CloseCode.MALFORMED, "declared length 5 exceeds"),
        ("/ws/doc", b"\x00\x02\x03abc", CloseCode.MALFORMED, "invalid document update"),
        ("/ws/doc", b"\x09", CloseCode.MALFORMED, "unknown message type 9"),
        ("/ws/doc", b"\x00" * 2000, CloseCode.TOO_LARGE, "exceeds the limit of 1024 bytes"),
        ("/ws/doc", "text", CloseCode.MALFORMED, "text frames are not accepted"),
    ],
)
def test_bad_input_closes_with_a_readable_reason(
    client: TestClient, path: str, payload: bytes | str | None, code: int, reason: str
) -> None:
    with client.websocket_connect(path) as ws:
        if payload is not None:
            assert isinstance(decode(ws.receive_bytes()), SyncStep1)
            if isinstance(payload, str):
                ws.send_text(payload)
            else:
                ws.send_bytes(payload)
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_bytes()
    assert closed.value.code == code
    assert reason in closed.value.reason
