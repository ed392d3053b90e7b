"""crdt.document: agrees with pycrdt, converges, and rejects hostile bytes with ProtocolError."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text

from crdt.document import EMPTY_UPDATE, Document, merge_updates, validate_update
from crdt.errors import ProtocolError
from crdt.state_vector import decode_state_vector
from tests.crdt.strategies import (
    hostile_state_vectors,
    hostile_updates,
    update_batches,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def clocks(doc: Document) -> dict[int, int]:
    """The state vector as a mapping: its encoding's entry order is not canonical."""
    return decode_state_vector(doc.state_vector())


def text_of(doc: Document) -> str:
    return str(doc.ydoc.get("text", type=Text))


def edited(client_id: int, *edits: tuple[int, str]) -> Doc[Any]:
    doc: Doc[Any] = Doc(client_id=client_id)
    text = doc.get("text", type=Text)
    for index, chunk in edits:
        text.insert(index, chunk)
    return doc


class TestAgreesWithPycrdt:
    def test_empty(self) -> None:
        doc = Document()
        assert doc.state_vector() == Doc().get_state() == b"\x00"
        assert doc.full_state() == Doc().get_update() == EMPTY_UPDATE
        assert doc.diff(b"\x00") == EMPTY_UPDATE

    def test_apply_then_read_back(self) -> None:
        source = edited(7, (0, "hello"), (5, " world"))
        doc = Document([source.get_update()])
        assert text_of(doc) == "hello world"
        assert doc.state_vector() == source.get_state()
        assert doc.diff(b"\x00") == doc.full_state()
        assert doc.diff(source.get_state()) == EMPTY_UPDATE

    def test_validate_update_returns_the_state_vector(self) -> None:
        source = edited(7, (0, "abc"))
        assert validate_update(source.get_update()) == source.get_state()

    def test_empty_update_is_a_no_op(self) -> None:
        doc = Document([EMPTY_UPDATE, edited(3, (0, "x")).get_update(), EMPTY_UPDATE])
        assert text_of(doc) == "x"

    def test_ydoc_is_the_live_document(self) -> None:
        doc = Document()
        doc.ydoc.get("text", type=Text).insert(0, "local")
        assert validate_update(doc.full_state()) == doc.state_vector()
        assert text_of(Document([doc.full_state()])) == "local"

    @given(update_batches(), st.randoms())
    def test_updates_in_any_order_give_the_same_document(self, batch: list[bytes], rnd) -> None:
        shuffled = list(batch)
        rnd.shuffle(shuffled)
        a, b = Document(batch), Document(shuffled)
        assert clocks(a) == clocks(b)
        assert text_of(a) == text_of(b)

    @given(update_batches())
    def test_merge_has_the_effect_of_applying_all(self, batch: list[bytes]) -> None:
        merged = merge_updates(batch)
        one, many = Document([merged]), Document(batch)
        assert clocks(one) == clocks(many)
        assert text_of(one) == text_of(many)
        assert decode_state_vector(validate_update(merged)) == clocks(many)

    def test_merge_of_nothing_and_of_one(self) -> None:
        assert merge_updates([]) == EMPTY_UPDATE
        update = edited(1, (0, "a")).get_update()
        assert merge_updates([update]) is update


class TestConvergence:
    @FUZZ
    @given(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=2),
                st.integers(min_value=0, max_value=50),
                st.text("abcxyz ", min_size=1, max_size=4),
            ),
            max_size=12,
        ),
        st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), max_size=6),
    )
    def test_diff_against_a_peer_state_vector_brings_it_level(
        self, edits: list[tuple[int, int, str]], syncs: list[tuple[int, int]]
    ) -> None:
        peers = [Document() for _ in range(3)]
        for peer, (a, b) in enumerate(syncs):
            del peer
            if a != b:
                peers[b].apply_update(peers[a].diff(peers[b].state_vector()))
        for who, at, chunk in edits:
            text = peers[who].ydoc.get("text", type=Text)
            text.insert(min(at, len(text)), chunk)
        # Full pairwise exchange of diffs, in both directions.
        for a in range(3):
            for b in range(3):
                if a != b:
                    peers[b].apply_update(peers[a].diff(peers[b].state_vector()))
        assert all(clocks(p) == clocks(peers[0]) for p in peers)
        assert len({text_of(p) for p in peers}) == 1
        for p in peers[1:]:
            assert p.diff(peers[0].state_vector()) == EMPTY_UPDATE

    def test_concurrent_inserts_keep_both(self) -> None:
        a, b = Document(), Document()
        a.ydoc.get("text", type=Text).insert(0, "alpha")
        b.ydoc.get("text", type=Text).insert(0, "beta")
        a_sv, b_sv = a.state_vector(), b.state_vector()
        a.apply_update(b.diff(a_sv))
        b.apply_update(a.diff(b_sv))
        assert text_of(a) == text_of(b)
        assert sorted([text_of(a).replace("alpha", ""), text_of(a).replace("beta", "")]) == [
            "alpha",
            "beta",
        ]


