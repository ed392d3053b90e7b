"""crdt.state_vector: decoding is strict and total, encoding round-trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pycrdt import Doc, Text

from crdt.document import Document
from crdt.errors import ProtocolError
from crdt.state_vector import decode_state_vector, encode_state_vector

UPDATE_HI = bytes.fromhex("010101000401047465787402686900")  # yjs: client 1 inserted "hi"


def _edit(client_id: int, value: str) -> bytes:
    doc: Doc[Any] = Doc(client_id=client_id)
    doc.get("text", type=Text).insert(0, value)
    return doc.get_update()


class TestStateVector:
    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (b"\x00", {}),
            (b"\x01\x01\x02", {1: 2}),
            (b"\x02\x01\x02\x81\x01\x05", {1: 2, 129: 5}),
        ],
    )
    def test_decode(self, data: bytes, expected: dict[int, int]) -> None:
        assert decode_state_vector(data) == expected

    @pytest.mark.parametrize(
        "data", [b"", b"\x01", b"\x01\x01", b"\x00\x00", b"\xff\xff\xff\x7f\x01\x01", b"\x80"]
    )
    def test_malformed(self, data: bytes) -> None:
        with pytest.raises(ProtocolError):
            decode_state_vector(data)

    def test_agrees_with_pycrdt(self) -> None:
        doc = Document([UPDATE_HI, _edit(300, "abc")])
        assert decode_state_vector(doc.state_vector()) == {1: 2, 300: 3}

    @given(st.dictionaries(st.integers(0, 2**53 - 1), st.integers(0, 2**53 - 1), max_size=8))
    def test_round_trip(self, clocks: dict[int, int]) -> None:
        assert decode_state_vector(encode_state_vector(clocks)) == clocks

    def test_agrees_with_yjs_bytes(self) -> None:
        assert encode_state_vector({1: 2}) == b"\x01\x01\x02"
        assert encode_state_vector({}) == b"\x00"

    @given(st.binary(max_size=40))
    def test_total(self, data: bytes) -> None:
        try:
            decode_state_vector(data)
        except ProtocolError:
            pass
