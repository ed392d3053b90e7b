"""crdt.session: the client's sans-I/O sync, driven with byte literals, never a socket."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text

from crdt._varint import write_var_bytes
from crdt.awareness import AwarenessEntry, decode_awareness, encode_awareness
from crdt.document import EMPTY_UPDATE, Document
from crdt.errors import ProtocolError
from crdt.protocol import (
    AwarenessMessage,
    Message,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    encode,
)
from crdt.session import (
    AwarenessChanged,
    ClientSession,
    PermissionDenied,
    SavedUpTo,
    ServerEvent,
    Synced,
    SyncState,
)
from tests.crdt.strategies import hostile_messages

STEP1_EMPTY = b"\x00\x00\x01\x00"
STEP2_EMPTY = b"\x00\x01\x02\x00\x00"
# yjs: client 1 inserted "hi" into the root text "text".
UPDATE_HI = bytes.fromhex("010101000401047465787402686900")
STEP2_HI = b"\x00\x01\x0f" + UPDATE_HI
UPDATE_MESSAGE_HI = b"\x00\x02\x0f" + UPDATE_HI
# y-protocols: client 2 announces {"user":{"name":"Ana"}} at clock 1, then leaves at clock 2.
ANA = bytes.fromhex("011b010201177b2275736572223a7b226e616d65223a22416e61227d7d")
ANA_LEFT = bytes.fromhex("0108010202046e756c6c")


def text(doc: Doc[Any]) -> Text:
    shared: Text = doc.get("text", type=Text)
    return shared


def new_session(client_id: int = 9, *, synced: bool = False) -> ClientSession:
    session = ClientSession(Doc(client_id=client_id))
    if synced:
        session.connection_made()
        session.receive(STEP1_EMPTY)
        session.receive(STEP2_EMPTY)
        session.data_to_send()
        session.events()
    return session


def state(session: ClientSession) -> SyncState:
    return session.state


def decoded(frames: list[bytes]) -> list[Message]:
    return [decode(frame) for frame in frames]


class TestHandshake:
    def test_connection_made_sends_step1(self) -> None:
        session = new_session()
        assert state(session) is SyncState.OFFLINE
        session.connection_made()
        assert state(session) is SyncState.SYNCING
        assert session.data_to_send() == [STEP1_EMPTY]
        assert session.data_to_send() == []

    def test_step1_of_a_document_with_content(self) -> None:
        session = ClientSession(Doc(client_id=1))
        text(session.doc).insert(0, "hi")
        session.connection_made()
        assert session.data_to_send() == [b"\x00\x00\x03\x01\x01\x02"]

    def test_server_step1_is_answered_with_step2(self) -> None:
        session = new_session()
        session.connection_made()
        session.data_to_send()
        session.receive(STEP1_EMPTY)
        assert session.data_to_send() == [STEP2_EMPTY]
        assert state(session) is SyncState.SYNCING

    def test_synced_after_both_steps_in_either_order(self) -> None:
        for order in ([STEP1_EMPTY, STEP2_HI], [STEP2_HI, STEP1_EMPTY]):
            session = new_session()
            session.connection_made()
            session.receive(order[0])
            assert state(session) is SyncState.SYNCING
            assert Synced() not in session.events()
            session.receive(order[1])
            assert state(session) is SyncState.SYNCED
            assert [e for e in session.events() if isinstance(e, Synced)] == [Synced()]
            assert str(text(session.doc)) == "hi"

    def test_synced_is_reported_once_per_connection(self) -> None:
        session = new_session(synced=True)
        session.receive(STEP1_EMPTY)
        session.receive(STEP2_EMPTY)
        assert Synced() not in session.events()
        session.connection_lost()
        session.connection_made()
        session.receive(STEP1_EMPTY)
        session.receive(STEP2_EMPTY)
        assert Synced() in session.events()

    def test_lifecycle_errors(self) -> None:
        session = new_session()
        with pytest.raises(RuntimeError, match="not connected"):
            session.receive(STEP1_EMPTY)
        session.connection_made()
        with pytest.raises(RuntimeError, match="already connected"):
            session.connection_made()
        session.connection_lost()
        assert session.data_to_send() == []
        session.close()
        with pytest.raises(RuntimeError, match="closed"):
            session.connection_made()


class TestDocumentSync:
    def test_remote_update_is_applied_and_not_echoed(self) -> None:
        session = new_session(synced=True)
        session.receive(UPDATE_MESSAGE_HI)
        assert str(text(session.doc)) == "hi"
        assert session.data_to_send() == []

    def test_remote_updates_carry_the_session_origin(self) -> None:
        session = new_session(synced=True)
        origins = []
        shared = text(session.doc)
        subscription = shared.observe(lambda event: origins.append(event.transaction.origin))
        session.receive(UPDATE_MESSAGE_HI)
        shared.insert(0, "local ")
        shared.unobserve(subscription)
        assert origins == [session.origin, None]

    def test_local_edits_are_sent_merged_as_one_update(self) -> None:
        session = new_session(1, synced=True)
        for char in "hi":
            text(session.doc).insert(len(text(session.doc)), char)
        frames = session.data_to_send()
        assert len(frames) == 1
        assert decoded(frames) == [SyncUpdate(UPDATE_HI)] or _applies_to(frames, "hi")
        assert session.data_to_send() == []

    def test_many_pending_edits_stay_bounded(self) -> None:
        session = ClientSession(Doc(client_id=1), max_pending=4)
        session.connection_made()
        session.receive(STEP1_EMPTY)
        session.data_to_send()
        for i in range(50):
            text(session.doc).insert(i, "x")
        assert len(session._connection.pending) <= 5  # type: ignore[union-attr]
        assert _applies_to(session.data_to_send(), "x" * 50)

    def test_offline_edits_travel_in_the_next_step2(self) -> None:
        server = Document([UPDATE_HI])
        session = new_session(5, synced=True)
        session.connection_lost()
        text(session.doc).insert(0, "offline ")
        assert session.data_to_send() == []
        session.connection_made()
        step1 = encode(SyncStep1(session.doc.get_state()))
        text(session.doc).insert(len(text(session.doc)), "!")
        assert session.data_to_send() == [step1]
        session.receive(encode(SyncStep1(server.state_vector())))
        (step2,) = decoded(session.data_to_send())
        assert isinstance(step2, SyncStep2)
        server.apply_update(step2.update)
        session.receive(encode(SyncStep2(server.diff(session.doc.get_state()))))
        assert str(server.ydoc.get("text", type=Text)) == str(text(session.doc))
        assert "offline" in str(text(session.doc)) and "hi" in str(text(session.doc))

    def test_invalid_update_raises_protocol_error_and_changes_nothing(self) -> None:
        session = new_session(synced=True)
        session.receive(UPDATE_MESSAGE_HI)
        for bad in (b"\x00\x02\x01\x01", b"\x00\x01\x03\x01\x01\x01"):
            with pytest.raises(ProtocolError):
                session.receive(bad)
        assert str(text(session.doc)) == "hi"

    def test_update_that_makes_yrs_panic_is_a_protocol_error(self) -> None:
        session = new_session(synced=True)
        session.receive(UPDATE_MESSAGE_HI)
        hostile = bytes.fromhex("018080800001cc9402000401047465787406c39df2a3a09000")
        with pytest.raises(ProtocolError):
            session.receive(encode(SyncUpdate(hostile)))

    def test_invalid_state_vector_in_step1(self) -> None:
        session = new_session()
        session.connection_made()
        with pytest.raises(ProtocolError):
            session.receive(b"\x00\x00\x02\x05\x01")

    def test_remote_update_inside_an_open_local_transaction(self) -> None:
        session = new_session(synced=True)
        with session.doc.transaction():
            text(session.doc).insert(0, "a")
            session.receive(UPDATE_MESSAGE_HI)
        assert sorted(str(text(session.doc))) == sorted("ahi")
        assert _applies_to(session.data_to_send(), str(text(session.doc)))


def _applies_to(frames: list[bytes], expected: str) -> bool:
    replica = Document()
    for message in decoded(frames):
        assert isinstance(message, SyncUpdate | SyncStep2)
        replica.apply_update(message.update)
    return str(replica.ydoc.get("text", type=Text)) == expected


class TestServerMessages:
    def test_saved_acks_merge_and_cover_local_clocks(self) -> None:
        session = new_session(1, synced=True)
        text(session.doc).insert(0, "hi")
        wanted = session.local_clocks()
        assert wanted == {1: 2}
        assert not session.is_saved(wanted)
        session.receive(b"\x64" + write_var_bytes(b"\x02\x01\x01\x07\x04"))
        assert session.events() == [SavedUpTo({1: 1, 7: 4})]
        assert not session.is_saved(wanted)
        session.receive(b"\x64" + write_var_bytes(b"\x01\x01\x02"))
        session.receive(b"\x64" + write_var_bytes(b"\x01\x01\x01"))  # older, out of order
        assert session.is_saved(wanted)

    def test_server_step1_acknowledges_like_saved(self) -> None:
        """A GESS server's step 1 holds only committed state: an edit whose Saved was lost
        with the connection is known saved once the server's next step 1 covers it."""
        session = new_session(1, synced=True)
        text(session.doc).insert(0, "hi")
        wanted = session.local_clocks()
        session.connection_lost()
        session.connection_made()
        session.receive(b"\x00\x00\x03\x01\x01\x02")
        assert session.is_saved(wanted)
        assert SavedUpTo({1: 2}) in session.events()

    def test_local_clocks_count_the_initial_content_not_remote_clients(self) -> None:
        doc: Doc[Any] = Doc(client_id=3)
        doc.apply_update(UPDATE_HI)  # content the caller brought along (client 1)
        session = ClientSession(doc)
        session.connection_made()
        session.receive(encode(SyncUpdate(Document([_edit(8, "remote")]).full_state())))
        assert session.local_clocks() == {1: 2}

    def test_malformed_saved(self) -> None:
        session = new_session(synced=True)
        with pytest.raises(ProtocolError):
            session.receive(b"\x64\x02\x05\x01")

    def test_auth_is_recorded(self) -> None:
        session = new_session(synced=True)
        session.receive(bytes.fromhex("020009726561642d6f6e6c79"))
        assert session.permission_denied == "read-only"
        assert session.events() == [PermissionDenied("read-only")]

    def test_server_event(self) -> None:
        session = new_session(synced=True)
        session.receive(b"\x65\x12" + b'{"type":"comment"}')
        assert session.events() == [ServerEvent({"type": "comment"})]

    def test_unknown_message_types_are_ignored(self) -> None:
        session = new_session(synced=True)
        for frame in (b"\x04", b"\x07\x01\x02", b"\xe6\x07\x00"):
            session.receive(frame)
        assert session.events() == [] and session.data_to_send() == []

    def test_malformed_known_messages_raise(self) -> None:
        session = new_session(synced=True)
        for frame in (b"", b"\x80", b"\x00", b"\x00\x09\x00", b"\x03\x00", b"\x01\x05\x00"):
            with pytest.raises(ProtocolError):
                session.receive(frame)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(hostile_messages, max_size=4))
    def test_receive_is_total(self, frames: list[bytes]) -> None:
        session = new_session(synced=True)
        for frame in frames:
            try:
                session.receive(frame)
            except ProtocolError:
                pass
        session.data_to_send()