class TestHostileInput:
    @pytest.mark.parametrize("data", [b"", b"\x00", b"\x01", b"\xff", b"\x01\x01\x01"])
    def test_known_bad_updates(self, data: bytes) -> None:
        doc = Document([edited(1, (0, "keep")).get_update()])
        before = doc.state_vector()
        with pytest.raises(ProtocolError):
            doc.apply_update(data)
        assert doc.state_vector() == before and text_of(doc) == "keep"
        with pytest.raises(ProtocolError):
            validate_update(data)
        with pytest.raises(ProtocolError):
            Document([data])

    def test_update_that_makes_yrs_panic_raises_protocol_error(self) -> None:
        """An update that yrs 0.28 panics on (pyo3 PanicException, a BaseException) when
        the document has content. ``validate_update`` accepts it, so a server that validates
        then applies meets the panic; ``apply_update`` must turn it into a ProtocolError."""
        hostile = bytes.fromhex("018080800001cc9402000401047465787406c39df2a3a09000")
        doc = Document([edited(1, (0, "base")).get_update()])
        validate_update(hostile)
        with pytest.raises(ProtocolError):
            doc.apply_update(hostile)
        assert text_of(doc) == "base"

    @pytest.mark.parametrize("data", [b"", b"\x01", b"\x05\x01"])
    def test_known_bad_state_vectors(self, data: bytes) -> None:
        with pytest.raises(ProtocolError):
            Document().diff(data)

    @FUZZ
    @given(hostile_updates)
    def test_apply_update_is_total(self, data: bytes) -> None:
        doc = Document([edited(1, (0, "base")).get_update()])
        try:
            doc.apply_update(data)
        except ProtocolError:
            assert text_of(doc) == "base"

    @FUZZ
    @given(hostile_updates)
    def test_validate_update_is_total(self, data: bytes) -> None:
        try:
            validate_update(data)
        except ProtocolError:
            pass

    @FUZZ
    @given(update_batches(max_size=2), hostile_updates)
    def test_merge_updates_is_total(self, good: list[bytes], bad: bytes) -> None:
        try:
            merge_updates([*good, bad])
        except ProtocolError:
            pass

    @FUZZ
    @given(hostile_state_vectors)
    def test_diff_is_total(self, data: bytes) -> None:
        doc = Document([edited(1, (0, "base")).get_update()])
        try:
            doc.diff(data)
        except ProtocolError:
            pass


def _appends() -> tuple[list[bytes], str]:
    doc: Doc[Any] = Doc(client_id=1)
    text = doc.get("text", type=Text)
    updates = []
    for piece in ["x" * 5_000, *(f"<{n}>" for n in range(30))]:
        before = doc.get_state()
        text.insert(len(text), piece)
        updates.append(doc.get_update(before))
    before = doc.get_state()
    del text[3:9]
    updates.append(doc.get_update(before))
    return updates, str(text)


def test_from_stored_builds_what_applying_one_by_one_builds(caplog) -> None:
    updates, expected = _appends()
    document = Document.from_stored(updates, name="d1")
    assert "skipping" not in caplog.text
    assert str(document.ydoc.get("text", type=Text)) == expected
    assert document.full_state() == Document(updates).full_state()


def test_from_stored_skips_what_does_not_decode_or_breaks_the_engine(caplog) -> None:
    updates, expected = _appends()
    hostile = bytes.fromhex("018080800001cc9402000401047465787406c39df2a3a09000")
    stored = [*updates[:3], b"\x07garbage", *updates[3:], hostile]
    document = Document.from_stored(stored, name="d1")
    skipped = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert len(skipped) == 2
    assert "d1: skipping corrupt stored update 3:" in skipped[0]
    assert f"d1: skipping corrupt stored update {len(stored) - 1}:" in skipped[1]
    assert str(document.ydoc.get("text", type=Text)) == expected
