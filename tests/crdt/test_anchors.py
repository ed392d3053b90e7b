"""Comment anchors: encoding, hostile bytes, and ranges that follow their text through edits.

Node ``yjs`` agreement (same bytes, same resolved ranges) is in
``tests/interop/test_anchors_interop.py``. Edits here go through pycrdt, whose text indexes are
UTF-8 bytes: the random edits use ASCII, where bytes and UTF-16 code units agree, and the emoji
cases insert whole strings at known byte offsets.
"""

from __future__ import annotations

import base64
import string
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from crdt import (
    Anchor,
    AnchorError,
    Document,
    ProtocolError,
    Resolved,
    anchor_range,
    quote,
    resolve,
    resolve_all,
)
from crdt._yupdate import parse_update
from crdt.anchors import MAX_POSITION_BYTES
from tests.crdt.strategies import mutated, update_batches, updates

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DETACHED = Resolved(None, None, True)


def snapshot(doc: Doc[Any]) -> Document:
    return Document([doc.get_update()])


def root_text(value: str, client_id: int = 1) -> tuple[Doc[Any], Text]:
    doc: Doc[Any] = Doc(client_id=client_id)
    text = doc.get("text", type=Text)
    text += value
    return doc, text


def paragraph_text(value: str, client_id: int = 1) -> tuple[Doc[Any], XmlText]:
    doc: Doc[Any] = Doc(client_id=client_id)
    fragment = doc.get("default", type=XmlFragment)
    fragment.children.append(XmlElement("heading", contents=[XmlText("Title")]))
    paragraph = fragment.children.append(XmlElement("paragraph", contents=[XmlText(value)]))
    text = paragraph.children[0]
    assert isinstance(text, XmlText)
    return doc, text


def item(client: int, clock: int, assoc: int) -> bytes:
    """A relative position on an item, as Y.encodeRelativePosition writes it (small ints)."""
    assert client < 128 and clock < 128 and -64 < assoc < 64
    return bytes([0, client, clock, (0x40 if assoc < 0 else 0) | abs(assoc)])


def type_name(name: str, assoc: int) -> bytes:
    return bytes([1, len(name)]) + name.encode() + bytes([0x41 if assoc < 0 else 0])


# -- encoding --------------------------------------------------------------------------------


def test_base64_round_trip() -> None:
    anchor = Anchor(item(1, 4, 0), item(1, 8, -1))
    assert anchor.to_base64() == ("AAEEAA==", "AAEIQQ==")
    assert Anchor.from_base64(*anchor.to_base64()) == anchor


def test_the_encoding_is_yjs_relative_positions() -> None:
    doc, text = root_text("hello world", client_id=300)
    anchor = anchor_range(text, 6, 5)
    # kind 0 (item), client 300 as a varuint, clock 6 / 10, assoc 0 / -1 as lib0 varints.
    assert anchor.start == bytes([0, 0xAC, 0x02, 6, 0x00])
    assert anchor.end == bytes([0, 0xAC, 0x02, 10, 0x41])


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x03\x01\x01\x00",  # unknown kind
        b"\x00\x01",  # truncated id
        b"\x00\x01\x01\x00\x00",  # trailing byte
        b"\x01\x05ab",  # name runs past the end
        b"\x01\x02\xff\xfe\x00",  # name is not UTF-8
        b"\x00\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00",  # client too large
        b"\x00" + b"\x01" * MAX_POSITION_BYTES,
    ],
)
def test_bad_bytes_are_refused(bad: bytes) -> None:
    with pytest.raises(AnchorError):
        Anchor(bad, item(1, 1, -1))
    with pytest.raises(AnchorError):
        Anchor(item(1, 1, 0), bad)


def test_assoc_may_be_omitted() -> None:
    doc, text = root_text("hello world")
    anchor = Anchor(bytes([0, 1, 6]), bytes([0, 1, 10, 0x41]))
    assert resolve(snapshot(doc), anchor) == Resolved(6, 5, False)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("not base64!", "AAEIQQ=="),
        ("AAEEAA==", "AAEIQQ"),  # bad padding
        ("AAEEAA==", "é"),
        ("AAEEAA==", "A" * 400),  # too large
        ("AAEEAA==", "AAEIQUFB"),  # decodes, but trailing bytes
    ],
)
def test_from_base64_refuses_bad_input(start: str, end: str) -> None:
    with pytest.raises(AnchorError):
        Anchor.from_base64(start, end)


def test_anchor_error_is_a_protocol_error() -> None:
    assert issubclass(AnchorError, ProtocolError)