def _edit(client_id: int, value: str) -> bytes:
    doc: Doc[Any] = Doc(client_id=client_id)
    text(doc).insert(0, value)
    return doc.get_update()


class TestAwareness:
    def test_local_state_bytes_match_y_protocols(self) -> None:
        session = new_session(1, synced=True)
        session.set_local_state({"user": {"name": "Ana"}})
        expected = bytes.fromhex("011b010101177b2275736572223a7b226e616d65223a22416e61227d7d")
        assert session.data_to_send() == [expected]
        assert session.events() == [AwarenessChanged(added=(1,))]

    def test_state_is_sent_on_connect_and_changes_merge(self) -> None:
        session = new_session(1)
        session.set_local_state({"n": 1})
        session.set_local_state({"n": 2})
        session.connection_made()
        frames = decoded(session.data_to_send())
        assert frames[0] == SyncStep1(b"\x00")
        assert isinstance(frames[1], AwarenessMessage)
        assert decode_awareness(frames[1].payload) == [AwarenessEntry(1, 2, {"n": 2})]

    def test_offline_changes_are_not_queued(self) -> None:
        session = new_session(1)
        session.set_local_state({"n": 1})
        assert session.data_to_send() == []

    def test_field_copy_and_invalid_state(self) -> None:
        session = new_session(1)
        state: dict[str, object] = {"cursor": [1, 2]}
        session.set_local_state(state)
        state["cursor"] = "mutated"
        assert session.local_state == {"cursor": [1, 2]}
        with pytest.raises(TypeError):
            session.set_local_state({"bad": object()})
        assert session.local_state == {"cursor": [1, 2]}

    def test_remote_states_added_updated_removed(self) -> None:
        session = new_session(1, synced=True)
        session.set_local_state({"me": True})
        session.data_to_send()
        session.events()
        session.receive(ANA)
        assert session.events() == [AwarenessChanged(added=(2,))]
        assert session.awareness_states() == {1: {"me": True}, 2: {"user": {"name": "Ana"}}}
        update = encode_awareness([AwarenessEntry(2, 2, {"user": {"name": "Ana B"}})])
        session.receive(encode(AwarenessMessage(update)))
        assert session.events() == [AwarenessChanged(updated=(2,))]
        stale = encode_awareness([AwarenessEntry(2, 1, {"user": "old"})])
        session.receive(encode(AwarenessMessage(stale)))
        assert session.events() == []
        session.receive(encode(AwarenessMessage(encode_awareness([AwarenessEntry(2, 2, None)]))))
        assert session.events() == [AwarenessChanged(removed=(2,))]
        assert session.awareness_states() == {1: {"me": True}}
        assert session.data_to_send() == []

    def test_known_leave_bytes(self) -> None:
        session = new_session(1, synced=True)
        session.receive(ANA)
        session.receive(ANA_LEFT)
        assert session.awareness_states() == {}

    def test_query_awareness_answers_with_our_state(self) -> None:
        session = new_session(1, synced=True)
        session.receive(b"\x03")
        assert session.data_to_send() == []
        session.set_local_state({"a": 1})
        session.data_to_send()
        session.receive(b"\x03")
        (message,) = decoded(session.data_to_send())
        assert isinstance(message, AwarenessMessage)
        assert decode_awareness(message.payload) == [AwarenessEntry(1, 1, {"a": 1})]

    def test_removal_of_our_own_state_is_outbid(self) -> None:
        session = new_session(1, synced=True)
        session.set_local_state({"a": 1})
        session.data_to_send()
        session.receive(_leave(1, 1))
        (message,) = decoded(session.data_to_send())
        assert isinstance(message, AwarenessMessage)
        assert decode_awareness(message.payload) == [AwarenessEntry(1, 2, {"a": 1})]
        assert session.awareness_states() == {1: {"a": 1}}

    def test_echo_of_our_own_state_is_ignored(self) -> None:
        session = new_session(1, synced=True)
        session.set_local_state({"a": 1})
        session.data_to_send()
        session.receive(
            encode(AwarenessMessage(encode_awareness([AwarenessEntry(1, 1, {"a": 1})])))
        )
        assert session.data_to_send() == []

    def test_renew_and_leave(self) -> None:
        session = new_session(1, synced=True)
        session.renew_awareness()
        assert session.data_to_send() == []
        session.set_local_state({"a": 1})
        session.renew_awareness()
        (message,) = decoded(session.data_to_send())
        assert isinstance(message, AwarenessMessage)
        assert decode_awareness(message.payload) == [AwarenessEntry(1, 2, {"a": 1})]
        session.events()
        session.set_local_state(None)
        (message,) = decoded(session.data_to_send())
        assert isinstance(message, AwarenessMessage)
        assert decode_awareness(message.payload) == [AwarenessEntry(1, 3, None)]
        assert session.events() == [AwarenessChanged(removed=(1,))]

    def test_connection_lost_forgets_remote_states(self) -> None:
        session = new_session(1, synced=True)
        session.set_local_state({"a": 1})
        session.receive(ANA)
        session.events()
        session.connection_lost()
        assert session.events() == [AwarenessChanged(removed=(2,))]
        assert session.awareness_states() == {1: {"a": 1}}


