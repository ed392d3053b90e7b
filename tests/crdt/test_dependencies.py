"""What an update needs and adds: byte-level updates made by pycrdt, and hostile ones."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pycrdt import Doc, Map, Text

from crdt import ProtocolError, decode_state_vector
from crdt.dependencies import deletes_anything_new, inspect_update, reaches_refused


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
