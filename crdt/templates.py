"""Document templates: the structured content a new document can start from.

A template is written into the ``XmlFragment`` named ``default`` the way TipTap's Collaboration
extension (y-prosemirror) stores a ProseMirror document, so that an editor opens it as if a
user had typed it:

- every node is an ``XmlElement`` named after its ProseMirror type: ``heading``, ``paragraph``,
  ``bulletList`` > ``listItem`` > ``paragraph``, ``table`` > ``tableRow`` > ``tableHeader`` |
  ``tableCell`` > ``paragraph``;
- node attributes are element attributes holding the JavaScript value: ``heading.level``,
  ``colspan`` and ``rowspan`` are numbers (a Yjs client reads ``2``, not ``"2"``; pycrdt reads
  every number back as a ``float``). y-prosemirror compares an element's attributes with the
  ProseMirror node's, defaults included, whenever it writes that node back: a table cell
  stored without ``colspan``/``rowspan`` gets ``colspan=1 rowspan=1`` written the first time
  someone types in it. So every cell carries both; attributes whose default is ``null``
  (``colwidth``) are left out, since y-prosemirror removes rather than writes those;
- the text of a textblock is one ``XmlText`` whose formatting attributes are the marks, each
  mapped to the mark's attributes: ``{"bold": {}}``, ``{"italic": {}}``;
- a document that has content ends with an empty paragraph: TipTap's StarterKit (its trailing
  node rule) appends one after a final table, so opening a template that ended with a table
  would write to it.

The coverage-gap matrix of the ASSAP plan groups the nine branches of ILO Convention No. 102
and general social assistance under the four guarantees of Recommendation No. 202
(paragraph 5) as follows, one row per branch:

- essential health care, including maternity care: medical care, maternity. Maternity goes here
  because the Recommendation names maternity care in this guarantee; the template asks for the
  gaps in maternity cash benefits to be recorded in the same row;
- basic income security for children: family;
- basic income security for people of working age unable to earn enough: sickness,
  unemployment, employment injury, invalidity, and general social assistance (the last resort
  for those of working age whom no other branch covers);
- basic income security for older persons: old-age, survivors.

A group header row is a single ``tableHeader`` cell spanning the table (``colspan`` 8) that
names the guarantee.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

__all__ = ["TEMPLATES", "Template", "build_template"]

_FRAGMENT: Final = "default"
"""The root ``XmlFragment`` TipTap's Collaboration extension edits unless told otherwise."""

_CLIENT_ID: Final = 0x47455353
"""The client that writes every template ("GESS" in ASCII).

Fixed so that a template always encodes to the same bytes: applying it twice to a document is
a no-op the second time. A Yjs client that drew the same id renews it when it sees it used.
"""


@dataclass(frozen=True, slots=True)
class Template:
    """A template a new document can start from.

    Attributes:
        name: the key in :data:`TEMPLATES` and the argument of :func:`build_template`.
        title: a short human title, for a menu.
        description: one sentence saying what the document is for.
    """

    name: str
    title: str
    description: str


# -- a small ProseMirror tree, written into a Yjs document by _write ------------------------------


@dataclass(frozen=True, slots=True)
class _Run:
    text: str
    marks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Node:
    tag: str
    attrs: tuple[tuple[str, int | str], ...] = ()
    children: tuple[_Node, ...] = ()
    text: tuple[_Run, ...] = ()


_Inline = str | _Run


def _bold(text: str) -> _Run:
    return _Run(text, ("bold",))


def _italic(text: str) -> _Run:
    return _Run(text, ("italic",))


def _p(*parts: _Inline) -> _Node:
    runs = tuple(part if isinstance(part, _Run) else _Run(part) for part in parts)
    return _Node("paragraph", text=tuple(run for run in runs if run.text))


def _h(level: int, text: str) -> _Node:
    return _Node("heading", (("level", level),), text=(_Run(text),))


def _field(label: str, guidance: str) -> _Node:
    """A paragraph that starts with a bold label: ``**Label:** guidance``."""
    return _p(_bold(f"{label}:"), f" {guidance}" if guidance else "")


def _ul(*items: _Inline | tuple[_Inline, ...]) -> _Node:
    return _Node(
        "bulletList",
        children=tuple(
            _Node("listItem", children=(_p(*(item if isinstance(item, tuple) else (item,))),))
            for item in items
        ),
    )


