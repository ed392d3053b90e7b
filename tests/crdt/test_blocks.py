"""Top-level blocks, their diff, and the restore update, on the real templates and on random
documents edited the way editors edit them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, StickyIndex, Text, XmlElement, XmlFragment, XmlText

from content import TEMPLATES, build_template
from crdt import (
    EMPTY_UPDATE,
    Block,
    BlockChange,
    Document,
    blocks,
    decode_state_vector,
    diff_blocks,
    restore_update,
    to_markdown,
    validate_update,
)

TARGET_CLIENT = 1001
EDITOR_CLIENT = 2002

# -- building documents ---------------------------------------------------------------------------

Marks = Mapping[str, object]


@dataclass
class El:
    tag: str
    children: list[El | Tx] = field(default_factory=list)
    attrs: dict[str, object] = field(default_factory=dict)


@dataclass
class Tx:
    runs: list[tuple[str, Marks]]


def write(parent: XmlFragment | XmlElement, node: El | Tx, index: int | None = None) -> None:
    at = len(parent.children) if index is None else index
    if isinstance(node, Tx):
        text = parent.children.insert(at, XmlText())
        for run, marks in node.runs:
            text.insert(len(text), run, dict(marks))
        return
    element = parent.children.insert(at, XmlElement(node.tag))
    for key, value in node.attrs.items():
        element.attributes[key] = value
    for child in node.children:
        write(element, child)


def document(*nodes: El | Tx, client_id: int = TARGET_CLIENT) -> Document:
    doc: Doc[Any] = Doc(client_id=client_id)
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        for node in nodes:
            write(fragment, node)
    return Document([doc.get_update()])


def p(*runs: str | tuple[str, Marks]) -> El:
    return El("paragraph", [Tx([(r, {}) if isinstance(r, str) else r for r in runs])])


def h(level: int | float | str, text: str) -> El:
    return El("heading", [Tx([(text, {})])], {"level": level})


def fragment(doc: Document) -> XmlFragment:
    root: XmlFragment = doc.ydoc.get("default", type=XmlFragment)
    return root


def texts(parent: XmlFragment | XmlElement | XmlText) -> Iterator[XmlText]:
    stack: list[XmlFragment | XmlElement | XmlText] = [parent]
    while stack:
        node = stack.pop()
        if isinstance(node, XmlText):
            yield node
        else:
            stack.extend(reversed(list(node.children)))


def keys(doc: Document) -> list[str]:
    return [block.key for block in blocks(doc)]


def restored(current: Document, target: Document) -> tuple[Document, Document, bytes]:
    """Apply the restore update to ``current`` and to a replica of it; check both."""
    replica = Document([current.full_state()])
    before = (current.full_state(), target.full_state())
    update = restore_update(current, target)
    assert (current.full_state(), target.full_state()) == before, "an argument was mutated"
    for doc in (current, replica):
        doc.apply_update(update)
        assert keys(doc) == keys(target)
        assert to_markdown(doc) == to_markdown(target)
    return current, replica, update


BOLD: Marks = {"bold": {}}

# -- blocks ---------------------------------------------------------------------------------------


def test_blocks_of_the_assap_template() -> None:
    found = blocks(Document([build_template("assap-plan")]))
    assert found[0] == Block(
        "heading",
        "Adapted Social Security strategy and Action Plan (ASSAP)",
        found[0].key,
    )
    assert found[1].kind == "paragraph" and found[1].text.startswith("The country's plan")
    kinds = {block.kind for block in found}
    assert {"heading", "paragraph", "table"} <= kinds
    metadata = next(block for block in found if block.kind == "table")
    assert "Country" in metadata.text and "Draft" in metadata.text


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_has_blocks_with_distinct_keys_for_distinct_content(name: str) -> None:
    found = blocks(Document([build_template(name)]))
    assert found or TEMPLATES[name].kind == "blank"
    by_key = {block.key: block for block in found}
    assert all(by_key[block.key] == block for block in found)


def test_no_fragment_means_no_blocks() -> None:
    assert blocks(Document()) == []
    doc: Doc[Any] = Doc()
    doc.get("text", type=Text).insert(0, "not a fragment")
    assert blocks(Document([doc.get_update()])) == []


def test_key_compares_numbers_as_javascript_does_and_tells_formatting_apart() -> None:
    [two] = keys(document(h(2, "Context")))
    [two_float] = keys(document(h(2.0, "Context")))
    [two_string] = keys(document(h("2", "Context")))
    [three] = keys(document(h(3, "Context")))
    assert two == two_float
    assert len({two, two_string, three}) == 3
    [plain] = keys(document(p("hello")))
    [bold] = keys(document(p(("hello", BOLD))))
    [split] = keys(document(El("paragraph", [Tx([("hel", {})]), Tx([("lo", {})])])))
    assert len({plain, bold, split}) == 3


def test_a_text_directly_in_the_fragment_is_a_text_block() -> None:
    [block] = blocks(document(Tx([("loose", {})])))
    assert (block.kind, block.text) == ("text", "loose")


# -- diff_blocks ----------------------------------------------------------------------------------


def test_diff_of_equal_documents_is_empty() -> None:
    found = blocks(Document([build_template("assap-plan")]))
    assert diff_blocks(found, found) == []


def test_diff_reports_added_removed_and_changed_at_aligned_positions() -> None:
    a, b, c, d, e = (blocks(document(p(x)))[0] for x in "abcde")
    c2 = blocks(document(p(("c", BOLD))))[0]
    assert diff_blocks([a, b, c, d], [a, c2, d, e]) == [
        BlockChange("changed", 1, 1, b, c2),
        BlockChange("removed", 2, None, c, None),
        BlockChange("added", None, 3, None, e),
    ]
    assert diff_blocks([], [a, b]) == [
        BlockChange("added", None, 0, None, a),
        BlockChange("added", None, 1, None, b),
    ]
    assert diff_blocks([a, b], []) == [
        BlockChange("removed", 0, None, a, None),
        BlockChange("removed", 1, None, b, None),
    ]
    # A moved block is one removal and one addition; the rest stays aligned.
    assert diff_blocks([a, b, c], [b, c, a]) == [
        BlockChange("removed", 0, None, a, None),
        BlockChange("added", None, 2, None, a),
    ]


# -- restore_update on the templates --------------------------------------------------------------


@pytest.mark.parametrize(
    ("current_name", "target_name"),
    [
        ("assap-plan", "blank"),
        ("blank", "assap-plan"),
        ("training-course", "research-proposal"),
        ("assap-plan", "assap-plan"),
    ],
)
def test_restore_between_templates(current_name: str, target_name: str) -> None:
    current = Document([build_template(current_name)])
    target = Document([build_template(target_name)])
    _, _, update = restored(current, target)
    if current_name == target_name:
        assert update == EMPTY_UPDATE


TYPIST_CLIENT = 3003
UNCHANGED = 12
"""A block that ``edited_assap`` leaves alone, in which the typist wrote ``NOTE``."""


def edited_assap() -> tuple[Document, Document, int]:
    """``target``: the ASSAP template where a typist wrote "NOTE" in block 12; ``current``:
    target + a few edits by someone else in other blocks. Also returns the clock of the
    typist's first character."""
    typist: Doc[Any] = Doc(client_id=TYPIST_CLIENT)
    typist.apply_update(build_template("assap-plan"))
    clock = decode_state_vector(typist.get_state()).get(TYPIST_CLIENT, 0)
    next(texts(typist.get("default", type=XmlFragment).children[UNCHANGED])).insert(0, "NOTE")
    target = Document([typist.get_update()])
    editor: Doc[Any] = Doc(client_id=EDITOR_CLIENT)
    editor.apply_update(target.full_state())
    root = editor.get("default", type=XmlFragment)
    children = list(root.children)
    with editor.transaction():
        next(texts(children[1])).insert(3, "XYZ", {"bold": {}})
        children[7].attributes["level"] = 3
        del root.children[5]
        write(root, p("a new first block"), 0)
    return Document([editor.get_update()]), target, clock


