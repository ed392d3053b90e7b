"""crdt.awareness: the encoding y-protocols uses, hostile input, and the Yjs rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crdt.awareness import (
    MAX_ENTRIES,
    AwarenessEntry,
    AwarenessRegistry,
    decode_awareness,
    encode_awareness,
)
from crdt.errors import ProtocolError
from tests.crdt.strategies import awareness_entries, hostile_awareness

# y-protocols encodeAwarenessUpdate for client 1: {"user":{"name":"Ana"}} at clock 1, then
# setLocalState(null) at clock 2.
YJS_ANA = bytes.fromhex("010101177b2275736572223a7b226e616d65223a22416e61227d7d")
YJS_ANA_LEFT = bytes.fromhex("010102046e756c6c")


class TestEncoding:
    def test_known_bytes(self) -> None:
        ana = AwarenessEntry(1, 1, {"user": {"name": "Ana"}})
        assert decode_awareness(YJS_ANA) == [ana]
        assert encode_awareness([ana]) == YJS_ANA
        left = AwarenessEntry(1, 2, None)
        assert decode_awareness(YJS_ANA_LEFT) == [left]
        assert encode_awareness([left]) == YJS_ANA_LEFT

    def test_empty_update(self) -> None:
        assert encode_awareness([]) == b"\x00"
        assert decode_awareness(b"\x00") == []

    @given(st.lists(awareness_entries, max_size=5))
    def test_round_trip(self, entries: list[AwarenessEntry]) -> None:
        assert decode_awareness(encode_awareness(entries)) == entries

    @pytest.mark.parametrize(
        ("payload", "match"),
        [
            (b"", "truncated"),
            (b"\x01", "truncated"),
            (b"\x01\x01\x01", "truncated"),
            (b"\x01\x01\x01\x05null", "exceeds"),
            (b"\x01\x01\x01\x01[", "JSON"),
            (b"\x01\x01\x01\x02[]", "neither an object nor null"),
            (b"\x01\x01\x01\x01" + b"7", "neither an object nor null"),
            (b"\x00\x00", "unexpected bytes"),
            (b"\x01\x01\x01\x02\xff\xfe", "UTF-8"),
            (bytes([0x81, 0x08]), "more than"),
        ],
    )
    def test_malformed(self, payload: bytes, match: str) -> None:
        with pytest.raises(ProtocolError, match=match):
            decode_awareness(payload)

    def test_entry_limit(self) -> None:
        entry = AwarenessEntry(1, 1, None)
        assert len(decode_awareness(encode_awareness([entry] * MAX_ENTRIES))) == MAX_ENTRIES
        with pytest.raises(ProtocolError, match="more than"):
            decode_awareness(encode_awareness([entry] * (MAX_ENTRIES + 1)))

    @settings(max_examples=400, deadline=None)
    @given(hostile_awareness)
    def test_decode_is_total(self, payload: bytes) -> None:
        try:
            decode_awareness(payload)
        except ProtocolError:
            pass


def entry(client_id: int, clock: int, state: dict[str, object] | None) -> AwarenessEntry:
    return AwarenessEntry(client_id, clock, state)


class TestRegistry:
    def test_new_client_is_accepted(self) -> None:
        registry = AwarenessRegistry()
        assert registry.apply([entry(1, 0, {"a": 1})]) == [entry(1, 0, {"a": 1})]
        assert registry.states() == [entry(1, 0, {"a": 1})]
        assert len(registry) == 1

    def test_higher_clock_wins(self) -> None:
        registry = AwarenessRegistry()
        registry.apply([entry(1, 5, {"v": 5})])
        assert registry.apply([entry(1, 6, {"v": 6})]) == [entry(1, 6, {"v": 6})]
        assert registry.states() == [entry(1, 6, {"v": 6})]

    @pytest.mark.parametrize("clock", [4, 5])
    def test_lower_or_equal_clock_with_a_state_is_ignored(self, clock: int) -> None:
        registry = AwarenessRegistry()
        registry.apply([entry(1, 5, {"v": 5})])
        assert registry.apply([entry(1, clock, {"v": "old"})]) == []
        assert registry.states() == [entry(1, 5, {"v": 5})]

    def test_null_at_equal_clock_removes(self) -> None:
        registry = AwarenessRegistry()
        registry.apply([entry(1, 5, {"v": 5})])
        assert registry.apply([entry(1, 5, None)]) == [entry(1, 5, None)]
        assert registry.states() == []
        assert len(registry) == 0

    def test_null_at_lower_clock_is_ignored(self) -> None:
        registry = AwarenessRegistry()
        registry.apply([entry(1, 5, {"v": 5})])
        assert registry.apply([entry(1, 4, None)]) == []
        assert len(registry) == 1

    def test_removed_client_keeps_its_clock(self) -> None:
        registry = AwarenessRegistry()
        registry.apply([entry(1, 5, {"v": 5})])
        registry.apply([entry(1, 6, None)])
        # A stale state from before the removal must not bring the client back.
        assert registry.apply([entry(1, 5, {"v": 5})]) == []
        assert registry.apply([entry(1, 6, None)]) == []
        assert registry.apply([entry(1, 7, {"v": 7})]) == [entry(1, 7, {"v": 7})]

    def test_remove_yields_null_entries_with_the_held_clock(self) -> None:
        registry = AwarenessRegistry()
        registry.apply([entry(1, 3, {"a": 1}), entry(2, 9, {"b": 2}), entry(3, 1, None)])
        removed = registry.remove([1, 2, 3, 4])
        assert removed == [entry(1, 3, None), entry(2, 9, None)]
        assert registry.states() == []
        # Forgotten entirely: a later state at any clock is new again.
        assert registry.apply([entry(1, 0, {"a": 2})]) == [entry(1, 0, {"a": 2})]

    def test_states_lists_only_present_clients(self) -> None:
        registry = AwarenessRegistry()
        registry.apply([entry(1, 1, {"a": 1}), entry(2, 1, None), entry(3, 1, {"c": 3})])
        assert sorted(e.client_id for e in registry.states()) == [1, 3]
        assert len(registry) == 2

    def test_one_update_with_several_entries_for_one_client(self) -> None:
        registry = AwarenessRegistry()
        accepted = registry.apply([entry(1, 1, {"v": 1}), entry(1, 3, {"v": 3}), entry(1, 2, {})])
        assert accepted == [entry(1, 1, {"v": 1}), entry(1, 3, {"v": 3})]
        assert registry.states() == [entry(1, 3, {"v": 3})]

    @given(st.lists(awareness_entries, max_size=30))
    def test_order_independent_outcome_per_client(self, entries: list[AwarenessEntry]) -> None:
        """Whatever the order, each client ends at its highest clock (null wins ties)."""
        forward, backward = AwarenessRegistry(), AwarenessRegistry()
        forward.apply(entries)
        backward.apply(reversed(entries))
        best: dict[int, AwarenessEntry] = {}
        for e in entries:
            held = best.get(e.client_id)
            if held is None or e.clock > held.clock or (e.clock == held.clock and e.state is None):
                best[e.client_id] = e
        present = {cid: e for cid, e in best.items() if e.state is not None}
        for registry in (forward, backward):
            got = {e.client_id: e for e in registry.states()}
            assert got.keys() == present.keys()
            for cid, e in got.items():
                assert e.clock == present[cid].clock