@FUZZ
@given(st.binary(max_size=40) | mutated(st.sampled_from([item(1, 4, 0), type_name("text", -1)])))
def test_any_bytes_give_an_anchor_or_anchor_error(data: bytes) -> None:
    doc, _ = root_text("hello world")
    document = snapshot(doc)
    try:
        anchor = Anchor(data, data)
    except AnchorError:
        return
    result = resolve(document, anchor)
    assert result.detached  # start == end is never a live range
    with pytest.raises(AnchorError):
        quote(document, anchor)


@FUZZ
@given(st.integers(0, 2**40), st.integers(0, 2**40), st.integers(-(2**20), 2**20))
def test_unknown_items_are_detached(client: int, clock: int, assoc: int) -> None:
    from crdt._varint import write_var_uint

    def lib0_int(value: int) -> bytes:
        sign = 0x40 if value < 0 else 0
        value = abs(value)
        out = [(0x80 if value > 0x3F else 0) | sign | (value & 0x3F)]
        value >>= 6
        while value:
            out.append((0x80 if value > 0x7F else 0) | (value & 0x7F))
            value >>= 7
        return bytes(out)

    doc, _ = root_text("hello world", client_id=1)
    position = b"\x00" + write_var_uint(client + 2) + write_var_uint(clock) + lib0_int(assoc)
    anchor = Anchor(position, item(1, 10, -1))
    assert resolve(snapshot(doc), anchor) == DETACHED


# -- anchor_range ----------------------------------------------------------------------------


def test_anchor_range_and_quote_on_a_root_text() -> None:
    doc, text = root_text("hello world")
    anchor = anchor_range(text, 6, 5)
    assert resolve(snapshot(doc), anchor) == Resolved(6, 5, False)
    assert quote(snapshot(doc), anchor) == "world"


def test_anchor_range_and_quote_on_a_paragraph() -> None:
    doc, text = paragraph_text("the quick brown fox")
    anchor = anchor_range(text, 4, 5)
    assert resolve(snapshot(doc), anchor) == Resolved(4, 5, False)
    assert quote(snapshot(doc), anchor) == "quick"


@pytest.mark.parametrize(
    ("index", "length"), [(0, 0), (-1, 2), (3, 9), (11, 1), (True, 1), (0, 1.5)]
)
def test_anchor_range_refuses_bad_ranges(index: Any, length: Any) -> None:
    _, text = root_text("hello world")
    with pytest.raises(AnchorError):
        anchor_range(text, index, length)


def test_anchor_range_refuses_other_types() -> None:
    doc: Doc[Any] = Doc()
    other = doc.get("notes", type=XmlFragment)
    stray = other.children.append(XmlText("not in the default fragment"))
    with pytest.raises(AnchorError):
        anchor_range(stray, 0, 3)
    with pytest.raises(AnchorError):
        anchor_range(doc.get("map", type=Map), 0, 1)
    nested = doc.get("array", type=Array)
    nested.append(Text("nested text"))
    with pytest.raises(AnchorError):
        anchor_range(nested[0], 0, 3)


def test_anchor_range_refuses_texts_outside_a_document() -> None:
    for prelim in (Text("hello"), XmlText("hello")):
        with pytest.raises(AnchorError):
            anchor_range(prelim, 0, 2)


def test_formatting_and_embeds_count_as_yjs_counts_them() -> None:
    doc, text = paragraph_text("the quick brown fox")
    text.format(4, 9, {"bold": True})  # format marks take no index
    text.insert_embed(0, {"image": "logo.png"})  # an embed takes one
    document = snapshot(doc)
    anchor = anchor_range(text, 5, 5)
    assert quote(document, anchor) == "quick"
    assert resolve(document, anchor) == Resolved(5, 5, False)
    assert quote(document, anchor_range(text, 0, 4)) == "the"  # the embed is left out


# -- UTF-16 indexes --------------------------------------------------------------------------


@pytest.mark.parametrize("make", [root_text, paragraph_text])
def test_indexes_count_utf16_code_units(make: Any) -> None:
    # One string, so the emoji and the word are in the same item.
    doc, text = make("a😀é quick fox")
    anchor = anchor_range(text, 5, 5)  # a=1, 😀=2, é=1, space=1
    assert quote(snapshot(doc), anchor) == "quick"
    text.insert(0, "🎉🎉")  # a separate item before everything
    assert resolve(snapshot(doc), anchor) == Resolved(9, 5, False)
    assert quote(snapshot(doc), anchor) == "quick"


def test_a_quote_with_an_emoji_inside() -> None:
    doc, text = root_text("say 👋🏽 now")
    anchor = anchor_range(text, 4, 4)
    assert quote(snapshot(doc), anchor) == "👋🏽"