def test_restore_undoes_edits_as_a_new_change_by_a_fresh_client() -> None:
    current, target, _ = edited_assap()
    assert keys(current) != keys(target)
    used = decode_state_vector(current.state_vector())
    current, _, update = restored(current, target)
    writers = set(decode_state_vector(validate_update(update)))
    assert writers and not writers & set(used)
    assert restore_update(current, target) == EMPTY_UPDATE


def test_blocks_equal_in_both_keep_their_items() -> None:
    current, target, clock = edited_assap()
    [text] = texts(fragment(current).children[UNCHANGED])
    assert str(text).startswith("NOTE")
    # Sticky indexes on the typist's characters, by the items that hold them.
    anchors = [
        StickyIndex.from_json({"item": {"client": TYPIST_CLIENT, "clock": clock + i}, "assoc": 0})
        for i in range(4)
    ]
    with current.ydoc.transaction() as txn:
        assert [anchor.get_index(txn) for anchor in anchors] == [0, 1, 2, 3]
    holders = list(fragment(current).children)
    kept = [node for index, node in enumerate(holders) if index not in {0, 2, 7}]
    restored(current, target)
    with current.ydoc.transaction() as txn:
        assert [anchor.get_index(txn) for anchor in anchors] == [0, 1, 2, 3]
    after = list(fragment(current).children)
    assert [node for node in after if node in kept] == kept
    assert len(after) - len(kept) == 3
    # The kept text is the live one: an edit through it shows in the document.
    text.insert(0, "Z")
    assert blocks(current)[UNCHANGED].text.startswith("ZNOTE")


