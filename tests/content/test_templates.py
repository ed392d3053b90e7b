"""Templates: real ProseMirror structure in the ``default`` XmlFragment, as TipTap stores it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from content import TEMPLATES, Template, build_template
from crdt import EMPTY_UPDATE, Document, validate_update

NAMES = ["blank", "assap-plan", "training-course", "research-proposal"]
"""The English templates, by the names documents were created with before translations."""
ALL = [*NAMES, *(f"{n}-fr" for n in NAMES), *(f"{n}-es" for n in NAMES)]
"""Every template: English first, then French, then Spanish, each in menu order."""


@dataclass
class Node:
    """An element as a TipTap client reads it, or (tag ``#text``) a text with its marks."""

    tag: str
    attrs: dict[str, object] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    delta: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    @property
    def text(self) -> str:
        if self.tag == "#text":
            return "".join(chunk for chunk, _ in self.delta)
        return "".join(child.text for child in self.children)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


def read(parent: XmlFragment | XmlElement) -> list[Node]:
    nodes = []
    for child in parent.children:
        if isinstance(child, XmlText):
            nodes.append(Node("#text", delta=[(str(v), dict(a or {})) for v, a in child.diff()]))
        else:
            assert isinstance(child, XmlElement)
            attrs = dict(child.attributes.__iter__())
            nodes.append(Node(child.tag or "", attrs, read(child)))
    return nodes


def content(name: str) -> list[Node]:
    """Apply the template to a fresh document and read the fragment back."""
    doc: Doc[XmlFragment] = Doc()
    doc.apply_update(build_template(name))
    return read(doc.get("default", type=XmlFragment))


def headings(nodes: list[Node]) -> list[tuple[int, str]]:
    return [(int(str(n.attrs["level"]).split(".")[0]), n.text) for n in nodes if n.tag == "heading"]


def section(nodes: list[Node], title: str) -> list[Node]:
    """The nodes after the heading ``title`` up to the next heading of the same or higher rank."""
    start = next(i for i, n in enumerate(nodes) if n.tag == "heading" and n.text == title)
    level = nodes[start].attrs["level"]
    end = next(
        (
            i
            for i in range(start + 1, len(nodes))
            if nodes[i].tag == "heading"
            and float(str(nodes[i].attrs["level"])) <= float(str(level))
        ),
        len(nodes),
    )
    return nodes[start + 1 : end]


def first_table(nodes: list[Node]) -> list[list[Node]]:
    table = next(n for n in nodes if n.tag == "table")
    return [row.children for row in table.children]


def header(rows: list[list[Node]]) -> list[str]:
    assert all(cell.tag == "tableHeader" for cell in rows[0])
    return [cell.text for cell in rows[0]]


# -- the registry ---------------------------------------------------------------------------------


def test_templates_registry() -> None:
    assert list(TEMPLATES)[: len(NAMES)] == NAMES
    assert list(TEMPLATES) == ALL
    for name, template in TEMPLATES.items():
        assert isinstance(template, Template)
        assert template.name == name
        assert template.title and template.description
        assert template.name == (
            template.kind if template.language == "en" else f"{template.kind}-{template.language}"
        )
    with pytest.raises(TypeError):
        TEMPLATES["x"] = TEMPLATES["blank"]  # type: ignore[index]


def test_unknown_template_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match="unknown template 'nope'") as caught:
        build_template("nope")
    for name in NAMES:
        assert name in str(caught.value)


@pytest.mark.parametrize("name", ALL)
def test_builds_a_valid_deterministic_update(name: str) -> None:
    update = build_template(name)
    validate_update(update)
    assert build_template(name) == update
    assert Document([update]).state_vector() == validate_update(update)


@pytest.mark.parametrize("name", ALL)
def test_applying_twice_changes_nothing(name: str) -> None:
    once = Document([build_template(name)])
    twice = Document([build_template(name), build_template(name)])
    assert twice.state_vector() == once.state_vector()
    # Not str(fragment): pycrdt prints an element's attributes in no fixed order.
    assert twice.full_state() == once.full_state()


def test_blank_is_empty() -> None:
    assert build_template("blank") == EMPTY_UPDATE
    assert content("blank") == []


# -- the shape TipTap's schema accepts ------------------------------------------------------------

BLOCKS = {"paragraph", "heading", "bulletList", "table"}


