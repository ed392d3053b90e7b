"""Roles in the editor: readers cannot change a document, and role changes apply live."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.web.conftest import NewPage, api, editor_of, open_editor, screenshot, team

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