def merged(delta: list[tuple[Any, dict[str, Any] | None]]) -> list[tuple[Any, dict[str, Any]]]:
    """A delta with neighbouring strings of equal formatting joined, as a reader sees it."""
    out: list[tuple[Any, dict[str, Any]]] = []
    for value, attrs in delta:
        if (
            out
            and isinstance(value, str)
            and isinstance(out[-1][0], str)
            and out[-1][1] == (attrs or {})
        ):
            out[-1] = (out[-1][0] + value, out[-1][1])
        else:
            out.append((value, attrs or {}))
    return out


@pytest.mark.parametrize("known", [True, False], ids=["kinds-known", "kinds-from-items"])
def test_other_roots_are_made_equal(known: bool) -> None:
    """Roots besides ``default``, whether the documents were asked for them by type or not
    (a room's document is built from updates alone and knows no root's kind)."""
    target_doc: Doc[Any] = Doc(client_id=TARGET_CLIENT)
    target_doc.get("notes", type=Text).insert(0, "héllo 😀 world", {"italic": {}})
    target_doc.get("meta", type=Map).update({"title": "Plan", "n": 2, "tags": ["a"]})
    target_doc.get("list", type=Array).extend([1, "two", Map({"three": 3})])
    current_doc: Doc[Any] = Doc(client_id=EDITOR_CLIENT)
    current_doc.apply_update(target_doc.get_update())
    notes = current_doc.get("notes", type=Text)
    notes.insert(3, "X", {"bold": {}})
    del notes[0:1]
    meta = current_doc.get("meta", type=Map)
    meta["title"] = "Other"
    meta["extra"] = Array([1])
    del meta["n"]
    items = current_doc.get("list", type=Array)
    items.append(4)
    del items[0]
    current = Document()
    if known:
        current.ydoc.get("notes", type=Text)
        current.ydoc.get("meta", type=Map)
        current.ydoc.get("list", type=Array)
    current.apply_update(current_doc.get_update())
    target = Document([target_doc.get_update()])
    update = restore_update(current, target)
    replica = Document([current.full_state()])
    for doc in (current, replica):
        doc.apply_update(update)
        assert merged(doc.ydoc.get("notes", type=Text).diff()) == merged(target_doc["notes"].diff())
        assert doc.ydoc.get("meta", type=Map).to_py() == target_doc["meta"].to_py()
        assert doc.ydoc.get("list", type=Array).to_py() == target_doc["list"].to_py()
    assert restore_update(current, target) == EMPTY_UPDATE


def test_a_root_emptied_in_the_target_is_emptied() -> None:
    doc: Doc[Any] = Doc(client_id=EDITOR_CLIENT)
    doc.get("notes", type=Text).insert(0, "gone")
    current = Document([doc.get_update()])
    update = restore_update(current, Document())
    current.apply_update(update)
    assert str(current.ydoc.get("notes", type=Text)) == ""
    assert restore_update(current, Document()) == EMPTY_UPDATE


def test_a_long_document_with_a_few_changes() -> None:
    target = document(*(p(f"paragraph {i}", (" bold", BOLD)) for i in range(3000)))
    editor: Doc[Any] = Doc(client_id=EDITOR_CLIENT)
    editor.apply_update(target.full_state())
    root = editor.get("default", type=XmlFragment)
    with editor.transaction():
        for index in (2500, 1500, 10):
            del root.children[index]
            write(root, p("changed"), index)
    current = Document([editor.get_update()])
    changes = diff_blocks(blocks(current), blocks(target))
    assert [(c.change, c.old_index) for c in changes] == [
        ("changed", 10),
        ("changed", 1500),
        ("changed", 2500),
    ]
    _, _, update = restored(current, target)
    assert len(update) < len(target.full_state()) // 100


# -- property: restore of random edits ------------------------------------------------------------