def _cell(tag: str, text: str = "", colspan: int = 1) -> _Node:
    return _Node(tag, (("colspan", colspan), ("rowspan", 1)), (_p(text),))


def _row(*cells: _Node) -> _Node:
    return _Node("tableRow", children=cells)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]] = (), blank_rows: int = 1) -> _Node:
    """A table with a header row, the given rows, then ``blank_rows`` empty rows to fill in."""
    body = [*rows, *([""] * len(header) for _ in range(blank_rows))]
    return _Node(
        "table",
        children=(
            _row(*(_cell("tableHeader", text) for text in header)),
            *(_row(*(_cell("tableCell", text) for text in row)) for row in body),
        ),
    )


def _write(parent: XmlFragment | XmlElement, node: _Node) -> None:
    element = parent.children.append(XmlElement(node.tag))
    for key, value in node.attrs:
        element.attributes[key] = value
    if node.text:
        text = element.children.append(XmlText("".join(run.text for run in node.text)))
        start = 0
        for run in node.text:
            if run.marks:
                text.format(start, start + len(run.text), {mark: {} for mark in run.marks})
            start += len(run.text)
    for child in node.children:
        _write(element, child)


# -- the ASSAP plan -------------------------------------------------------------------------------

_POPULATION_GROUPS: Final = (
    "Formal private sector",
    "Public sector",
    "Self-employed and informal",
    "Rural",
    "Poor",
    "Persons with disabilities",
    "Migrants",
)
"""The columns of the coverage-gap matrix."""

_GUARANTEES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    (
        "Guarantee 1: essential health care, including maternity care",
        ("Medical care (C102 Part II)", "Maternity (C102 Part VIII): care and cash benefits"),
    ),
    ("Guarantee 2: basic income security for children", ("Family (C102 Part VII)",)),
    (
        "Guarantee 3: basic income security for people of working age unable to earn enough",
        (
            "Sickness (C102 Part III)",
            "Unemployment (C102 Part IV)",
            "Employment injury (C102 Part VI)",
            "Invalidity (C102 Part IX)",
            "General social assistance",
        ),
    ),
    (
        "Guarantee 4: basic income security for older persons",
        ("Old-age (C102 Part V)", "Survivors (C102 Part X)"),
    ),
)
"""The rows of the coverage-gap matrix: each guarantee of R202 and the branches under it."""


def _coverage_gap_matrix() -> _Node:
    width = 1 + len(_POPULATION_GROUPS)
    rows = [_row(*(_cell("tableHeader", t) for t in ("Branch", *_POPULATION_GROUPS)))]
    for guarantee, branches in _GUARANTEES:
        rows.append(_row(_cell("tableHeader", guarantee, colspan=width)))
        for branch in branches:
            rows.append(
                _row(
                    _cell("tableHeader", branch), *(_cell("tableCell") for _ in _POPULATION_GROUPS)
                )
            )
    return _Node("table", children=tuple(rows))


