"""The document socket's pool of `websockets` protocols and its handshake checks (the wire
itself is tested on a real server: tests/integration/test_socket_wire.py and
tests/interop/test_rfc6455.py)."""

from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.frames import Frame, Opcode
from websockets.protocol import Event, State

from server.document_socket import DocumentSocket, Handshake, Protocols
from server.websocket import handshake_request

_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3


def upgrade_scope(*extra: tuple[bytes, bytes], version: bytes = b"13") -> dict[str, Any]:
    """The scope uvicorn makes of an upgrade request (a stock client's headers)."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"connection", b"Upgrade"),
        (b"upgrade", b"websocket"),
        (b"sec-websocket-version", version),
        (b"sec-websocket-key", _KEY.encode()),
        *extra,
    ]
    return {"type": "http", "http_version": "1.1", "method": "GET", "headers": headers}


def masked(payload: bytes) -> bytes:
    """One binary frame as a client sends it."""
    return Frame(Opcode.BINARY, payload).serialize(mask=True)


def payloads(events: list[Event]) -> list[bytes]:
    return [bytes(event.data) for event in events if isinstance(event, Frame)]


def test_a_protocol_given_back_reads_the_next_sockets_frames_as_a_new_one_would() -> None:
    protocols = Protocols(max_size=1024, spare=1)
    first = protocols.take()
    first.receive_data(masked(b"\x00\x00\x01\x00"))
    assert payloads(first.events_received()) == [b"\x00\x00\x01\x00"]
    protocols.give_back(first, received=10)
    again = protocols.take()
    assert again is first
    assert again.state is State.OPEN
    again.receive_data(masked(b"\x01\x02"))
    assert payloads(again.events_received()) == [b"\x01\x02"]


def test_a_protocol_that_read_a_large_batch_or_beyond_the_spares_is_let_go() -> None:
    protocols = Protocols(max_size=1 << 20, spare=1)
    big = protocols.take()
    protocols.give_back(big, received=Protocols.REUSE_BELOW)
    assert protocols.take() is not big
    kept, extra = protocols.take(), protocols.take()
    protocols.give_back(kept, received=10)
    protocols.give_back(extra, received=10)
    assert protocols.take() is kept
    assert protocols.take() is not extra


def test_one_checker_answers_each_handshake_on_its_own_merits() -> None:
    """The node's one checker carries nothing from a refused handshake to the next."""
    handshake = Handshake()
    target = b"/ws/doc?saved=1"
    wrong_version = handshake_request(upgrade_scope(version=b"8"), target)
    good = handshake_request(upgrade_scope(), target)
    no_key = upgrade_scope()
    no_key["headers"] = [h for h in no_key["headers"] if h[0] != b"sec-websocket-key"]
    missing_key = handshake_request(no_key, target)
    assert wrong_version is not None and good is not None and missing_key is not None

    refused = handshake.answer(wrong_version)
    assert refused.status_code == 426
    assert refused.headers["Sec-WebSocket-Version"] == "13"
    accepted = handshake.answer(good)
    expected = base64.b64encode(hashlib.sha1((_KEY + _GUID).encode()).digest()).decode()
    assert accepted.status_code == 101
    assert accepted.headers["Sec-WebSocket-Accept"] == expected
    assert handshake.answer(missing_key).status_code == 400
    assert handshake.answer(good).status_code == 101


@pytest.mark.parametrize(
    "body", [(b"content-length", b"5"), (b"transfer-encoding", b"chunked")], ids=str
)
def test_an_upgrade_request_with_a_body_is_not_a_handshake(body: tuple[bytes, bytes]) -> None:
    assert handshake_request(upgrade_scope(body), b"/ws/doc") is None


def test_the_request_is_taken_as_uvicorn_parsed_it() -> None:
    request = handshake_request(upgrade_scope((b"content-length", b"0")), b"/ws/doc?a=1")
    assert request is not None
    assert request.path == "/ws/doc?a=1"
    assert request.headers["Sec-WebSocket-Key"] == _KEY
    assert (request.method, request.protocol) == ("GET", "HTTP/1.1")


class _Transport(asyncio.Transport):
    """Just enough of a transport for a socket that is never served by a loop."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        pass

    def write(self, data: Any) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True


@pytest.fixture
def no_cyclic_collection() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_cyclic_collection")
def test_a_protocol_let_go_by_the_pool_is_freed_by_reference_counting() -> None:
    """Its parser's generator refers back to it; that cycle must not wait for the GC."""
    protocols = Protocols(max_size=1 << 20, spare=0)
    protocol = protocols.take()
    watched = weakref.ref(protocol)
    protocols.give_back(protocol, received=10)
    del protocol
    assert watched() is None


@pytest.mark.usefixtures("no_cyclic_collection")
def test_a_socket_that_ends_mid_message_frees_its_protocol_by_reference_counting() -> None:
    protocols = Protocols(max_size=1024, spare=0)
    socket = DocumentSocket(_Transport(), protocols, set())
    socket.data_received(masked(b"\x00\x00\x01\x00")[:3])  # half a frame: kept
    assert socket._ws is not None
    watched = weakref.ref(socket._ws)
    socket.connection_lost(None)
    assert watched() is None