ALPHABET = "abc é😀"
words = st.text(ALPHABET, min_size=1, max_size=6)
marks: st.SearchStrategy[Marks] = st.sampled_from(
    [{}, {"bold": {}}, {"italic": {}}, {"bold": {}, "italic": {}}]
)
runs = st.lists(st.tuples(words, marks), min_size=1, max_size=3)
paragraphs = runs.map(lambda r: El("paragraph", [Tx(r)]))
headings = st.builds(
    lambda level, r: El("heading", [Tx(r)], {"level": level}), st.integers(1, 3), runs
)
cells = st.builds(
    lambda tag, colspan, body: El(tag, [body], {"colspan": colspan} if colspan > 1 else {}),
    st.sampled_from(["tableCell", "tableHeader"]),
    st.integers(1, 2),
    paragraphs,
)
tables = st.lists(st.lists(cells, min_size=1, max_size=2), min_size=1, max_size=2).map(
    lambda rows: El("table", [El("tableRow", list(row)) for row in rows])
)
list_blocks = st.recursive(
    st.lists(paragraphs, min_size=1, max_size=2).map(
        lambda ps: El("bulletList", [El("listItem", [x]) for x in ps])
    ),
    lambda inner: st.lists(st.tuples(paragraphs, inner), min_size=1, max_size=2).map(
        lambda items: El("bulletList", [El("listItem", [x, sub]) for x, sub in items])
    ),
    max_leaves=3,
)
block_nodes = st.one_of(paragraphs, headings, tables, list_blocks)


@st.composite
def edit(draw: st.DrawFn, root: XmlFragment) -> None:
    """One edit of ``root``, of a kind people make in an editor."""
    children = list(root.children)
    kind = draw(
        st.sampled_from(["insert", "delete", "replace", "type", "erase", "format", "attribute"])
    )
    if kind == "insert" or not children:
        write(root, draw(block_nodes), draw(st.integers(0, len(children))))
        return
    index = draw(st.integers(0, len(children) - 1))
    if kind == "delete":
        del root.children[index]
    elif kind == "replace":
        del root.children[index]
        write(root, draw(block_nodes), index)
    elif kind == "attribute":
        elements = [children[index], *_elements(children[index])]
        element = draw(st.sampled_from(elements))
        assert isinstance(element, XmlElement)
        element.attributes[draw(st.sampled_from(["level", "colspan", "x"]))] = draw(
            st.integers(1, 3) | st.just("v")
        )
    else:
        text = draw(st.sampled_from(list(texts(children[index]))))
        content = str_of(text)
        at = draw(st.integers(0, len(content)))
        start = len(content[:at].encode())
        if kind == "type":
            text.insert(start, draw(words), draw(marks))
        elif content:
            end = len(content[: draw(st.integers(at, len(content)))].encode())
            if kind == "erase" and end > start:
                del text[start:end]
            elif end > start:
                text.format(start, end, dict(draw(marks.filter(bool))))


def _elements(node: XmlElement | XmlText | XmlFragment) -> Iterator[XmlElement]:
    if not isinstance(node, XmlText):
        for child in node.children:
            if isinstance(child, XmlElement):
                yield child
                yield from _elements(child)


def str_of(text: XmlText) -> str:
    return "".join(value for value, _ in text.diff() if isinstance(value, str))


def common_ends(old: list[str], new: list[str]) -> int:
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return start + end


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(block_nodes, max_size=6), st.data())
def test_restore_of_random_edits(target_nodes: list[El], data: st.DataObject) -> None:
    target = document(*target_nodes)
    editor: Doc[Any] = Doc(client_id=EDITOR_CLIENT)
    editor.apply_update(target.full_state())
    root = editor.get("default", type=XmlFragment)
    for _ in range(data.draw(st.integers(1, 5))):
        with editor.transaction():
            data.draw(edit(root))
    current = Document([editor.get_update()])
    old = blocks(current)
    changes = diff_blocks(old, blocks(target))
    untouched = {i for i in range(len(old))} - {c.old_index for c in changes}
    held = [node for i, node in enumerate(fragment(current).children) if i in untouched]
    assert [b.key for i, b in enumerate(old) if i in untouched] == [
        b.key for j, b in enumerate(blocks(target)) if j not in {c.new_index for c in changes}
    ]
    _, replica, _ = restored(current, target)
    after = list(fragment(current).children)
    assert [node for node in after if node in held] == held
    assert len(after) == len(held) + sum(c.new is not None for c in changes)
    # Independently of the alignment: the blocks before the first difference and after the
    # last one are never replaced.
    assert len(held) >= common_ends([b.key for b in old], keys(target))
    assert keys(replica) == keys(target)
