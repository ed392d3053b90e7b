"""Every page: axe-core finds nothing serious or critical; the app works at phone size."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import (
    NewPage,
    api,
    axe_violations,
    create_workspace,
    editor_of,
    open_editor,
    register,
    same_person,
    screenshot,
    team,
)

pytestmark = pytest.mark.integration

PHONE = {"width": 390, "height": 844}


async def assert_axe_clean(page: Page, name: str) -> None:
    violations = await axe_violations(page)
    summary = [(v["id"], v["impact"], v["help"], len(v["nodes"])) for v in violations]  # type: ignore[arg-type]
    assert violations == [], f"{name}: {summary}"


async def test_no_serious_accessibility_violation_on_any_page(new_page: NewPage) -> None:
    # axe-core is injected as a script: this browser does not apply the page's CSP.
    owner, viewer, workspace_id, document_id = await team(
        new_page, role="viewer", template="assap-plan"
    )
    invitation = await api(
        owner, "POST", f"/api/workspaces/{workspace_id}/invitations", {"role": "editor"}
    )
    assert isinstance(invitation, dict)
    guest = await new_page(bypass_csp=True)
    for path, heading in (
        ("/login", "Sign in"),
        ("/register", "Create your account"),
        (f"/invite/{invitation['token']}", "Invitation"),
    ):
        await guest.goto(path)
        await expect(guest.get_by_role("heading", name=heading, level=1)).to_be_visible()
        await assert_axe_clean(guest, path)
        await screenshot(guest, path.strip("/").split("/")[0])

    checked = await new_page(bypass_csp=True)
    await checked.goto("/login")
    await same_person(owner, checked)
    await checked.goto("/")
    await expect(checked.get_by_role("link", name="Senegal ASSAP 2027")).to_be_visible()
    await assert_axe_clean(checked, "/")
    await screenshot(checked, "home")
    await checked.goto(f"/w/{workspace_id}")
    await expect(checked.get_by_role("link", name="Plan")).to_be_visible()
    await checked.get_by_text("New document").click()
    await expect(checked.get_by_label("ASSAP plan", exact=True)).to_be_visible()
    await assert_axe_clean(checked, "/w/")
    await screenshot(checked, "workspace")
    await checked.get_by_role("button", name="Remove Jonas Mbeki").click()
    await expect(checked.get_by_role("dialog")).to_be_visible()
    await assert_axe_clean(checked, "/w/ (confirm removal)")
    await checked.keyboard.press("Escape")
    await expect(checked.get_by_role("dialog")).to_have_count(0)
    await open_editor(checked, document_id)
    await assert_axe_clean(checked, "/d/ (owner)")
    await screenshot(checked, "editor")

    reader = await new_page(bypass_csp=True)
    await reader.goto("/login")
    await same_person(viewer, reader)
    await open_editor(reader, document_id)
    await expect(reader.get_by_text("Read only", exact=True)).to_be_visible()
    await assert_axe_clean(reader, "/d/ (viewer)")


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px screen"


async def test_a_phone_can_sign_up_find_documents_and_edit(new_page: NewPage) -> None:
    phone = await new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await register(phone, "Amina Diallo", "amina@example.org")
    await no_sideways_scroll(phone)
    await screenshot(phone, "phone-home")
    workspace_id = await create_workspace(phone, "Senegal ASSAP 2027")
    await api(
        phone,
        "POST",
        f"/api/workspaces/{workspace_id}/documents",
        {"title": "Plan", "template": "assap-plan"},
    )
    await phone.reload()
    await expect(phone.get_by_role("link", name="Plan")).to_be_visible()
    await no_sideways_scroll(phone)
    await screenshot(phone, "phone-workspace")
    await phone.get_by_role("link", name="Plan").click()
    await expect(phone.get_by_text("Saved", exact=True)).to_be_visible()
    await no_sideways_scroll(phone)
    # The toolbar is there and works with a tap.
    await editor_of(phone).get_by_role("heading", name="0 Metadata").click()
    await phone.keyboard.press("End")
    await phone.keyboard.type(" and scope")
    await expect(phone.get_by_role("button", name="Heading 2 (Ctrl+Alt+2)")).to_have_attribute(
        "aria-pressed", "true"
    )
    await phone.get_by_role("button", name="Heading 3 (Ctrl+Alt+3)").tap()
    await expect(
        editor_of(phone).get_by_role("heading", name="0 Metadata and scope", level=3)
    ).to_be_visible()
    await expect(phone.get_by_text("Saved", exact=True)).to_be_visible()
    await screenshot(phone, "phone-editor")


FOCUSED = """() => {
    const element = document.activeElement
    const style = getComputedStyle(element)
    return {
        name: element.getAttribute('aria-label') || element.innerText || element.value || '',
        role: element.getAttribute('role') || element.tagName.toLowerCase(),
        ring: style.outlineStyle !== 'none' || style.boxShadow !== 'none',
    }
}"""


async def test_the_editor_works_from_the_keyboard_alone(new_page: NewPage) -> None:
    owner, _, _, document_id = await team(new_page)
    await open_editor(owner, document_id)
    # The page's title has the focus after navigation (a screen reader announces it); Tab
    # goes from there to the text, through every control, each showing where the focus is.
    await owner.keyboard.press("Tab")
    seen = []
    for _ in range(60):
        focused = await owner.evaluate(FOCUSED)
        assert focused["ring"], f"no visible focus on {focused}"
        seen.append(focused["name"].strip())
        if focused["role"] == "textbox":
            break
        await owner.keyboard.press("Tab")
    assert seen[0] == "Export Markdown"
    assert any(name.endswith("Bold (Ctrl+B)") for name in seen)
    assert seen[-1] == "Content of Plan"  # the text itself
    await owner.keyboard.type("Plain then ")
    await owner.keyboard.press("Control+b")
    await owner.keyboard.type("bold")
    await expect(editor_of(owner).locator("strong")).to_have_text("bold")
    await owner.keyboard.press("Control+Alt+2")
    await expect(editor_of(owner).get_by_role("heading", level=2)).to_have_text("Plain then bold")
    await expect(owner.get_by_text("Saved", exact=True)).to_be_visible()


async def test_the_app_speaks_french_and_spanish(new_page: NewPage) -> None:
    page = await new_page()
    await page.goto("/login")
    await page.get_by_label("Language").select_option("fr")
    await expect(page.get_by_role("heading", name="Connexion", level=1)).to_be_visible()
    await expect(page.get_by_label("Mot de passe")).to_be_visible()
    await page.get_by_label("Langue").select_option("es")
    await expect(page.get_by_role("heading", name="Iniciar sesión", level=1)).to_be_visible()
    # The choice stays for the next visit.
    await page.reload()
    await expect(page.get_by_label("Contraseña")).to_be_visible()
