"""crdt.server_session: the server's protocol rules, driven with byte literals, never a socket."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pycrdt import Doc, Text

from crdt.awareness import AwarenessEntry, decode_awareness, encode_awareness
from crdt.document import EMPTY_UPDATE, Document
from crdt.errors import ProtocolError
from crdt.protocol import (
    Auth,
    AwarenessMessage,
    Event,
    Message,
    QueryAwareness,
    Saved,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    encode,
)
from crdt.server_session import (
    READ_ONLY,
    PresenceQueried,
    PresenceReceived,
    ServerSession,
    SyncRequested,
    UpdateReceived,
    UpdateRefused,
)
from tests.crdt.strategies import awareness_entries, hostile_messages, messages, updates

STEP1_EMPTY = b"\x00\x00\x01\x00"
STEP2_EMPTY = b"\x00\x01\x02\x00\x00"
UPDATE_EMPTY = b"\x00\x02\x02\x00\x00"
# yjs: client 1 inserted "hi" into the root text "text".
UPDATE_HI = bytes.fromhex("010101000401047465787402686900")
QUERY = b"\x03"


def writer() -> ServerSession:
    return ServerSession(can_write=True)


def reader() -> ServerSession:
    return ServerSession(can_write=False)


def test_step1_asks_for_a_sync_answer() -> None:
    assert writer().receive(STEP1_EMPTY) == SyncRequested(b"\x00")
    assert reader().receive(STEP1_EMPTY) == SyncRequested(b"\x00")


@pytest.mark.parametrize("frame", [b"\x00\x01\x0f" + UPDATE_HI, b"\x00\x02\x0f" + UPDATE_HI])
def test_a_writers_change_is_received_and_a_readers_refused(frame: bytes) -> None:
    assert writer().receive(frame) == UpdateReceived(UPDATE_HI)
    assert reader().receive(frame) == UpdateRefused(UPDATE_HI)


@pytest.mark.parametrize("frame", [STEP2_EMPTY, UPDATE_EMPTY])
def test_an_empty_change_is_dropped_from_readers_and_writers(frame: bytes) -> None:
    # Every client's first step 2 when it has nothing new: not a refusal for a reader.
    assert writer().receive(frame) is None
    assert reader().receive(frame) is None


def test_rights_follow_the_session() -> None:
    session = reader()
    session.can_write = True
    assert session.receive(b"\x00\x02\x0f" + UPDATE_HI) == UpdateReceived(UPDATE_HI)


def test_presence_is_decoded_and_a_query_recognised() -> None:
    entry = AwarenessEntry(client_id=7, clock=1, state={"cursor": None})
    frame = encode(AwarenessMessage(encode_awareness([entry])))
    assert reader().receive(frame) == PresenceReceived([entry])
    assert reader().receive(QUERY) == PresenceQueried()


@pytest.mark.parametrize(
    "message",
    [Auth("permission denied"), Saved(b"\x00"), Event({"type": "access"})],
    ids=["auth", "saved", "event"],
)
def test_messages_only_the_server_sends_are_refused(message: Message) -> None:
    with pytest.raises(ProtocolError, match="clients may not send"):
        writer().receive(encode(message))


@pytest.mark.parametrize("frame", [b"", b"\x00", b"\x00\x02", b"\x01\x05\x01", b"\x00\x09\x00"])
def test_malformed_frames_raise_protocol_error(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        writer().receive(frame)


def test_the_answer_carries_what_the_client_lacks() -> None:
    document = Document([UPDATE_HI])
    answer = decode(ServerSession.answer(document, b"\x00"))
    assert isinstance(answer, SyncStep2)
    doc: Doc[Any] = Doc()
    doc.apply_update(answer.update)
    assert str(doc.get("text", type=Text)) == "hi"
    up_to_date = decode(ServerSession.answer(document, document.state_vector()))
    assert up_to_date == SyncStep2(EMPTY_UPDATE)
    with pytest.raises(ProtocolError):
        ServerSession.answer(document, b"\x05\x01")


def test_greeting_and_refusal_bytes() -> None:
    assert ServerSession.greeting(b"\x00") == STEP1_EMPTY
    assert decode(ServerSession.refusal()) == Auth(READ_ONLY)
    assert decode(ServerSession.refusal("no")) == Auth("no")


def test_saved_and_events_go_only_to_clients_that_asked() -> None:
    stock = ServerSession(can_write=True)
    assert not stock.takes_saved()
    assert not stock.takes_event(members_only=False)
    assert stock.event({"type": "access"}) is None

    outsider = ServerSession(can_write=False, wants_events=True)
    assert outsider.takes_event(members_only=False)
    assert not outsider.takes_event(members_only=True)
    assert decode(outsider.event({"type": "access"}) or b"") == Event({"type": "access"})

    member = ServerSession(can_write=True, member=True, wants_saved=True, wants_events=True)
    assert member.takes_saved()
    assert member.takes_event(members_only=True)


# -- properties ----------------------------------------------------------------------------


@given(messages, st.booleans())
def test_every_message_is_requested_dropped_or_refused_never_more(
    message: Message, can_write: bool
) -> None:
    session = ServerSession(can_write=can_write)
    if isinstance(message, Auth | Saved | Event):
        with pytest.raises(ProtocolError):
            session.receive(encode(message))
        return
    if isinstance(message, AwarenessMessage):
        try:
            entries = decode_awareness(message.payload)
        except ProtocolError:
            with pytest.raises(ProtocolError):
                session.receive(encode(message))
            return
        assert session.receive(encode(message)) == PresenceReceived(entries)
        return
    request = session.receive(encode(message))
    match message:
        case SyncStep1(state_vector):
            assert request == SyncRequested(state_vector)
        case SyncStep2(update) | SyncUpdate(update):
            if update == EMPTY_UPDATE:
                assert request is None
            elif can_write:
                assert request == UpdateReceived(update)
            else:
                assert request == UpdateRefused(update)
        case QueryAwareness():
            assert request == PresenceQueried()
        case _:
            raise AssertionError(f"unexpected {message!r}")


@given(updates(), st.booleans())
def test_a_reader_never_gets_an_update_through(update: bytes, wants_everything: bool) -> None:
    session = ServerSession(can_write=False, member=wants_everything, wants_saved=wants_everything)
    for frame in (encode(SyncUpdate(update)), encode(SyncStep2(update))):
        assert not isinstance(session.receive(frame), UpdateReceived)


@given(st.lists(awareness_entries, max_size=4))
def test_presence_round_trips(entries: list[AwarenessEntry]) -> None:
    frame = encode(AwarenessMessage(encode_awareness(entries)))
    assert writer().receive(frame) == PresenceReceived(entries)


@given(hostile_messages, st.booleans())
def test_hostile_bytes_raise_protocol_error_or_yield_a_request(
    frame: bytes, can_write: bool
) -> None:
    try:
        request = ServerSession(can_write=can_write).receive(frame)
    except ProtocolError:
        return
    assert request is None or isinstance(
        request,
        SyncRequested | UpdateReceived | UpdateRefused | PresenceReceived | PresenceQueried,
    )
    if not can_write:
        assert not isinstance(request, UpdateReceived)
