"""The French and Spanish templates: the English structure, translated, in the ILO's own terms."""

from __future__ import annotations

import pytest

from content import LANGUAGES, TEMPLATES, build_template
from crdt import EMPTY_UPDATE
from tests.content.test_templates import Node, content, first_table, headings, section

KINDS = [t.kind for t in TEMPLATES.values() if t.language == "en"]
TRANSLATIONS = [(kind, language) for kind in KINDS for language in LANGUAGES[1:]]


def shape(node: Node) -> object:
    """Everything but the words: tags, attributes, children, and for a text its marks."""
    if node.tag == "#text":
        return [marks for _, marks in node.delta]
    return (node.tag, node.attrs, [shape(child) for child in node.children])


def texts(nodes: list[Node]) -> list[str]:
    return [n.text for node in nodes for n in node.walk() if n.tag == "#text"]


def test_every_template_in_every_language() -> None:
    assert LANGUAGES == ("en", "fr", "es")
    for kind in KINDS:
        entries = [t for t in TEMPLATES.values() if t.kind == kind]
        assert [t.language for t in entries] == list(LANGUAGES)
        assert len({t.title for t in entries[1:]} | {entries[0].title}) >= 2


@pytest.mark.parametrize(("kind", "language"), TRANSLATIONS)
def test_a_translation_has_the_english_structure(kind: str, language: str) -> None:
    english, translated = content(kind), content(f"{kind}-{language}")
    assert [shape(n) for n in translated] == [shape(n) for n in english]


@pytest.mark.parametrize(("kind", "language"), TRANSLATIONS)
def test_a_translation_leaves_no_english_sentence(kind: str, language: str) -> None:
    english = {text for text in texts(content(kind)) if len(text) > 24}
    left = english & set(texts(content(f"{kind}-{language}")))
    assert not left
    template = TEMPLATES[f"{kind}-{language}"]
    assert template.description != TEMPLATES[kind].description


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_blank_is_empty_in_every_language(language: str) -> None:
    assert build_template(f"blank-{language}") == EMPTY_UPDATE


ASSAP = {
    "fr": {
        "title": "Stratégie et plan d'action adaptés de sécurité sociale (ASSAP)",
        "branches": [
            "soins médicaux",
            "prestations de maternité",
            "prestations aux familles",
            "indemnités de maladie",
            "prestations de chômage",
            "prestations en cas d'accidents du travail et de maladies professionnelles",
            "prestations d'invalidité",
            "assistance sociale générale",
            "prestations de vieillesse",
            "prestations de survivants",
        ],
        "guarantees": [
            "soins de santé essentiels, y compris les soins de maternité",
            "sécurité élémentaire de revenu pour les enfants",
            "pour les personnes d'âge actif dans l'incapacité de gagner un revenu suffisant",
            "pour les personnes âgées",
        ],
        "instruments": [
            "Convention (n° 102) concernant la sécurité sociale (norme minimum)",
            "Recommandation (n° 202) sur les socles de protection sociale",
            "garanties élémentaires de sécurité sociale",
        ],
        "matrix": "4.2 Matrice des déficits de couverture",
    },
    "es": {
        "title": "Estrategia y plan de acción adaptados de seguridad social (ASSAP)",
        "branches": [
            "asistencia médica",
            "prestaciones de maternidad",
            "prestaciones familiares",
            "prestaciones monetarias de enfermedad",
            "prestaciones de desempleo",
            "prestaciones en caso de accidente del trabajo y de enfermedad profesional",
            "prestaciones de invalidez",
            "asistencia social general",
            "prestaciones de vejez",
            "prestaciones de sobrevivientes",
        ],
        "guarantees": [
            "atención de salud esencial, incluida la atención de la maternidad",
            "seguridad básica del ingreso para los niños",
            "para las personas en edad activa que no puedan obtener ingresos suficientes",
            "para las personas de edad",
        ],
        "instruments": [
            "Convenio sobre la seguridad social (norma mínima)",
            "Recomendación sobre los pisos de protección social",
            "garantías básicas de seguridad social",
        ],
        "matrix": "4.2 Matriz de brechas de cobertura",
    },
}


@pytest.mark.parametrize("language", ["fr", "es"])
def test_the_assap_plan_speaks_the_ilo_terms(language: str) -> None:
    terms = ASSAP[language]
    nodes = content(f"assap-plan-{language}")
    assert headings(nodes)[0] == (1, terms["title"])
    rows = first_table(section(nodes, str(terms["matrix"])))
    groups = [row[0].text for row in rows[1:] if len(row) == 1]
    branches = [row[0].text.lower() for row in rows[1:] if len(row) > 1]
    assert len(branches) == len(terms["branches"])
    for found, expected in zip(branches, terms["branches"], strict=True):
        assert found.startswith(expected), (found, expected)
    for found, expected in zip(groups, terms["guarantees"], strict=True):
        assert expected in found, (found, expected)
    whole = " ".join(texts(nodes))
    for instrument in terms["instruments"]:
        assert instrument in whole