def check_block(node: Node) -> None:
    assert node.tag in BLOCKS, node.tag
    if node.tag in {"paragraph", "heading"}:
        assert all(child.tag == "#text" for child in node.children)
        assert len(node.children) <= 1, "y-prosemirror keeps a textblock's text in one XmlText"
        for child in node.children:
            assert child.delta and all(chunk for chunk, _ in child.delta)
            for _, marks in child.delta:
                assert set(marks) <= {"bold", "italic"}
                assert all(value == {} for value in marks.values())
    if node.tag == "heading":
        level = node.attrs["level"]
        assert not isinstance(level, str), "a Yjs client must read a number"
        assert level in {1, 2, 3}
    elif node.tag == "paragraph":
        assert node.attrs == {}
    elif node.tag == "bulletList":
        assert node.children and all(item.tag == "listItem" for item in node.children)
        for item in node.children:
            assert item.children[0].tag == "paragraph"
            for block in item.children:
                check_block(block)
    elif node.tag == "table":
        widths = set()
        for row in node.children:
            assert row.tag == "tableRow" and row.children
            width = 0
            for cell in row.children:
                assert cell.tag in {"tableHeader", "tableCell"}
                # Both spans on every cell: y-prosemirror writes them if they are missing.
                assert set(cell.attrs) == {"colspan", "rowspan"}
                assert cell.attrs["rowspan"] == 1
                width += int(float(str(cell.attrs.get("colspan", 1))))
                assert cell.children
                for block in cell.children:
                    check_block(block)
            widths.add(width)
        assert len(widths) == 1, "every row spans the same number of columns"


@pytest.mark.parametrize("name", ALL)
def test_content_fits_the_tiptap_schema(name: str) -> None:
    for node in content(name):
        check_block(node)


def direct_body(nodes: list[Node], index: int) -> list[Node]:
    """The nodes between heading ``index`` and the next heading of any level."""
    end = next((i for i in range(index + 1, len(nodes)) if nodes[i].tag == "heading"), len(nodes))
    return nodes[index + 1 : end]


@pytest.mark.parametrize("name", [n for n in ALL if TEMPLATES[n].kind != "blank"])
def test_every_section_has_guidance(name: str) -> None:
    nodes = content(name)
    assert nodes[0].tag == "heading" and nodes[0].attrs["level"] == 1
    for index, node in enumerate(nodes):
        if node.tag == "heading":
            body = direct_body(nodes, index)
            assert any(n.tag in {"paragraph", "bulletList"} and n.text.strip() for n in body), (
                f"no guidance under {node.text!r}"
            )


# -- the ASSAP plan -------------------------------------------------------------------------------

ASSAP_SECTIONS = [
    (2, "0 Metadata"),
    (2, "1 Executive summary"),
    (2, "2 Context"),
    (2, "3 Process and governance"),
    (2, "4 Diagnosis"),
    (3, "4.1 Scheme inventory"),
    (3, "4.2 Coverage-gap matrix"),
    (3, "4.3 Lessons from past extension"),
    (2, "5 Principles and SMART objectives"),
    (2, "6 Priorities and sequencing"),
    (2, "7 Mechanisms and linkages"),
    (2, "8 Institutional roles"),
    (2, "9 Costing and financing"),
    (2, "10 Action plan"),
    (2, "11 Monitoring and evaluation"),
    (2, "12 Communication and risks"),
]

POPULATION_GROUPS = [
    "Formal private sector",
    "Public sector",
    "Self-employed and informal",
    "Rural",
    "Poor",
    "Persons with disabilities",
    "Migrants",
]

GROUPING = {
    "health care": ["medical care", "maternity"],
    "children": ["family"],
    "working age": [
        "sickness",
        "unemployment",
        "employment injury",
        "invalidity",
        "social assistance",
    ],
    "older persons": ["old-age", "survivors"],
}


def test_assap_has_every_section_in_order() -> None:
    found = headings(content("assap-plan"))
    assert found[0][0] == 1
    assert found[1:] == ASSAP_SECTIONS


def test_assap_metadata_and_context() -> None:
    nodes = content("assap-plan")
    metadata = first_table(section(nodes, "0 Metadata"))
    assert [row[0].text for row in metadata[1:]] == [
        "Country",
        "Lead ministry",
        "Period",
        "Version",
        "Status",
    ]
    status = " ".join(n.text for n in section(nodes, "0 Metadata"))
    for step in ("draft", "validated in dialogue", "adopted by Government", "by Parliament"):
        assert step in status
    context = " ".join(n.text for n in section(nodes, "2 Context"))
    for topic in (
        "Demography",
        "informality",
        "Fiscal space",
        "National development plan",
        "C102",
    ):
        assert topic in context
    process = " ".join(n.text for n in section(nodes, "3 Process and governance"))
    for part in ("Steering committee", "Technical working group", "Consultation log"):
        assert part in process


def test_assap_labels_are_bold() -> None:
    context = section(content("assap-plan"), "2 Context")
    first = context[0].children[0].delta
    assert first[0] == ("Demography:", {"bold": {}})
    assert first[1][1] == {}


def test_assap_scheme_inventory_has_the_abnd_columns() -> None:
    rows = first_table(section(content("assap-plan"), "4.1 Scheme inventory"))
    assert header(rows) == [
        "Scheme",
        "Legal framework",
        "Responsible body",
        "Target group",
        "Eligibility",
        "Population covered",
        "Benefits",
        "Financing",
    ]
    assert len(rows) == 2 and all(cell.tag == "tableCell" for cell in rows[1])


