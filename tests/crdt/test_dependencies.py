"""What an update needs and adds: byte-level updates made by pycrdt, and hostile ones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map, Text

from crdt import ProtocolError, decode_state_vector
from crdt._yupdate import GC, ID, Struct, parse_update
from crdt.dependencies import UpdateFacts, deletes_anything_new, inspect_update, reaches_refused
from tests.crdt.strategies import (
    collaborations,
    hostile_updates,
    mutated,
    state_vectors,
    update_batches,
    updates,
    written_states,
    written_updates,
)


def _doc(client_id: int) -> tuple[Doc[Text], Text]:
    doc: Doc[Text] = Doc(client_id=client_id)
    text = doc.get("text", type=Text)
    return doc, text


def test_a_complete_update_lacks_nothing() -> None:
    doc, text = _doc(1)
    text += "hello"
    facts = inspect_update(doc.get_update(), {})
    assert (facts.adds, facts.ends, facts.missing) == ({1: 0}, {1: 5}, None)


def test_a_gap_in_a_clients_clocks_is_missing() -> None:
    doc, text = _doc(1)
    text += "hello"
    before = doc.get_state()
    text += " world"
    later = doc.get_update(before)
    assert inspect_update(later, {}).missing == "changes of client 1 from clock 0 to 5"
    assert inspect_update(later, decode_state_vector(before)).missing is None
    assert inspect_update(later, decode_state_vector(before)).adds == {1: 5}


def test_an_origin_of_another_client_is_a_dependency() -> None:
    a, text_a = _doc(1)
    text_a += "base"
    b, text_b = _doc(2)
    b.apply_update(a.get_update())
    before = b.get_state()
    text_b.insert(2, "X")
    edit = b.get_update(before)  # client 2's item sits between client 1's items
    facts = inspect_update(edit, {})
    assert facts.missing is not None and "client 1" in facts.missing
    assert inspect_update(edit, {1: 4}).missing is None


def test_a_nested_type_parent_is_a_dependency() -> None:
    doc: Doc[Map[Any]] = Doc(client_id=3)
    root = doc.get("map", type=Map)
    root["inner"] = Map()
    before = doc.get_state()
    root["inner"]["key"] = "value"
    assert inspect_update(doc.get_update(before), {}).missing is not None
    assert inspect_update(doc.get_update(before), decode_state_vector(before)).missing is None


def test_deleting_unknown_items_is_missing() -> None:
    doc, text = _doc(1)
    text += "hello"
    before = doc.get_state()
    del text[0:2]
    deletion = doc.get_update(before)
    assert inspect_update(deletion, {}).missing == "deleted changes of client 1 up to clock 2"
    assert inspect_update(deletion, {1: 5}).missing is None
    assert inspect_update(deletion, {1: 5}).adds == {}


def test_resent_changes_add_nothing() -> None:
    doc, text = _doc(1)
    text += "hello"
    assert inspect_update(doc.get_update(), {1: 5}).adds == {}
    assert inspect_update(doc.get_update(), {1: 3}).adds == {1: 3}


def test_refused_clocks_are_reached_at_or_past_the_clock() -> None:
    assert reaches_refused({1: 6}, {1: 5})
    assert not reaches_refused({1: 5}, {1: 5})
    assert not reaches_refused({2: 100}, {1: 5})


def test_unreadable_bytes_are_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="invalid document update"):
        inspect_update(b"\x01\x80", {})


@given(st.binary(max_size=64))
def test_any_bytes_give_facts_or_a_protocol_error(data: bytes) -> None:
    try:
        inspect_update(data, {})
    except ProtocolError:
        pass


@given(st.lists(st.text(max_size=5), min_size=1, max_size=6), st.integers(0, 5))
def test_a_suffix_of_one_clients_edits_needs_exactly_the_prefix(
    chunks: list[str], cut: int
) -> None:
    doc, text = _doc(9)
    states = [doc.get_state()]
    for chunk in chunks:
        text += chunk
        states.append(doc.get_state())
    cut = min(cut, len(chunks))
    suffix = doc.get_update(states[cut])
    known = decode_state_vector(states[cut])
    assert inspect_update(suffix, known).missing is None
    if known.get(9, 0) > 0 and decode_state_vector(doc.get_state()).get(9, 0) > known[9]:
        assert inspect_update(suffix, {}).missing is not None


def test_deletions_are_new_only_when_the_document_has_not_made_them() -> None:
    doc, text = _doc(1)
    text += "hello"
    own = doc.get_update(doc.get_state())  # no deletions yet
    copy, copy_text = _doc(2)
    copy.apply_update(doc.get_update())
    before = copy.get_state()
    del copy_text[1:3]
    facts = inspect_update(copy.get_update(before), {1: 5})
    assert deletes_anything_new(facts.deleted, own)
    del text[0:4]  # the document itself deleted a range covering the copy's deletion
    assert not deletes_anything_new(facts.deleted, doc.get_update(doc.get_state()))


# --- the single-pass reader against the struct-by-struct one ------------------------------

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference_inspect(update: bytes, state: Mapping[int, int]) -> UpdateFacts:
    """The inspection as it was first written, on :func:`crdt._yupdate.parse_update`: the
    oracle of the properties below."""
    try:
        parsed = parse_update(update)
    except ProtocolError as exc:
        raise ProtocolError(f"invalid document update: {exc}") from exc
    covered: dict[int, int] = {}
    adds: dict[int, int] = {}
    ends: dict[int, int] = {}
    missing: str | None = None
    for client, structs in parsed.structs.items():
        if not structs:
            continue
        known = state.get(client, 0)
        reach = known
        for struct in structs:
            if struct.clock > reach and missing is None:
                missing = f"changes of client {client} from clock {reach} to {struct.clock}"
            reach = max(reach, struct.clock + struct.length)
        covered[client] = reach
        last = structs[-1]
        ends[client] = last.clock + last.length
        if ends[client] > known:
            adds[client] = max(known, structs[0].clock)
    if missing is None:
        missing = reference_missing_reference(parsed.structs.values(), state, covered)
    if missing is None:
        for client, ranges in parsed.deleted.items():
            limit = covered.get(client, state.get(client, 0))
            for start, length in ranges:
                if length and start + length > limit:
                    missing = f"deleted changes of client {client} up to clock {start + length}"
                    break
            if missing is not None:
                break
    return UpdateFacts(adds, ends, missing, parsed.deleted)


def reference_missing_reference(
    groups: Iterable[list[Struct]], state: Mapping[int, int], covered: Mapping[int, int]
) -> str | None:
    def known(item: ID) -> bool:
        return item[1] < covered.get(item[0], state.get(item[0], 0))

    for structs in groups:
        for struct in structs:
            if struct.kind == GC:
                continue
            for reference in (struct.origin, struct.right, struct.parent):
                if isinstance(reference, tuple) and not known(reference):
                    client, clock = reference
                    return f"change {clock} of client {client}"
    return None


def outcome(update: bytes, state: Mapping[int, int], inspect: Any) -> object:
    """The facts with the order of their dicts, or the error's message."""
    try:
        facts = inspect(update, state)
    except ProtocolError as exc:
        return str(exc)
    dicts = (facts.adds, facts.ends, facts.deleted)
    return facts.missing, [list(found.items()) for found in dicts]