def _assap_plan() -> list[_Node]:
    return [
        _h(1, "Adapted Social Security strategy and Action Plan (ASSAP)"),
        _p(
            _italic(
                "The country's plan to extend social security coverage. Technical teams draft "
                "it, social dialogue validates it, Government and Parliament adopt it. Replace "
                "the guidance in each section with the plan's text."
            )
        ),
        _h(2, "0 Metadata"),
        _table(
            ("Field", "Value"),
            (
                ("Country", ""),
                ("Lead ministry", ""),
                ("Period", ""),
                ("Version", "0.1"),
                ("Status", "Draft"),
            ),
            blank_rows=0,
        ),
        _p(
            "Status goes from draft to validated in dialogue, then adopted by Government, then "
            "adopted by Parliament. Record the date of each step."
        ),
        _h(2, "1 Executive summary"),
        _p(
            "Write this last, on one page: the main coverage gaps, the priorities chosen, the "
            "mechanisms, what it costs and who pays, and who does what by when."
        ),
        _h(2, "2 Context"),
        _field("Demography", "population, age structure and projections, urban and rural."),
        _field(
            "Labour market and informality",
            "employment by status and sector, the share of informal employment by sex, "
            "unemployment and underemployment.",
        ),
        _field(
            "Fiscal space",
            "revenue, current social protection spending, and room for new spending.",
        ),
        _field(
            "National development plan",
            "where social protection sits in it and which of its targets this plan serves.",
        ),
        _field(
            "Ratified C102 Parts",
            "the Parts (II to X) of ILO Convention No. 102 the country has accepted, and other "
            "social security conventions it has ratified.",
        ),
        _h(2, "3 Process and governance"),
        _field(
            "Steering committee",
            "chair, member ministries, social partners and civil society; mandate; meetings.",
        ),
        _field(
            "Technical working group",
            "members, the institution that leads it, terms of reference.",
        ),
        _field("Consultation log", "every meeting and workshop of the national dialogue."),
        _table(("Date", "Meeting or workshop", "Participants", "Topics", "Outcome")),
        _h(2, "4 Diagnosis"),
        _p(
            "What exists, who is protected in law and in practice, and what past attempts to "
            "extend coverage have taught."
        ),
        _h(3, "4.1 Scheme inventory"),
        _p(
            "One row per scheme, contributory or not, public or community-based: the columns of "
            "the Assessment-Based National Dialogue (ABND) inventory."
        ),
        _table(
            (
                "Scheme",
                "Legal framework",
                "Responsible body",
                "Target group",
                "Eligibility",
                "Population covered",
                "Benefits",
                "Financing",
            )
        ),
        _h(3, "4.2 Coverage-gap matrix"),
        _p(
            "Rows: the nine branches of ILO Convention No. 102 and general social assistance, "
            "grouped under the four guarantees of the social protection floor (Recommendation "
            "No. 202). Columns: population groups. In each cell record:"
        ),
        _ul(
            "the schemes that cover the group;",
            "legal coverage: full, partial or none;",
            "effective coverage: the percentage of the group actually protected;",
            "adequacy of the benefits;",
            "the main issue: the gap, its cause and the evidence.",
        ),
        _p(
            "Record gaps in maternity cash benefits in the maternity row, under health care, "
            "where Recommendation No. 202 places maternity care."
        ),
        _coverage_gap_matrix(),
        _h(3, "4.3 Lessons from past extension"),
        _p(
            "What was tried before, here or in comparable countries: what worked, what failed "
            "and why (design, financing, administration, trust). Link the experiences recorded "
            "in this workspace."
        ),
        _h(2, "5 Principles and SMART objectives"),
        _p("The principles the plan commits to, from Recommendation No. 202, for example:"),
        _ul(
            "universality of protection, based on social solidarity;",
            "adequacy and predictability of benefits, as rights prescribed by law;",
            "non-discrimination, gender equality and responsiveness to special needs;",
            "progressive realisation, with targets and time frames;",
            "social inclusion, including of workers in the informal economy;",
            "tripartite participation and consultation of the people concerned.",
        ),
        _p(
            "Then the objectives, each specific, measurable, achievable, relevant and "
            "time-bound, and each answering a gap in the matrix. ",
            _italic(
                "Example: by 2030, 60% of self-employed workers are members of a health "
                "insurance scheme (baseline 2024: 12%)."
            ),
        ),
        _h(2, "6 Priorities and sequencing"),
        _p("Which gaps to close first, and in what order, given cost, capacity and urgency."),
        _ul(
            (
                _bold("Horizontal extension:"),
                " covering more people, the groups not yet protected.",
            ),
            (
                _bold("Vertical extension:"),
                " better benefits for those covered: more branches, higher and more "
                "predictable benefits, towards the levels of Convention No. 102.",
            ),
        ),
        _p("For each phase: the groups and branches targeted, why, and when the next one starts."),
        _h(2, "7 Mechanisms and linkages"),
        _p("For each priority, the mechanism that delivers it:"),
        _ul(
            "social insurance, financed by contributions;",
            "micro-insurance and mutual health organisations;",
            "universal benefits, financed by taxes;",
            "social assistance, targeted at the poor and vulnerable.",
        ),
        _p(
            "Then the linkages between them, for example the state paying the contributions of "
            "poor households to a mutual health organisation."
        ),
        _h(2, "8 Institutional roles"),
        _p("Who leads, who implements and who is consulted, for each part of the plan."),
        _table(
            ("Actor", "Role: leads, implements or consulted", "Responsibilities"),
            tuple(
                (actor, "", "")
                for actor in (
                    "Ministry of employment",
                    "Ministry of health",
                    "Ministry of social protection",
                    "Ministry of finance",
                    "Social security funds",
                    "Mutuals and cooperatives",
                    "NGOs and civil society",
                    "Social partners",
                    "Donors",
                    "Local government",
                )
            ),
            blank_rows=0,
        ),
        _h(2, "9 Costing and financing"),
        _p(
            "Cost each measure year by year over the plan period, for example with the ILO "
            "Rapid Assessment Protocol (RAP), as a share of GDP and of government spending."
        ),
        _ul(
            "Sources: contributions, taxes, reallocated spending, development partners.",
            "Fiscal space: what the budget can sustain as the economy grows.",
            "Financing gap: what is not yet funded, and how it will be.",
        ),
        _h(2, "10 Action plan"),
        _p("One row per activity. Status: planned, under way, done or delayed."),
        _table(
            (
                "Activity",
                "Output",
                "Lead",
                "Partners",
                "Timeline",
                "Budget",
                "Funding source",
                "Status",
            )
        ),
        _h(2, "11 Monitoring and evaluation"),
        _p(
            "One indicator per objective, disaggregated by sex, age, disability and population "
            "group where the data allow."
        ),
        _table(
            ("Indicator", "Baseline", "Target", "Source"),
            (
                (
                    "SDG 1.3.1: proportion of the population covered by social protection "
                    "floors or systems, by sex",
                    "",
                    "",
                    "ILO World Social Protection Database; administrative data",
                ),
            ),
        ),
        _p("Plan a mid-term review and a final evaluation: who carries them out, and when."),
        _h(2, "12 Communication and risks"),
        _p(
            "How the plan is explained to the public, to the people it will cover and to the "
            "institutions that run it; how feedback and complaints are handled."
        ),
        _table(("Risk", "Likelihood", "Impact", "Mitigation", "Owner")),
    ]