# -- following the text ----------------------------------------------------------------------


def test_whole_range_deleted_detaches_and_partial_deletion_does_not() -> None:
    doc, text = root_text("hello world foo")
    anchor = anchor_range(text, 6, 5)
    del text[6:7]  # "w"
    del text[9:10]  # "d"
    assert resolve(snapshot(doc), anchor) == Resolved(6, 3, False)
    assert quote(snapshot(doc), anchor) == "orl"
    del text[6:9]
    assert resolve(snapshot(doc), anchor) == DETACHED
    with pytest.raises(AnchorError):
        quote(snapshot(doc), anchor)


def test_deleted_text_kept_by_a_document_without_gc_still_counts_as_deleted() -> None:
    doc: Doc[Any] = Doc(client_id=1, skip_gc=True)
    text = doc.get("text", type=Text)
    text += "hello world foo"
    del text[0:6]
    anchor = anchor_range(text, 0, 5)  # read from the no-gc document's own update
    assert quote(Document([doc.get_update()]), anchor) == "world"
    del text[0:5]
    assert resolve(Document([doc.get_update()]), anchor) == DETACHED


def test_text_typed_where_a_deleted_range_was_is_not_adopted() -> None:
    doc, text = root_text("hello world foo")
    anchor = anchor_range(text, 6, 5)
    del text[6:11]
    text.insert(6, "there")
    assert resolve(snapshot(doc), anchor) == DETACHED


def test_deleting_the_paragraph_detaches() -> None:
    doc, text = paragraph_text("the quick brown fox")
    anchor = anchor_range(text, 4, 5)
    del doc.get("default", type=XmlFragment).children[1]
    assert resolve(snapshot(doc), anchor) == DETACHED


def test_ends_in_different_types_or_out_of_order_are_detached() -> None:
    doc, text = root_text("hello world")
    other = doc.get("other", type=Text)
    other += "elsewhere"
    a = anchor_range(text, 0, 5)
    b = anchor_range(other, 0, 4)
    document = snapshot(doc)
    assert resolve(document, Anchor(a.start, b.end)) == DETACHED
    assert resolve(document, Anchor(anchor_range(text, 6, 1).start, a.end)) == DETACHED


def test_any_assoc_a_browser_sends() -> None:
    doc, _ = root_text("hello world", client_id=1)
    document = snapshot(doc)
    # Start after the space (assoc -1 on clock 5), end before "d"... then after it (assoc 0 on
    # the character after the range would be past the end, so use the end of the type).
    assert resolve(document, Anchor(item(1, 5, -1), item(1, 10, 0))) == Resolved(6, 4, False)
    assert resolve(document, Anchor(item(1, 5, -1), type_name("text", 0))) == Resolved(6, 5, False)
    assert resolve(document, Anchor(type_name("text", -1), item(1, 4, -1))) == Resolved(0, 5, False)
    assert quote(document, Anchor(type_name("text", -1), type_name("text", 0))) == "hello world"


def test_a_long_text_with_a_long_history() -> None:
    doc, text = root_text("x" * 70_000)
    del text[0:60_000]  # deleted characters still count for ordering, not for indexes
    text.insert(5_000, "needle")
    anchor = anchor_range(text, 5_000, 6)
    text.insert(0, "y" * 70_000)
    assert resolve(snapshot(doc), anchor) == Resolved(75_000, 6, False)
    assert quote(snapshot(doc), anchor) == "needle"


def test_resolve_all_reads_the_document_once_for_many_anchors() -> None:
    doc, text = root_text("hello world foo")
    anchors = [anchor_range(text, 0, 5), anchor_range(text, 6, 5), anchor_range(text, 12, 3)]
    del text[6:11]
    expected = [Resolved(0, 5, False), DETACHED, Resolved(7, 3, False)]
    assert resolve_all(snapshot(doc), anchors) == expected
    assert [resolve(snapshot(doc), anchor) for anchor in anchors] == expected
    assert resolve_all(snapshot(doc), []) == []


def test_the_document_is_not_changed() -> None:
    doc, text = paragraph_text("the quick brown fox")
    document = snapshot(doc)
    before = document.full_state()
    anchor = anchor_range(text, 4, 5)
    resolve(document, anchor)
    quote(document, anchor)
    assert document.full_state() == before


# -- property: random edits before, inside and after -----------------------------------------

ASCII = string.ascii_letters + string.digits + " "


