"""A connection's send path: direct sends, the queue behind a full channel, merging, 4429."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Text

from crdt import AwarenessMessage, SyncUpdate, decode, encode
from server.channel import CloseCode, MemoryChannel, Outgoing
from server.connection import Connection, Principal, broadcast, broadcast_update
from server.metrics import Metrics

TIMEOUT = 5.0
READER = Principal(user_id=None, name="Reader", can_write=False)


def drain(channel: MemoryChannel) -> list[bytes]:
    received = []
    while not channel.sent.empty():
        received.append(channel.sent.get_nowait())
    return received


class Typist:
    """Makes one small text insert per call, like a keystroke."""

    def __init__(self) -> None:
        self.doc: Doc[Any] = Doc()
        self.text = self.doc.get("text", type=Text)

    def type(self, value: str) -> bytes:
        before = self.doc.get_state()
        self.text += value
        return self.doc.get_update(before)


def text_after(messages: list[bytes]) -> str:
    doc: Doc[Any] = Doc()
    for data in messages:
        message = decode(data)
        assert isinstance(message, SyncUpdate)
        doc.apply_update(message.update)
    return str(doc.get("text", type=Text))


async def test_a_send_to_an_idle_connection_is_written_at_once() -> None:
    channel = MemoryChannel()
    connection = Connection(channel, READER, Metrics())
    # No writer task runs: the message can only have gone out directly.
    connection.send(b"\x01\x00")
    assert drain(channel) == [b"\x01\x00"]
    assert connection.queued == 0


async def test_messages_behind_a_full_channel_keep_their_order() -> None:
    channel = MemoryChannel()
    connection = Connection(channel, READER, Metrics())
    awareness = [encode(AwarenessMessage(bytes([1, n, 0, 2, 123, 125]))) for n in range(1, 4)]
    channel.full = True
    for data in awareness:
        connection.send(data)
    assert connection.queued == len(awareness)
    assert channel.sent.empty()
    channel.full = False
    connection.writable()
    assert drain(channel) == awareness
    assert connection.queued == 0
    connection.close(CloseCode.NORMAL, "")
    assert channel.closed == (CloseCode.NORMAL, "")


async def test_queued_updates_are_merged_into_one_message_with_the_same_content() -> None:
    channel = MemoryChannel()
    connection = Connection(channel, READER, Metrics())
    typist = Typist()
    updates = [typist.type(char) for char in "hello world"]
    messages = [encode(SyncUpdate(update)) for update in updates]
    connection.send_update(updates[0])
    channel.full = True
    for update in updates[1:]:
        connection.send_update(update)
    channel.full = False
    connection.writable()
    first, second = drain(channel)
    # The first went out as it was; everything queued behind the full channel as one update.
    assert first == messages[0]
    assert second not in messages
    assert text_after([first, second]) == "hello world" == str(typist.text)


async def test_only_runs_of_updates_merge_and_other_messages_keep_their_place() -> None:
    channel = MemoryChannel()
    connection = Connection(channel, READER, Metrics())
    typist = Typist()
    presence = encode(AwarenessMessage(bytes([1, 1, 0, 2, 123, 125])))
    channel.full = True
    connection.send(presence)
    connection.send_update(typist.type("a"))
    connection.send_update(typist.type("b"))
    connection.send(presence)
    # Already encoded by the caller: sent as it is, never taken apart to be merged.
    connection.send(encode(SyncUpdate(typist.type("c"))))
    connection.send_update(typist.type("d"))
    channel.full = False
    connection.writable()
    received = drain(channel)
    assert len(received) == 5
    assert received[0] == received[2] == presence
    assert text_after([received[1]]) == "ab"
    assert text_after([received[1], received[3], received[4]]) == "abcd"


async def test_a_channel_that_fills_again_while_draining_keeps_the_rest_queued() -> None:
    class TakesOne(MemoryChannel):
        """Takes one message per drain, like a socket that fills again at once."""

        def __init__(self) -> None:
            super().__init__()
            self.room = 0

        def write(self, message: Outgoing) -> bool:
            if self.room == 0:
                return False
            self.room -= 1
            return super().write(message)

    channel = TakesOne()
    connection = Connection(channel, READER, Metrics())
    awareness = [encode(AwarenessMessage(bytes([1, n, 0, 2, 123, 125]))) for n in range(1, 4)]
    for data in awareness:
        connection.send(data)
    connection.close(CloseCode.NORMAL, "")  # after what is queued
    received = []
    for _ in awareness:
        assert channel.closed is None
        channel.room = 1
        connection.writable()
        received += drain(channel)
    assert received == awareness
    assert channel.closed == (CloseCode.NORMAL, "")


async def test_a_reader_that_falls_too_far_behind_is_closed_with_4429() -> None:
    channel = MemoryChannel()
    metrics = Metrics()
    connection = Connection(channel, READER, metrics, queue_limit=4)
    typist = Typist()
    broadcast_update([connection], typist.type("a"), metrics)
    channel.full = True
    for char in "bcdefgh":
        broadcast_update([connection], typist.type(char), metrics)
    assert connection.closing
    # Closed at once: what was queued is dropped, the client resyncs when it reconnects.
    assert connection.queued == 0
    assert channel.closed is not None
    assert channel.closed[0] == CloseCode.TOO_SLOW
    assert "reconnect to resync" in channel.closed[1]
    assert metrics.disconnects.labels("too_slow").value == 1
    # 1 sent before the channel filled, 4 queued, the 6th overflowed: 5 counted.
    assert metrics.messages_sent.value == 5


async def test_a_broadcast_reaches_every_connection_once_and_is_counted_once() -> None:
    metrics = Metrics()
    channels = [MemoryChannel() for _ in range(3)]
    connections = [Connection(channel, READER, metrics) for channel in channels]
    data = encode(SyncUpdate(Typist().type("x")))
    broadcast(connections, data, metrics)
    assert [drain(channel) for channel in channels] == [[data]] * 3
    assert metrics.messages_sent.value == 3
    assert metrics.bytes_sent.value == 3 * len(data)


async def test_a_broadcast_is_framed_once_for_every_reader() -> None:
    frames: list[bytes] = []

    class Framing(MemoryChannel):
        def write(self, message: Outgoing) -> bool:
            frames.append(message.frame)
            return super().write(message)

    metrics = Metrics()
    connections = [Connection(Framing(), READER, metrics) for _ in range(3)]
    update = Typist().type("x")
    broadcast_update(connections, update, metrics)
    assert len(frames) == 3
    assert frames[0] is frames[1] is frames[2]
    data = encode(SyncUpdate(update))
    # An unmasked, final binary frame with a one-byte length.
    assert frames[0] == bytes([0x82, len(data)]) + data


async def test_a_send_to_a_client_that_went_away_closes_the_connection_quietly() -> None:
    channel = MemoryChannel()
    metrics = Metrics()
    connection = Connection(channel, READER, metrics)
    channel.close(CloseCode.NORMAL, "")  # the client's side is gone
    connection.send(b"\x01\x00")
    assert connection.closing
    assert metrics.messages_sent.value == 0
    assert metrics.disconnects.labels("normal").value == 0