def _leave(client_id: int, clock: int) -> bytes:
    return encode(AwarenessMessage(encode_awareness([AwarenessEntry(client_id, clock, None)])))


class TestTwoClientsThroughAReplica:
    """A minimal in-memory relay stands in for the server: two sessions converge."""

    def test_concurrent_edits_converge(self) -> None:
        server = Document()
        clients = [new_session(1), new_session(2)]

        def pump() -> None:
            moved = True
            while moved:
                moved = False
                for index, client in enumerate(clients):
                    for frame in client.data_to_send():
                        moved = True
                        message = decode(frame)
                        if isinstance(message, SyncStep1):
                            client.receive(encode(SyncStep2(server.diff(message.state_vector))))
                        elif isinstance(message, SyncStep2 | SyncUpdate):
                            before = server.state_vector()
                            server.apply_update(message.update)
                            diff = server.diff(before)
                            if diff != EMPTY_UPDATE:
                                for other in clients[:index] + clients[index + 1 :]:
                                    if other.state is not SyncState.OFFLINE:
                                        other.receive(encode(SyncUpdate(diff)))

        for client in clients:
            client.connection_made()
            client.receive(encode(SyncStep1(server.state_vector())))
        pump()
        text(clients[0].doc).insert(0, "alpha ")
        text(clients[1].doc).insert(0, "beta ")
        pump()
        clients[1].connection_lost()
        text(clients[1].doc).insert(0, "offline ")
        text(clients[0].doc).insert(0, "online ")
        pump()
        clients[1].connection_made()
        clients[1].receive(encode(SyncStep1(server.state_vector())))
        pump()
        texts = {str(text(c.doc)) for c in clients} | {str(server.ydoc.get("text", type=Text))}
        assert len(texts) == 1
        (final,) = texts
        for word in ("alpha", "beta", "offline", "online"):
            assert word in final
