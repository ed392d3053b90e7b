"""Templates over REST: the list with each template's language, and documents made from one."""

from __future__ import annotations

from content import TEMPLATES
from tests.api.support import Team


async def test_templates_are_listed_with_their_language(team: Team):
    listed = (await team.owner.ok("GET", "/api/templates"))["items"]
    assert [item["name"] for item in listed] == list(TEMPLATES)
    # The English templates first, under the names clients used before there were others.
    assert [(i["name"], i["language"], i["kind"]) for i in listed[:4]] == [
        (name, "en", name)
        for name in ("blank", "assap-plan", "training-course", "research-proposal")
    ]
    french = next(item for item in listed if item["name"] == "assap-plan-fr")
    assert french == {
        "name": "assap-plan-fr",
        "title": "Plan ASSAP",
        "description": TEMPLATES["assap-plan-fr"].description,
        "language": "fr",
        "kind": "assap-plan",
    }


async def test_a_language_can_be_listed_first(team: Team):
    listed = (await team.owner.ok("GET", "/api/templates?language=es"))["items"]
    assert [item["language"] for item in listed] == ["es"] * 4 + ["en"] * 4 + ["fr"] * 4
    assert [item["kind"] for item in listed[:4]] == [item["kind"] for item in listed[4:8]]
    unknown = await team.owner.request("GET", "/api/templates?language=de")
    assert unknown.status_code == 422
    assert "en, fr, es" in unknown.json()["error"]["message"]


async def test_a_document_starts_from_a_translated_template(team: Team):
    workspace = await team.workspace()
    documents = f"/api/workspaces/{workspace}/documents"
    for template, first_line in (
        ("assap-plan-fr", "# Stratégie et plan d'action adaptés de sécurité sociale (ASSAP)"),
        ("assap-plan-es", "# Estrategia y plan de acción adaptados de seguridad social (ASSAP)"),
        ("assap-plan", "# Adapted Social Security strategy and Action Plan (ASSAP)"),
    ):
        created = await team.api("editor").ok(
            "POST", documents, {"title": "Plan", "template": template}, status=201
        )
        assert created["template"] == template
        exported = await team.api("viewer").request(
            "GET", f"/api/documents/{created['id']}/export?format=markdown"
        )
        assert exported.status_code == 200
        assert exported.text.split("\n")[0] == first_line
