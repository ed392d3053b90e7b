"""Roles in the editor: readers cannot change a document, and role changes apply live."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.integration.server import GessServer
from tests.web.conftest import NewPage, api, editor_of, open_editor, screenshot, team
from tests.web.test_editor import IDB_BARRIER, offline_copy

pytestmark = pytest.mark.integration


async def test_a_viewer_cannot_change_the_document(new_page: NewPage) -> None:
    owner, viewer, _, document_id = await team(new_page, role="viewer")
    await open_editor(owner, document_id)
    await open_editor(viewer, document_id)
    await expect(viewer.get_by_text("Read only", exact=True)).to_be_visible()
    await expect(editor_of(viewer)).not_to_be_editable()
    await expect(viewer.get_by_role("toolbar", name="Formatting")).to_be_hidden()
    await screenshot(viewer, "editor-viewer")

    await editor_of(viewer).click()
    await viewer.keyboard.type("viewer was here")
    # Barrier: the owner's later text reaches the viewer; the viewer's never reached anyone.
    await editor_of(owner).click()
    await owner.keyboard.type("Owner's line.")
    await expect(editor_of(viewer)).to_contain_text("Owner's line.")
    await expect(editor_of(viewer)).not_to_contain_text("viewer was here")
    await expect(editor_of(owner)).not_to_contain_text("viewer was here")
    export = await api(owner, "GET", f"/api/documents/{document_id}/export?format=markdown")
    assert "Owner's line." in str(export) and "viewer was here" not in str(export)


async def test_role_changes_apply_to_an_open_editor_without_losing_text(
    new_page: NewPage,
) -> None:
    owner, member, workspace_id, document_id = await team(new_page, role="viewer")
    await open_editor(member, document_id)
    await expect(editor_of(member)).not_to_be_editable()

    # The owner makes the viewer an editor from the workspace page, in the member list.
    await owner.goto(f"/w/{workspace_id}")
    await owner.get_by_role("combobox", name="Role of Jonas Mbeki").select_option("editor")
    await expect(owner.get_by_text("Jonas Mbeki’s role was changed.")).to_be_visible()
    await expect(member.get_by_text("Read only", exact=True)).to_be_hidden()
    await expect(editor_of(member)).to_be_editable()
    await editor_of(member).click()
    await member.keyboard.type("Written as an editor.")
    await expect(member.get_by_text("Saved", exact=True)).to_be_visible()

    # And back to viewer: the text stays, the editor locks.
    await owner.get_by_role("combobox", name="Role of Jonas Mbeki").select_option("viewer")
    await expect(member.get_by_text("Read only", exact=True)).to_be_visible()
    await expect(editor_of(member)).not_to_be_editable()
    await expect(editor_of(member)).to_contain_text("Written as an editor.")
    export = await api(owner, "GET", f"/api/documents/{document_id}/export?format=markdown")
    assert "Written as an editor." in str(export)


async def test_a_copy_with_refused_changes_starts_again_from_the_server_when_it_may_write(
    new_page: NewPage, app: GessServer
) -> None:
    owner, member, workspace_id, document_id = await team(new_page)
    me = await api(member, "GET", "/api/me")
    assert isinstance(me, dict)
    members = f"/api/workspaces/{workspace_id}/members/{me['id']}"
    await open_editor(member, document_id)
    # Jonas edits while the server is down; the edit stays in this browser.
    await app.terminate()
    await editor_of(member).click()
    await member.keyboard.type("Written offline.")
    await member.evaluate(IDB_BARRIER, await offline_copy(member))
    context = member.context
    await member.close()
    await app.start()
    # Meanwhile he became a viewer: his copy comes back read-only and its edit is refused.
    await api(owner, "PATCH", members, {"role": "viewer"})
    jonas = await context.new_page()
    await open_editor_unsaved(jonas, document_id)
    await expect(jonas.get_by_text("Read only", exact=True)).to_be_visible()
    await expect(editor_of(jonas)).to_contain_text("Written offline.")
    await open_editor(owner, document_id)
    await editor_of(owner).click()
    await owner.keyboard.type("Amina's line.")
    await expect(editor_of(jonas)).to_contain_text("Amina's line.")
    await expect(editor_of(owner)).not_to_contain_text("Written offline.")

    # Editor again: the server closes his socket (4409) and the app drops the refused copy,
    # IndexedDB included, and starts again from the server's.
    await api(owner, "PATCH", members, {"role": "editor"})
    await expect(editor_of(jonas)).not_to_contain_text("Written offline.")
    await expect(editor_of(jonas)).to_contain_text("Amina's line.")
    await expect(editor_of(jonas)).to_be_editable()
    await expect(jonas.get_by_text("Saved", exact=True)).to_be_visible()
    await editor_of(jonas).click()
    await jonas.keyboard.press("Control+End")
    await jonas.keyboard.type(" Jonas again.")
    await expect(editor_of(owner)).to_contain_text("Jonas again.")
    await jonas.reload()
    await expect(editor_of(jonas)).to_contain_text("Jonas again.")
    await expect(editor_of(jonas)).not_to_contain_text("Written offline.")


async def open_editor_unsaved(page: Page, document_id: str) -> None:
    """Opens the document; its state cannot become "Saved" (it holds refused changes)."""
    await page.goto(f"/d/{document_id}")
    await expect(editor_of(page)).to_be_visible()
