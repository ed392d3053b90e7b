"""The document socket's pool of `websockets` protocols (the wire itself is tested on a real
server: tests/integration/test_socket_wire.py and tests/interop/test_rfc6455.py)."""

from __future__ import annotations

from websockets.frames import Frame, Opcode
from websockets.protocol import Event, State

from server.document_socket import Protocols


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
