"""Folding, byte by byte: what may go into a snapshot and what must stay in the log."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Doc, Map

from storage._fold import _fold_once, fold, is_integrated
from storage.errors import StorageError
from tests.storage.helpers import Editor, text_of


def test_fold_of_nothing_is_an_empty_snapshot():
    result = fold("d", None, [])
    assert result.folded == result.kept == []
    assert text_of([result.state]) == ""


def test_fold_collects_garbage_of_deleted_text():
    editor = Editor()
    updates = [editor.append("x" * 1000), editor.delete(0, 1000), editor.append("kept")]
    result = fold("d", None, list(enumerate(updates)))
    assert result.folded == [0, 1, 2]
    assert text_of([result.state]) == "kept"
    assert len(result.state) < 100 < sum(map(len, updates))


def test_fold_into_snapshot_is_the_same_as_folding_everything():
    editor = Editor()
    updates = [editor.append(word) for word in ["a", "b", "c", "d"]]
    step = fold("d", None, [(0, updates[0]), (1, updates[1])])
    rest = fold("d", step.state, [(2, updates[2]), (3, updates[3])])
    assert text_of([rest.state]) == text_of([fold("d", None, enumerate(updates)).state])


def test_entry_that_breaks_the_engine_is_left_out_entirely(caplog: pytest.LogCaptureFixture):
    # Decodes fine, then makes Yrs 0.28 panic once client 1 has content: it may leave part
    # of itself in the document, so the document is rebuilt without it.
    hostile = bytes.fromhex("018080800001cc9402000401047465787406c39df2a3a09000")
    editor = Editor(client_id=1)
    base = editor.append("base")
    after = editor.append("!")
    result = fold("d", None, [(1, base), (2, hostile), (3, after)])
    assert result.folded == [1, 3]
    assert result.kept == [2]
    assert text_of([result.state]) == "base!"
    assert "breaks the CRDT engine" in caplog.text


def test_corrupt_snapshot_refuses_to_fold():
    with pytest.raises(StorageError, match="corrupt"):
        fold("d", b"\xff\xff", [(1, Editor().append("x"))])


def test_is_integrated_sees_missing_structs_and_deletions():
    editor = Editor()
    first = editor.append("hello")
    second = editor.append(" world")
    removal = editor.delete(0, 2)
    partial: Doc[Any] = Doc()
    partial.apply_update(second)
    partial.apply_update(removal)
    assert not is_integrated(second, partial.get_state())
    assert not is_integrated(removal, partial.get_state())
    complete: Doc[Any] = Doc()
    for update in (second, removal, first):
        complete.apply_update(update)
    for update in (first, second, removal):
        assert is_integrated(update, complete.get_state())


def test_is_integrated_handles_other_shared_types():
    doc: Doc[Map[str]] = Doc()
    settings = doc.get("settings", type=Map)
    before = doc.get_state()
    settings["title"] = "ASSAP"
    update = doc.get_update(before)
    assert is_integrated(update, doc.get_state())
    assert not is_integrated(update, Doc().get_state())


@pytest.mark.parametrize("state_vector", [b"", b"\x01", b"\x01\xff", b"\xff" * 9])
def test_is_integrated_is_false_for_unreadable_input(state_vector: bytes):
    assert not is_integrated(Editor().append("x"), state_vector)
    assert not is_integrated(b"\xff\xff\xff", b"\x00")


def test_appends_folded_at_once_give_the_entry_by_entry_snapshot() -> None:
    """The fast path (entries merged, applied once) builds the same snapshot as applying
    them one by one, which it replaces because Yrs recounts the whole run of text a client
    typed at the end for every entry applied."""
    editor = Editor(client_id=5)
    snapshot = editor.append("x" * 50_000)
    entries = [(n, editor.append(f"<{n}>")) for n in range(50)]
    entries.append((50, editor.delete(10, 20)))
    result = fold("doc", snapshot, entries)
    assert result.folded == list(range(51)) and result.kept == []
    assert result.state == _fold_once("doc", snapshot, entries, set()).state
    assert text_of([result.state]) == editor.value