# -- the training course and the research proposal ------------------------------------------------


def _training_course() -> list[_Node]:
    return [
        _h(1, "Training course"),
        _p(
            _italic(
                "One page per course: what it teaches, to whom, how, and with which materials. "
                "Replace the guidance with the course's text."
            )
        ),
        _table(
            ("Field", "Value"),
            (
                ("Title", ""),
                ("Delivery mode", "Face-to-face, online or blended"),
                ("Language", ""),
                ("Dates", ""),
                ("Audience", ""),
                ("Prerequisites", ""),
            ),
            blank_rows=0,
        ),
        _h(2, "Learning outcomes"),
        _p("By the end of the course, participants can:"),
        _ul(
            "map the coverage gaps of a country by branch and population group;",
            "compare the mechanisms for extending coverage and the linkages between them;",
            "cost and sequence a priority measure of an action plan;",
            "take part in a national dialogue on extending social security.",
        ),
        _h(2, "Methodology"),
        _ul(
            (_bold("Case study:"), " a country's situation, worked through with the tools."),
            (_bold("Group work:"), " groups prepare part of a plan and present it."),
            (
                _bold("Simulated national dialogue:"),
                " participants play ministries, social partners, mutuals and donors and "
                "negotiate a priority.",
            ),
        ),
        _h(2, "Assessment and certificate"),
        _p(
            "How learning is assessed (quiz, group assignment, presentation) and what earns the "
            "certificate (attendance, pass mark)."
        ),
        _h(2, "Modules"),
        _p("Copy the module below once per module."),
        _h(3, "Module 1: title"),
        _field("Objectives", "what participants can do after this module."),
        _field("Key questions", "the questions the module answers."),
        _field("Take-away message", "the one idea to remember."),
        _field("Materials", ""),
        _ul("Text", "Slides", "Case study, with its solutions"),
        _field("ASSAP step served", "diagnosis, priorities, mechanisms, costing, action plan…"),
        _field("Branches covered", "of the nine branches of Convention No. 102."),
        _h(2, "Trainers"),
        _p("Who teaches which module."),
        _table(("Name", "Institution", "Modules", "Contact")),
        _h(2, "Agenda"),
        _p("Session by session; leave time for group work and the simulated dialogue."),
        _table(("Day", "Time", "Session", "Module", "Trainer")),
        _h(2, "Participant evaluation"),
        _p("Ask participants, at the end of each day and of the course, to rate:"),
        _ul(
            "relevance to their work;",
            "the materials and the trainers;",
            "how far they reached the learning outcomes;",
            "what should change.",
        ),
        _h(2, "Materials change log"),
        _p("Every change to a text, slide deck or case study, so that trainers use the latest."),
        _table(("Date", "Version", "Material", "Change", "By")),
    ]