@dataclass
class Model:
    """The text as (character, in the anchored range at creation) pairs."""

    chars: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def first(self) -> int:
        return next(i for i, (_, marked) in enumerate(self.chars) if marked)

    @property
    def last(self) -> int:
        return max(i for i, (_, marked) in enumerate(self.chars) if marked)

    def text(self, start: int, stop: int) -> str:
        return "".join(char for char, _ in self.chars[start:stop])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, int, int, list[tuple[str, str, int, int, str, bool]]]:
    value = draw(st.text(ASCII, min_size=1, max_size=30))
    index = draw(st.integers(0, len(value) - 1))
    length = draw(st.integers(1, len(value) - index))
    edit = st.tuples(
        st.sampled_from(["insert", "delete"]),
        st.sampled_from(["before", "inside", "after"]),
        st.integers(0, 1000),
        st.integers(1, 4),
        st.text(ASCII, min_size=1, max_size=4),
        st.booleans(),
    )
    return value, index, length, draw(st.lists(edit, max_size=12))


def apply_edit(
    model: Model, texts: list[Text | XmlText], edit: tuple[str, str, int, int, str, bool]
) -> None:
    kind, where, at, size, value, on_second = edit
    first, last, total = model.first, model.last, len(model.chars)
    low, high = {"before": (0, first), "inside": (first + 1, last), "after": (last + 1, total)}[
        where
    ]
    target = texts[1] if on_second else texts[0]
    if kind == "insert":
        if where == "inside" and high < low:
            return
        position = low + at % (high - low + 1)
        target.insert(position, value)
        model.chars[position:position] = [(char, False) for char in value]
        return
    # Deletions inside keep the first and last characters; elsewhere they stay outside.
    stop = high if where != "inside" else last
    if stop <= low:
        return
    start = low + at % (stop - low)
    end = min(start + size, stop)
    del target[start:end]
    del model.chars[start:end]


def replicas(value: str, make: Any) -> tuple[Doc[Any], Doc[Any], list[Text | XmlText]]:
    first, text = make(value, client_id=1)
    second: Doc[Any] = Doc(client_id=2)
    second.apply_update(first.get_update())
    if isinstance(text, XmlText):
        paragraph = second.get("default", type=XmlFragment).children[1]
        assert isinstance(paragraph, XmlElement)
        other = paragraph.children[0]
        assert isinstance(other, XmlText)
    else:
        other = second.get("text", type=Text)
    return first, second, [text, other]


@FUZZ
@given(scenarios(), st.sampled_from([root_text, paragraph_text]))
def test_random_edits_keep_the_anchor_on_its_characters(scenario: Any, make: Any) -> None:
    value, index, length, edits = scenario
    first, second, texts = replicas(value, make)
    anchor = anchor_range(texts[0], index, length)
    model = Model([(char, index <= i < index + length) for i, char in enumerate(value)])
    for edit in edits:
        apply_edit(model, texts, edit)
        # Keep the replicas in step, so each edit is made against the current text.
        first.apply_update(second.get_update(first.get_state()))
        second.apply_update(first.get_update(second.get_state()))
    document = snapshot(first)
    expected = Resolved(model.first, model.last + 1 - model.first, False)
    assert resolve(document, anchor) == expected
    assert quote(document, anchor) == model.text(model.first, model.last + 1)
    assert Anchor.from_base64(*anchor.to_base64()) == anchor

    # Deleting the whole range (and maybe more around it) detaches the anchor.
    start, stop = model.first, model.last + 1
    del texts[0][start:stop]
    assert resolve(snapshot(first), anchor) == DETACHED
    with pytest.raises(AnchorError):
        quote(snapshot(first), anchor)


def test_base64_of_generated_anchors_is_standard() -> None:
    _, text = root_text("x" * 200, client_id=2**40)
    anchor = anchor_range(text, 150, 40)
    start, end = anchor.to_base64()
    assert base64.b64decode(start, validate=True) == anchor.start
    assert base64.b64decode(end, validate=True) == anchor.end


# -- documents of every shape ----------------------------------------------------------------


@FUZZ
@given(update_batches())
def test_any_document_reads_and_anchors_its_whole_text(batch: list[bytes]) -> None:
    document = Document(batch)
    text = document.ydoc.get("text", type=Text)
    value = str(text)
    if not value:
        return
    anchor = anchor_range(text, 0, len(value.encode("utf-16-le")) // 2)
    assert quote(document, anchor) == value
    assert resolve(document, anchor) == Resolved(0, len(value.encode("utf-16-le")) // 2, False)


@FUZZ
@given(mutated(updates()) | st.binary(max_size=60))
def test_reading_hostile_updates_raises_only_protocol_error(data: bytes) -> None:
    try:
        parse_update(data)
    except ProtocolError:
        pass
