"""A connection's send path: direct sends, the queue behind a blocked send, merging, 4429."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from pycrdt import Doc, Text

from crdt import AwarenessMessage, SyncUpdate, decode, encode
from server.channel import CloseCode, MemoryChannel, Outgoing
from server.connection import Connection, Principal, broadcast, broadcast_update
from server.metrics import Metrics

TIMEOUT = 5.0
READER = Principal(user_id=None, name="Reader", can_write=False)


class GatedChannel(MemoryChannel):
    """A channel whose sends wait while the gate is shut, like a socket with a full buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.suspended = 0

    async def send(self, message: Outgoing) -> None:
        if not self.gate.is_set():
            self.suspended += 1
            await self.gate.wait()
        await super().send(message)


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


async def test_messages_behind_a_blocked_send_keep_their_order() -> None:
    channel = GatedChannel()
    connection = Connection(channel, READER, Metrics())
    awareness = [encode(AwarenessMessage(bytes([1, n, 0, 2, 123, 125]))) for n in range(1, 4)]
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(connection.run_writer())
        channel.gate.clear()
        for data in awareness:
            connection.send(data)
        assert channel.suspended == 1
        assert connection.queued == len(awareness) - 1
        assert channel.sent.empty()
        channel.gate.set()
        received = [await asyncio.wait_for(channel.sent.get(), TIMEOUT) for _ in awareness]
        connection.close(CloseCode.NORMAL, "")
    assert received == awareness
    assert channel.closed == (CloseCode.NORMAL, "")


async def test_queued_updates_are_merged_into_one_message_with_the_same_content() -> None:
    channel = GatedChannel()
    connection = Connection(channel, READER, Metrics())
    typist = Typist()
    updates = [typist.type(char) for char in "hello world"]
    messages = [encode(SyncUpdate(update)) for update in updates]
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(connection.run_writer())
        channel.gate.clear()
        for update in updates:
            connection.send_update(update)
        channel.gate.set()
        first = await asyncio.wait_for(channel.sent.get(), TIMEOUT)
        second = await asyncio.wait_for(channel.sent.get(), TIMEOUT)
        connection.close(CloseCode.NORMAL, "")
    # The blocked send went out as it was; everything queued behind it as one update.
    assert first == messages[0]
    assert drain(channel) == []
    assert text_after([first, second]) == "hello world" == str(typist.text)


async def test_only_runs_of_updates_merge_and_other_messages_keep_their_place() -> None:
    channel = GatedChannel()
    connection = Connection(channel, READER, Metrics())
    typist = Typist()
    presence = encode(AwarenessMessage(bytes([1, 1, 0, 2, 123, 125])))
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(connection.run_writer())
        channel.gate.clear()
        connection.send(presence)  # the send that blocks
        connection.send_update(typist.type("a"))
        connection.send_update(typist.type("b"))
        connection.send(presence)
        # Already encoded by the caller: sent as it is, never taken apart to be merged.
        connection.send(encode(SyncUpdate(typist.type("c"))))
        connection.send_update(typist.type("d"))
        channel.gate.set()
        received = [await asyncio.wait_for(channel.sent.get(), TIMEOUT) for _ in range(5)]
        connection.close(CloseCode.NORMAL, "")
    assert received[0] == received[2] == presence
    assert [text_after([data]) for data in received[1:2]] == ["ab"]
    assert text_after([received[1], received[3], received[4]]) == "abcd"
    assert drain(channel) == []


async def test_a_reader_that_falls_too_far_behind_is_closed_with_4429() -> None:
    channel = GatedChannel()
    metrics = Metrics()
    connection = Connection(channel, READER, metrics, queue_limit=4)
    typist = Typist()
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(connection.run_writer())
        channel.gate.clear()
        for char in "abcdefgh":
            broadcast_update([connection], typist.type(char), metrics)
        assert connection.closing
        channel.gate.set()
        await asyncio.wait_for(channel.closed_event.wait(), TIMEOUT)
    assert channel.closed is not None
    assert channel.closed[0] == CloseCode.TOO_SLOW
    assert "reconnect to resync" in channel.closed[1]
    assert metrics.disconnects.labels("too_slow").value == 1
    # 1 sent before the gate shut blocked it, 4 queued, the 6th overflowed: 5 counted.
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


async def test_a_send_to_a_client_that_went_away_closes_the_connection_quietly() -> None:
    channel = MemoryChannel()
    metrics = Metrics()
    connection = Connection(channel, READER, metrics)
    await channel.close(CloseCode.NORMAL, "")  # the client's side is gone
    connection.send(b"\x01\x00")
    assert connection.closing
    assert metrics.messages_sent.value == 0
    await asyncio.wait_for(connection.run_writer(), TIMEOUT)


@pytest.mark.parametrize("cancel", [False, True])
async def test_a_send_that_suspended_is_finished_or_cancelled_by_the_writer(cancel: bool) -> None:
    channel = GatedChannel()
    connection = Connection(channel, READER, Metrics())
    channel.gate.clear()
    connection.send(b"\x01\x00")
    assert channel.suspended == 1
    writer = asyncio.create_task(connection.run_writer())
    await asyncio.sleep(0)
    if cancel:
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writer
        assert channel.sent.empty()
        return
    channel.gate.set()
    assert await asyncio.wait_for(channel.sent.get(), TIMEOUT) == b"\x01\x00"
    connection.close(CloseCode.NORMAL, "")
    await asyncio.wait_for(writer, TIMEOUT)


async def test_with_spawn_a_writer_task_runs_only_while_the_client_is_behind() -> None:
    channel = GatedChannel()
    started: list[asyncio.Task[None]] = []
    async with asyncio.TaskGroup() as tasks:

        def spawn(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
            task = tasks.create_task(coroutine)
            started.append(task)
            return task

        connection = Connection(channel, READER, Metrics(), spawn=spawn)
        connection.send(b"\x01\x00")
        assert started == []
        channel.gate.clear()
        connection.send(b"\x01\x01")
        connection.send(b"\x01\x02")
        assert len(started) == 1
        channel.gate.set()
        await asyncio.wait_for(started[0], TIMEOUT)
        assert drain(channel) == [b"\x01\x00", b"\x01\x01", b"\x01\x02"]
        connection.send(b"\x01\x03")
        assert len(started) == 1
        assert drain(channel) == [b"\x01\x03"]
        connection.close(CloseCode.NORMAL, "")
        assert len(started) == 2
    assert channel.closed == (CloseCode.NORMAL, "")
