"""The editor's Versions panel in a real browser: save, view, compare, restore live, history."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from tests.web.conftest import (
    NewPage,
    api,
    editor_of,
    open_editor,
    same_person,
    screenshot,
    team,
)
from tests.web.test_accessibility import PHONE, assert_axe_clean

pytestmark = pytest.mark.integration


def panel(page: Page) -> Locator:
    return page.get_by_role("region", name="Versions", exact=True)


async def open_panel(page: Page) -> Locator:
    toggle = page.get_by_role("button", name="Versions", exact=True)
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await expect(panel(page)).to_be_visible()
    return panel(page)


async def test_a_version_is_saved_compared_viewed_and_restored_live_for_everyone(
    new_page: NewPage,
) -> None:
    amina, jonas, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await open_editor(jonas, document_id)
    await editor_of(amina).click()
    await amina.keyboard.type("Keep this line.")
    await amina.keyboard.press("Enter")
    await amina.keyboard.type("Remove this line.")
    await amina.keyboard.press("Enter")
    await amina.keyboard.type("End of the plan.")
    await expect(amina.get_by_text("Saved", exact=True)).to_be_visible()
    await expect(editor_of(jonas)).to_contain_text("End of the plan.")

    jonas_versions = await open_panel(jonas)
    await expect(jonas_versions.get_by_text("No versions yet.")).to_be_visible()
    versions = await open_panel(amina)
    await versions.get_by_label("Version name").fill("Draft 1")
    await versions.get_by_role("button", name="Save version").click()
    await expect(versions.get_by_role("status")).to_have_text("Version “Draft 1” saved.")
    saved = versions.get_by_role("listitem").filter(has_text="Draft 1")
    await expect(saved).to_contain_text("Saved by Amina Diallo")
    await expect(saved).to_contain_text("Edited by Amina Diallo")
    # The other editor's open panel hears of it from the server's event, without a reload.
    await expect(jonas_versions.get_by_role("listitem").filter(has_text="Draft 1")).to_be_visible()

    # Jonas adds a paragraph at the end and deletes the middle one. (A click on a paragraph
    # lands after its text: the paragraph is wider than its one line.)
    await editor_of(jonas).get_by_text("End of the plan.").click()
    await jonas.keyboard.press("Enter")
    await jonas.keyboard.type("Added by Jonas.")
    await expect(editor_of(jonas).get_by_text("Added by Jonas.")).to_be_visible()
    await editor_of(jonas).get_by_text("Remove this line.").click(click_count=3)
    await jonas.keyboard.press("Backspace")
    await jonas.keyboard.press("Backspace")
    await expect(editor_of(jonas)).not_to_contain_text("Remove this line.")
    await expect(jonas.get_by_text("Saved", exact=True)).to_be_visible()
    await expect(editor_of(amina)).to_contain_text("Added by Jonas.")

    await versions.get_by_role("button", name="Compare with the current text: Draft 1").click()
    diff = versions.get_by_role("region", name="Changes since Draft 1")
    await expect(diff).to_contain_text("1 added, 1 removed, 0 changed")
    changes = diff.get_by_role("list", name="Changed blocks").get_by_role("listitem")
    await expect(changes).to_have_count(2)
    added = changes.filter(has_text="+ Added")
    removed = changes.filter(has_text="− Removed")
    await expect(added).to_contain_text("Added by Jonas.")
    await expect(added.locator("ins")).to_have_text("Added by Jonas.")
    await expect(removed).to_contain_text("Remove this line.")
    await expect(removed.locator("del")).to_have_text("Remove this line.")
    await screenshot(amina, "versions-diff")

    await versions.get_by_role("button", name="View Draft 1").click()
    past = versions.get_by_role("region", name="Past version: Draft 1")
    await expect(past).to_contain_text("Read only — the document as it was on")
    content = past.get_by_role("document", name="Content of the past version")
    await expect(content).to_contain_text("Remove this line.")
    await expect(content).not_to_contain_text("Added by Jonas.")
    await screenshot(amina, "versions-view")

    # Restoring asks first; cancelling changes nothing.
    await versions.get_by_role("button", name="Restore Draft 1").click()
    dialog = amina.get_by_role("dialog")
    await expect(dialog).to_contain_text("Restore “Draft 1”?")
    await screenshot(amina, "versions-restore-confirm")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_have_count(0)
    await expect(editor_of(jonas)).to_contain_text("Added by Jonas.")
    await versions.get_by_role("button", name="Restore Draft 1").click()
    await amina.get_by_role("dialog").get_by_role("button", name="Restore").click()
    await expect(versions.get_by_role("status")).to_have_text(
        "“Draft 1” was restored. The text before it is kept as “Before restoring Draft 1”."
    )

    # Both open editors show the restored text, live.
    for page in (jonas, amina):
        await expect(editor_of(page)).to_contain_text("Remove this line.")
        await expect(editor_of(page)).not_to_contain_text("Added by Jonas.")
    await expect(
        versions.get_by_role("listitem").filter(has_text="Before restoring Draft 1")
    ).to_contain_text("before a restore")
    history = versions.get_by_role("list", name="Edit history")
    await expect(history.get_by_role("listitem").filter(has_text="Amina Diallo")).not_to_have_count(
        0
    )
    await expect(history.get_by_role("listitem").filter(has_text="Jonas Mbeki")).not_to_have_count(
        0
    )
    await screenshot(jonas, "versions-restored-other-editor")
    await screenshot(amina, "versions-panel")


async def test_readers_see_versions_but_cannot_save_or_restore_until_they_may_edit(
    new_page: NewPage,
) -> None:
    amina, viewer, workspace_id, document_id = await team(new_page, role="viewer")
    await open_editor(amina, document_id)
    versions = await open_panel(amina)
    await versions.get_by_label("Version name").fill("Kick-off")
    await versions.get_by_role("button", name="Save version").click()
    await expect(versions.get_by_role("listitem").filter(has_text="Kick-off")).to_be_visible()

    await viewer.goto(f"/d/{document_id}")
    seen = await open_panel(viewer)
    listed = seen.get_by_role("listitem").filter(has_text="Kick-off")
    await expect(listed.get_by_role("button", name="View Kick-off")).to_be_visible()
    await expect(listed.get_by_role("button", name="Restore Kick-off")).to_have_count(0)
    await expect(seen.get_by_label("Version name")).to_be_hidden()

    # Made an editor, the open panel offers saving and restoring at once.
    members = await api(amina, "GET", f"/api/workspaces/{workspace_id}/members")
    assert isinstance(members, dict)
    (jonas,) = [m for m in members["items"] if m["name"] == "Jonas Mbeki"]
    await api(
        amina,
        "PATCH",
        f"/api/workspaces/{workspace_id}/members/{jonas['user_id']}",
        {"role": "editor"},
    )
    await expect(listed.get_by_role("button", name="Restore Kick-off")).to_be_visible()
    await expect(seen.get_by_label("Version name")).to_be_visible()


async def test_the_versions_panel_has_no_serious_accessibility_violation(
    new_page: NewPage,
) -> None:
    amina, _, _, document_id = await team(new_page, template="assap-plan")
    checked = await new_page(bypass_csp=True)
    await checked.goto("/login")
    await same_person(amina, checked)
    await open_editor(checked, document_id)
    versions = await open_panel(checked)
    await versions.get_by_label("Version name").fill("Baseline")
    await versions.get_by_role("button", name="Save version").click()
    await versions.get_by_role("button", name="Compare with the current text: Baseline").click()
    await expect(versions.get_by_role("region", name="Changes since Baseline")).to_be_visible()
    await assert_axe_clean(checked, "versions panel with a diff")
    await versions.get_by_role("button", name="View Baseline").click()
    await expect(versions.get_by_role("region", name="Past version: Baseline")).to_be_visible()
    await assert_axe_clean(checked, "versions panel with a past version")
    await versions.get_by_role("button", name="Restore Baseline").click()
    await expect(checked.get_by_role("dialog")).to_be_visible()
    await assert_axe_clean(checked, "restore confirmation")
    await checked.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    # On a phone, the panel alone: the editor's wide tables scroll sideways there, which axe
    # reports about the editor, not this panel.
    await checked.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
    await screenshot(checked, "versions-phone")
    serious = await checked.evaluate(
        "async () => (await axe.run('#versions-panel')).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id)"
    )
    assert serious == [], serious
