"""The template picker in the interface's language: a French or Spanish user starts an ASSAP
plan written in their language, and the other languages' templates come after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import expect

from content import TEMPLATES
from tests.integration.server import GessServer
from tests.web.conftest import NewPage, api, screenshot, sign_up
from tests.web.test_editor import stored_updates

pytestmark = pytest.mark.integration

LOCALES = Path(__file__).parents[2] / "client" / "web" / "src" / "locales"


@dataclass(frozen=True)
class Plan:
    locale: str
    title: str
    headings: list[str]
    matrix: str
    cells: list[str]


PLANS = {
    "fr": Plan(
        locale="fr-FR",
        title="Stratégie et plan d'action adaptés de sécurité sociale (ASSAP)",
        headings=[
            "0 Métadonnées",
            "4 Diagnostic",
            "4.2 Matrice des déficits de couverture",
            "10 Plan d'action",
        ],
        matrix="Branche",
        cells=[
            "Garantie 2 : sécurité élémentaire de revenu pour les enfants",
            "Prestations de survivants (C102, partie X)",
        ],
    ),
    "es": Plan(
        locale="es-ES",
        title="Estrategia y plan de acción adaptados de seguridad social (ASSAP)",
        headings=[
            "0 Metadatos",
            "4 Diagnóstico",
            "4.2 Matriz de brechas de cobertura",
            "10 Plan de acción",
        ],
        matrix="Rama",
        cells=[
            "Garantía 2: seguridad básica del ingreso para los niños",
            "Prestaciones de sobrevivientes (C102, parte X)",
        ],
    ),
}


@pytest.mark.parametrize("language", ["fr", "es"])
async def test_a_user_starts_the_assap_plan_in_the_interface_language(
    new_page: NewPage, app: GessServer, language: str
) -> None:
    strings = json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    plan = PLANS[language]
    page = await new_page(locale=plan.locale)
    await sign_up(page, "Amina Diallo", "amina@example.org")
    workspace = await api(page, "POST", "/api/workspaces", {"name": "Sénégal 2027"})
    assert isinstance(workspace, dict)
    await page.goto(f"/w/{workspace['id']}")
    await page.get_by_text(strings["docs.new"]).click()

    # The interface's language first: its templates are the choices shown, the blank one
    # chosen; the English and other ones wait in a group after them.
    picker = page.get_by_role("group", name=strings["docs.template"])
    own = [t for t in TEMPLATES.values() if t.language == language]
    shown = picker.get_by_role("radio")
    await expect(shown).to_have_count(len(own))
    for index, template in enumerate(own):
        await expect(shown.nth(index)).to_have_accessible_name(template.title)
    await expect(shown.first).to_be_checked()
    english = page.get_by_label(f"{TEMPLATES['assap-plan'].title} (English)", exact=True)
    await expect(english).to_be_hidden()
    await picker.get_by_text(strings["docs.template_other_languages"]).click()
    await expect(english).to_be_visible()
    # Then the others, one language after the other, each named in its own language.
    await expect(shown).to_have_count(len(TEMPLATES))
    others = [t for t in TEMPLATES.values() if t.language != language]
    for index, template in enumerate(others, len(own)):
        name = strings[f"language.{template.language}"]
        await expect(shown.nth(index)).to_have_accessible_name(f"{template.title} ({name})")
    await screenshot(page, f"template-picker-{language}")

    await page.get_by_label(strings["docs.title_field"], exact=True).fill("Plan Sénégal")
    await page.get_by_label(TEMPLATES[f"assap-plan-{language}"].title, exact=True).check()
    before = await stored_updates(app)
    await page.get_by_role("button", name=strings["docs.create"]).click()
    await expect(page.get_by_text(strings["saved.saved"], exact=True)).to_be_visible()

    text = page.get_by_role("textbox", name=strings["editor.content"].format(title="Plan Sénégal"))
    await expect(text.get_by_role("heading", name=plan.title, level=1)).to_be_visible()
    for heading in plan.headings:
        await expect(text.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    matrix = text.get_by_role("table").filter(has_text=plan.matrix)
    for cell in plan.cells:
        await expect(matrix.get_by_text(cell)).to_be_visible()
    await screenshot(page, f"editor-assap-{language}")

    # The server stored the French or Spanish template, and opening it wrote nothing.
    await page.goto(f"/w/{workspace['id']}")
    await expect(page.get_by_role("link", name="Plan Sénégal")).to_be_visible()
    assert await stored_updates(app) == before + 1
    documents = await api(page, "GET", f"/api/workspaces/{workspace['id']}/documents")
    assert isinstance(documents, dict)
    assert [d["template"] for d in documents["items"]] == [f"assap-plan-{language}"]
    assert page.errors == []  # type: ignore[attr-defined]