def assert_same(update: bytes, state: Mapping[int, int]) -> None:
    assert outcome(update, state, inspect_update) == outcome(update, state, reference_inspect)


@given(updates(), state_vectors())
def test_inspection_equals_the_reference_on_one_clients_edits(update: bytes, vector: bytes) -> None:
    assert_same(update, {})
    assert_same(update, decode_state_vector(vector))


@given(update_batches(), st.data())
def test_inspection_equals_the_reference_on_merged_updates(
    batch: list[bytes], data: st.DataObject
) -> None:
    doc: Doc[Any] = Doc()
    for update in batch:
        doc.apply_update(update)
    ids = list(decode_state_vector(doc.get_state()))
    state = data.draw(st.dictionaries(st.sampled_from(ids or [1]), st.integers(0, 40)))
    assert_same(doc.get_update(), state)
    assert_same(doc.get_update(doc.get_state()), state)


@FUZZ
@given(collaborations())
def test_inspection_equals_the_reference_on_collaborations(
    case: tuple[bytes, dict[int, int]],
) -> None:
    update, state = case
    assert_same(update, state)
    assert_same(update, {})


@FUZZ
@given(written_updates(), written_states)
@example(b"\x01\x01\x01\x00\x04\x01\x01a\x01b\x00", {})  # one character, in root "a"
def test_inspection_equals_the_reference_on_every_kind_of_struct(
    update: bytes, state: dict[int, int]
) -> None:
    assert_same(update, state)


# One client in two groups, the later one first in clocks: its structs are checked in clock
# order, and the update ends where the struct with the highest clock ends.
TWO_GROUPS = bytes.fromhex("02010105840703016101010084080205616263646500")


def test_a_client_in_two_groups_is_read_in_clock_order() -> None:
    facts = inspect_update(TWO_GROUPS, {})
    assert facts == UpdateFacts({1: 0}, {1: 6}, "change 2 of client 8", {})
    assert inspect_update(TWO_GROUPS, {7: 4, 8: 3}).missing is None


def test_every_kind_of_value_is_skipped() -> None:
    values = (
        "7f7e7978"  # undefined, null, false, true
        "7d8001"  # an integer of two bytes
        "7c00000000"  # float32
        "7b0000000000000000"  # float64
        "7a0000000000000000"  # bigint
        "77026869"  # "hi"
        "7401ff"  # one byte
        "7601016b75027e7d05"  # {"k": [null, 5]}
    )
    # Eleven values in root "m", then a character after the last of them.
    update = bytes.fromhex("010201000801016d0b" + values + "84010a017a00")
    assert inspect_update(update, {}) == UpdateFacts({1: 0}, {1: 12}, None, {})
    with pytest.raises(ProtocolError, match="update truncated"):
        inspect_update(update[:-1], {})


@FUZZ
@given(hostile_updates | mutated(written_updates()) | mutated(collaborations().map(lambda c: c[0])))
def test_hostile_bytes_fail_alike(data: bytes) -> None:
    assert_same(data, {})