def _research_proposal() -> list[_Node]:
    return [
        _h(1, "Research proposal"),
        _p(
            _italic(
                "Research that answers a question policy makers or system managers have asked. "
                "Replace the guidance with the proposal's text."
            )
        ),
        _h(2, "Title and team"),
        _field("Title", ""),
        _table(("Name", "Institution", "Role in the project")),
        _h(2, "Background and policy context"),
        _p("The situation, the policies in place or under discussion, and who needs the answer."),
        _h(2, "Knowledge gap"),
        _p(
            "The question policy makers or system managers cannot answer today, and why it "
            "matters. Link the knowledge gap recorded in this workspace."
        ),
        _h(2, "Objectives and hypotheses"),
        _field("General objective", ""),
        _field("Specific objectives", ""),
        _ul(""),
        _field("Hypotheses", ""),
        _ul(""),
        _h(2, "Method and data"),
        _ul(
            "Design: quantitative, qualitative or mixed; the unit of analysis.",
            "Data: sources, sampling, collection, and access to administrative data.",
            "Analysis: the methods, and how the hypotheses are tested.",
            "Data disaggregated by sex wherever it applies, and by age, disability and "
            "population group where relevant.",
        ),
        _h(2, "Expected results and policy relevance"),
        _p("What the study will produce, and which decision it will inform."),
        _h(2, "Dissemination and policy engagement"),
        _p(
            "Publications, policy briefs, workshops with policy makers and system managers, "
            "and how they are involved from the start."
        ),
        _h(2, "Capacity building"),
        _p("Who learns what: young researchers, national institutions, data producers."),
        _h(2, "Ethics and data protection"),
        _ul(
            "Informed consent, and ethics committee approval where required.",
            "Anonymisation, secure storage and who may access the data.",
            "How long the data are kept, and how they are destroyed.",
        ),
        _h(2, "Timetable"),
        _p("From preparation to dissemination, with the milestones the funder will check."),
        _table(("Activity", "Start", "End", "Responsible")),
        _h(2, "Budget"),
        _p("In one currency; say what the funder pays and what is co-financed."),
        _table(("Item", "Unit cost", "Quantity", "Total", "Funding source")),
    ]


def _blank() -> list[_Node]:
    return []


_BUILDERS: Final = {
    "blank": _blank,
    "assap-plan": _assap_plan,
    "training-course": _training_course,
    "research-proposal": _research_proposal,
}

TEMPLATES: Final[Mapping[str, Template]] = MappingProxyType(
    {
        template.name: template
        for template in (
            Template("blank", "Blank document", "An empty document."),
            Template(
                "assap-plan",
                "ASSAP plan",
                "A national strategy and action plan to extend social security coverage.",
            ),
            Template(
                "training-course",
                "Training course",
                "A course on extending social security: outcomes, modules, agenda, evaluation.",
            ),
            Template(
                "research-proposal",
                "Research proposal",
                "A proposal for research that answers a knowledge gap of policy makers.",
            ),
        )
    }
)
"""Every template by name, in the order a menu shows them."""


def build_template(name: str) -> bytes:
    """The content of template ``name`` as one Yjs v1 update.

    Apply it to a new, empty document. Every call returns the same bytes, so applying it again
    changes nothing.

    Raises:
        ValueError: there is no template called ``name``; the message lists the valid names.
    """
    if name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}; expected one of {', '.join(TEMPLATES)}")
    return _build(name)


@functools.cache
def _build(name: str) -> bytes:
    doc: Doc[XmlFragment] = Doc(client_id=_CLIENT_ID)
    fragment = doc.get(_FRAGMENT, type=XmlFragment)
    nodes = _BUILDERS[name]()
    if nodes and nodes[-1] != _p():
        nodes.append(_p())
    with doc.transaction():
        for node in nodes:
            _write(fragment, node)
    return doc.get_update()