def test_assap_coverage_gap_matrix() -> None:
    rows = first_table(section(content("assap-plan"), "4.2 Coverage-gap matrix"))
    assert header(rows)[1:] == POPULATION_GROUPS

    groups = [row for row in rows[1:] if len(row) == 1]
    branches = [row for row in rows[1:] if len(row) > 1]
    assert len(groups) == 4
    assert len(branches) == 10
    assert len(rows) == 1 + 4 + 10

    for row in groups:
        (cell,) = row
        assert cell.tag == "tableHeader"
        assert cell.attrs == {"colspan": 1 + len(POPULATION_GROUPS), "rowspan": 1}
    for row in branches:
        assert len(row) == 1 + len(POPULATION_GROUPS)
        assert row[0].tag == "tableHeader"
        for cell in row[1:]:
            assert cell.tag == "tableCell"
            assert [block.tag for block in cell.children] == ["paragraph"]

    grouped: dict[str, list[str]] = {}
    current = ""
    for row in rows[1:]:
        if len(row) == 1:
            current = row[0].text
            grouped[current] = []
        else:
            grouped[current].append(row[0].text.lower())
    assert [title.split(":")[0] for title in grouped] == [f"Guarantee {i}" for i in range(1, 5)]
    for (title, found), (keyword, expected) in zip(grouped.items(), GROUPING.items(), strict=True):
        assert keyword in title
        assert len(found) == len(expected)
        for branch, label in zip(expected, found, strict=True):
            assert label.startswith(branch) or branch in label, (branch, label)


def test_assap_matrix_cell_guidance() -> None:
    text = " ".join(n.text for n in section(content("assap-plan"), "4.2 Coverage-gap matrix"))
    for item in ("schemes", "legal coverage", "effective coverage", "adequacy", "issue"):
        assert item in text


def test_assap_action_plan_and_monitoring() -> None:
    nodes = content("assap-plan")
    assert header(first_table(section(nodes, "10 Action plan"))) == [
        "Activity",
        "Output",
        "Lead",
        "Partners",
        "Timeline",
        "Budget",
        "Funding source",
        "Status",
    ]
    monitoring = first_table(section(nodes, "11 Monitoring and evaluation"))
    assert header(monitoring) == ["Indicator", "Baseline", "Target", "Source"]
    assert monitoring[1][0].text.startswith("SDG 1.3.1")
    roles = first_table(section(nodes, "8 Institutional roles"))
    actors = " ".join(row[0].text for row in roles[1:]).lower()
    for actor in ("employment", "health", "social protection", "finance", "social security funds"):
        assert actor in actors
    for actor in ("mutuals", "ngos", "social partners", "donors", "local government"):
        assert actor in actors


# -- the training course and the research proposal ------------------------------------------------


def test_training_course_has_every_element() -> None:
    nodes = content("training-course")
    titles = [title for _, title in headings(nodes)]
    for title in (
        "Learning outcomes",
        "Methodology",
        "Assessment and certificate",
        "Modules",
        "Trainers",
        "Agenda",
        "Participant evaluation",
        "Materials change log",
    ):
        assert title in titles
    details = first_table(nodes)
    assert [row[0].text for row in details[1:]] == [
        "Title",
        "Delivery mode",
        "Language",
        "Dates",
        "Audience",
        "Prerequisites",
    ]
    methodology = " ".join(n.text for n in section(nodes, "Methodology")).lower()
    for method in ("case study", "group work", "simulated national dialogue"):
        assert method in methodology
    module = section(nodes, "Module 1: title")
    labels = [n.children[0].delta[0][0] for n in module if n.tag == "paragraph" and n.children]
    assert labels == [
        "Objectives:",
        "Key questions:",
        "Take-away message:",
        "Materials:",
        "ASSAP step served:",
        "Branches covered:",
    ]
    materials = next(n for n in module if n.tag == "bulletList")
    assert [item.text for item in materials.children] == [
        "Text",
        "Slides",
        "Case study, with its solutions",
    ]


def test_research_proposal_has_every_element() -> None:
    nodes = content("research-proposal")
    assert [title for _, title in headings(nodes)] == [
        "Research proposal",
        "Title and team",
        "Background and policy context",
        "Knowledge gap",
        "Objectives and hypotheses",
        "Method and data",
        "Expected results and policy relevance",
        "Dissemination and policy engagement",
        "Capacity building",
        "Ethics and data protection",
        "Timetable",
        "Budget",
    ]
    assert "sex" in " ".join(n.text for n in section(nodes, "Method and data"))
    assert header(first_table(section(nodes, "Budget")))[0] == "Item"
    objectives = " ".join(n.text for n in section(nodes, "Objectives and hypotheses"))
    assert "objective" in objectives and "Hypotheses" in objectives


@pytest.mark.parametrize("name", [n for n in ALL if TEMPLATES[n].kind != "blank"])
def test_a_template_ends_with_an_empty_paragraph(name: str) -> None:
    # TipTap's trailing-node rule would otherwise add one when the document is opened.
    assert content(name)[-1] == Node("paragraph")
