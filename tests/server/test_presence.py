"""Presence in-process: the size limit per connection, the rate with the latest kept, and
client ids reserved for their account after their connection left."""

from __future__ import annotations

import asyncio
import time

import pytest

from crdt import AwarenessEntry, ProtocolError
from server.channel import CloseCode, MemoryChannel
from server.connection import Connection, Principal
from server.metrics import Metrics
from server.presence import (
    CLAIM_SECONDS,
    MAX_AWARENESS_IDS,
    Presence,
    PresenceClaims,
    PresenceLimits,
)

ALICE = Principal(user_id="alice", name="Alice", can_write=True)
MALLORY = Principal(user_id="mallory", name="Mallory", can_write=False)
TIMEOUT = 5.0


def connect(principal: Principal = ALICE) -> tuple[Connection, MemoryChannel]:
    channel = MemoryChannel()
    return Connection(channel, principal, Metrics()), channel


def state(size: int) -> dict[str, object]:
    """A state whose JSON is exactly ``size`` bytes."""
    return {"b": "x" * (size - len('{"b":""}'))}


async def test_states_up_to_the_limit_pass_and_beyond_close_with_4413():
    presence = Presence("doc", PresenceLimits(max_bytes=1000, updates_per_second=0))
    connection, channel = connect(MALLORY)
    assert presence.local(connection, [AwarenessEntry(1, 1, state(600))])
    assert presence.local(connection, [AwarenessEntry(2, 1, state(400))])
    # A removal frees its share; a replacement counts at its new size.
    assert presence.local(connection, [AwarenessEntry(2, 2, None)])
    assert presence.local(connection, [AwarenessEntry(1, 2, state(1000))])
    assert not presence.local(connection, [AwarenessEntry(2, 3, state(8))])
    await asyncio.wait_for(channel.closed_event.wait(), TIMEOUT)
    assert channel.closed is not None
    code, reason = channel.closed
    assert code == CloseCode.TOO_LARGE and "1008 bytes" in reason
    assert [entry.client_id for entry in presence.states()] == [1]


async def test_updates_beyond_the_rate_are_held_and_the_latest_is_shared():
    shared: list[list[AwarenessEntry]] = []
    arrived = asyncio.Event()

    def share(changed: list[AwarenessEntry], sender: Connection | None) -> None:
        shared.append(changed)
        arrived.set()

    presence = Presence("doc", PresenceLimits(updates_per_second=20), share=share)
    connection, _ = connect()
    applied = [
        presence.local(connection, [AwarenessEntry(5, clock, {"c": clock})])
        for clock in range(1, 101)
    ]
    assert sum(1 for changed in applied if changed) == 40  # two seconds' worth, then held
    await asyncio.wait_for(arrived.wait(), TIMEOUT)
    assert [(entry.client_id, entry.clock) for entry in shared[0]] == [(5, 100)]
    assert [entry.state["c"] for entry in presence.states() if entry.state] == [100]


async def test_leaving_drops_what_is_held():
    shared: list[AwarenessEntry] = []
    later = asyncio.Event()

    def share(changed: list[AwarenessEntry], sender: Connection | None) -> None:
        shared.extend(changed)
        later.set()

    presence = Presence("doc", PresenceLimits(updates_per_second=50), share=share)
    gone, _ = connect()
    stays, _ = connect()
    for clock in range(1, 102):  # the burst of 100, then one held
        presence.local(gone, [AwarenessEntry(5, clock, {"c": clock})])
    presence.leave(gone)
    for clock in range(1, 103):  # held after the other's, released after it would have been
        presence.local(stays, [AwarenessEntry(6, clock, {"c": clock})])
    await asyncio.wait_for(later.wait(), TIMEOUT)
    assert [entry.client_id for entry in shared] == [6]


def test_a_left_connections_id_is_kept_for_its_account():
    claims = PresenceClaims()
    presence = Presence("doc", claims=claims)
    alice, _ = connect(ALICE)
    assert presence.local(alice, [AwarenessEntry(9, 1, {"me": "alice"})])
    presence.leave(alice)
    mallory, _ = connect(MALLORY)
    assert presence.local(mallory, [AwarenessEntry(9, 2, {"me": "mallory"})]) == []
    # The room may unload: the node's claims outlive it.
    again = Presence("doc", claims=claims)
    assert again.local(mallory, [AwarenessEntry(9, 2, {"me": "mallory"})]) == []
    back, _ = connect(ALICE)
    assert again.local(back, [AwarenessEntry(9, 3, {"me": "alice"})])


def test_claims_end_after_a_while_and_are_per_document():
    claims = PresenceClaims()
    claims.reserve("doc", 9, "alice", now=100.0)
    assert not claims.allows("doc", 9, "mallory", now=100.0 + CLAIM_SECONDS - 1)
    assert claims.allows("doc", 9, "alice", now=101.0)
    assert claims.allows("other", 9, "mallory", now=101.0)
    assert claims.allows("doc", 9, "mallory", now=100.0 + CLAIM_SECONDS)


def test_presence_from_another_node_is_reserved_for_its_account_when_it_expires():
    claims = PresenceClaims()
    presence = Presence("doc", claims=claims)
    relayed = AwarenessEntry(9, 1, {"user": {"id": "alice", "name": "Alice"}})
    now = time.monotonic()  # what rooms pass
    assert presence.remote([relayed], now=now - 60)
    assert presence.expire(now=now, timeout=30.0)
    mallory, _ = connect(MALLORY)
    assert presence.local(mallory, [AwarenessEntry(9, 2, {"me": "mallory"})]) == []


def test_a_connection_may_announce_a_bounded_number_of_ids():
    presence = Presence("doc", PresenceLimits(updates_per_second=0))
    connection, _ = connect()
    for client_id in range(MAX_AWARENESS_IDS):
        presence.local(connection, [AwarenessEntry(client_id, 1, {})])
    with pytest.raises(ProtocolError):
        presence.local(connection, [AwarenessEntry(1000, 1, {})])


async def test_ids_of_held_updates_count_against_the_bound():
    presence = Presence("doc", PresenceLimits(updates_per_second=1))
    connection, _ = connect()
    presence.local(connection, [AwarenessEntry(0, 1, {})])
    presence.local(connection, [AwarenessEntry(0, 2, {})])  # the burst is spent: held from here
    removals = [AwarenessEntry(client_id, 1, None) for client_id in range(1, MAX_AWARENESS_IDS)]
    assert presence.local(connection, removals) == []
    with pytest.raises(ProtocolError):
        presence.local(connection, [AwarenessEntry(MAX_AWARENESS_IDS, 1, None)])
