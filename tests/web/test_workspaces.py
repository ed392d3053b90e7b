"""Signing up, workspaces, invitations, documents and members, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import StartServer
from tests.integration.server import GessServer
from tests.web.conftest import (
    NewPage,
    api,
    create_document,
    create_workspace,
    invite_link,
    register,
    screenshot,
    sign_up,
    team,
)

pytestmark = pytest.mark.integration


async def test_first_user_registers_creates_a_workspace_and_invites_a_second_by_link(
    new_page: NewPage,
) -> None:
    amina = await new_page()
    await register(amina, "Amina Diallo", "amina@example.org")
    await screenshot(amina, "home-empty")
    await create_workspace(amina, "Senegal ASSAP 2027")
    link = await invite_link(amina, role="editor")
    assert "/invite/" in link
    await screenshot(amina, "workspace-owner")

    # The second person opens the link in a browser of their own and registers with it.
    jonas = await new_page()
    await jonas.goto(link)
    await expect(
        jonas.get_by_text("You are invited to join Senegal ASSAP 2027 as editor.")
    ).to_be_visible()
    await screenshot(jonas, "invite")
    await jonas.get_by_label("Your name").fill("Jonas Mbeki")
    await jonas.get_by_label("E-mail address").fill("jonas@example.org")
    await jonas.get_by_label("Password").fill("another long password")
    await jonas.get_by_role("button", name="Create account").click()
    await expect(jonas.get_by_role("heading", name="Senegal ASSAP 2027", level=1)).to_be_visible()
    await expect(jonas.get_by_text("You: editor")).to_be_visible()
    # Editors see no member controls; the owner's page lists the newcomer, live.
    await expect(jonas.get_by_role("button", name="Invite", exact=True)).to_have_count(0)
    await amina.reload()
    await expect(amina.get_by_role("combobox", name="Role of Jonas Mbeki")).to_have_value("editor")
    assert amina.errors == [] and jonas.errors == []  # type: ignore[attr-defined]


async def test_documents_are_created_from_templates_renamed_trashed_and_restored(
    new_page: NewPage,
) -> None:
    page = await new_page()
    await register(page, "Amina Diallo", "amina@example.org")
    workspace_id = await create_workspace(page, "Training")
    await page.get_by_text("New document").click()
    # Each template says what it is for.
    await expect(
        page.get_by_text("A national strategy and action plan to extend social security coverage.")
    ).to_be_visible()
    await page.get_by_text("New document").click()
    await create_document(page, "Module 1", "Training course")
    await page.goto(f"/w/{workspace_id}")
    await page.get_by_role("button", name="Rename Module 1").click()
    await page.get_by_label("New title for Module 1").fill("Module 1: foundations")
    await page.get_by_role("button", name="Save").click()
    renamed = page.get_by_role("link", name="Module 1: foundations")
    await expect(renamed).to_be_visible()
    await page.get_by_role("button", name="Move to trash: Module 1: foundations").click()
    confirm = page.get_by_role("dialog", name="Move “Module 1: foundations” to the trash?")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(renamed).to_be_visible()
    await page.get_by_role("button", name="Move to trash: Module 1: foundations").click()
    await confirm.get_by_role("button", name="Move to trash").click()
    await expect(renamed).to_have_count(0)
    await page.get_by_text("Trash", exact=True).click()
    await page.get_by_role("button", name="Restore Module 1: foundations").click()
    await expect(renamed).to_be_visible()
    # The activity feed told the story, newest first.
    feed = page.get_by_role("list", name="Activity")
    await expect(feed.get_by_role("listitem").first).to_contain_text(
        "restored Module 1: foundations"
    )
    await screenshot(page, "workspace-documents")


async def test_the_workspace_page_follows_what_others_do_live(new_page: NewPage) -> None:
    owner, member, workspace_id, _ = await team(new_page)
    await owner.goto(f"/w/{workspace_id}")
    await expect(owner.get_by_role("link", name="Plan")).to_be_visible()
    # Another member creates a document: the owner's page shows it without a reload.
    await api(
        member,
        "POST",
        f"/api/workspaces/{workspace_id}/documents",
        {"title": "Research note", "template": "research-proposal"},
    )
    await expect(owner.get_by_role("link", name="Research note")).to_be_visible()
    feed = owner.get_by_role("list", name="Activity")
    await expect(feed.get_by_role("listitem").first).to_contain_text(
        "Jonas Mbeki created Research note"
    )


async def test_app_urls_answer_the_app_and_assets_are_cacheable(app: GessServer) -> None:
    for path in ("/", "/login", "/register", "/invite/abc", "/w/abc", "/d/abc", "/d/team/notes"):
        response = await app.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/assets/app-' in response.text
        assert response.headers["cache-control"] == "no-cache"
    script = response.text.split('src="', 1)[1].split('"', 1)[0]
    asset = await app.get(script)
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    # The API keeps its own answers.
    missing = await app.get("/api/nothing-here")
    assert missing.status_code == 404
    assert "error" in missing.json()


async def test_anonymous_mode_opens_any_document_without_signing_in(
    browser: Browser, gess_server: StartServer
) -> None:
    server = await gess_server(anonymous=True)
    context = await browser.new_context(base_url=server.http_url)
    try:
        page = await context.new_page()
        await page.goto("/d/scratch-pad")
        await expect(page.get_by_text("Saved", exact=True)).to_be_visible()
        text = page.get_by_role("textbox", name="Content of scratch-pad")
        await expect(text).to_be_editable()
        await text.click()
        await page.keyboard.type("No account needed.")
        await expect(page.get_by_text("Saved", exact=True)).to_be_visible()
        await page.reload()
        await expect(text).to_contain_text("No account needed.")
    finally:
        await context.close()


async def test_anonymous_rooms_named_with_slashes_and_escapes_open_from_their_url(
    browser: Browser, gess_server: StartServer
) -> None:
    server = await gess_server(anonymous=True)
    first = await browser.new_context(base_url=server.http_url)
    second = await browser.new_context(base_url=server.http_url)
    try:
        page = await first.new_page()
        await page.goto("/d/team/notes")
        await expect(page.get_by_role("heading", name="team/notes", level=1)).to_be_visible()
        text = page.get_by_role("textbox", name="Content of team/notes")
        await expect(page.get_by_text("Saved", exact=True)).to_be_visible()
        await text.click()
        await page.keyboard.type("Shared under a slash.")
        await expect(page.get_by_text("Saved", exact=True)).to_be_visible()
        # The same room, its '/' escaped: one room, whatever the spelling of its URL.
        other = await second.new_page()
        await other.goto("/d/team%2Fnotes")
        await expect(other.get_by_role("textbox", name="Content of team/notes")).to_contain_text(
            "Shared under a slash."
        )
        # A name with characters a URL must escape ('#' would otherwise end the path).
        await other.goto("/d/r%C3%A9union%20%231/ordre")
        room = other.get_by_role("textbox", name="Content of réunion #1/ordre")
        await expect(other.get_by_text("Saved", exact=True)).to_be_visible()
        await room.click()
        await other.keyboard.type("Point 1.")
        await expect(other.get_by_text("Saved", exact=True)).to_be_visible()
        await page.goto("/d/r%C3%A9union%20%231/ordre")
        await expect(
            page.get_by_role("textbox", name="Content of réunion #1/ordre")
        ).to_contain_text("Point 1.")
        await screenshot(page, "anonymous-room-with-slash")
    finally:
        await first.close()
        await second.close()


async def test_owners_add_members_by_e_mail_change_roles_and_remove_them(
    new_page: NewPage,
) -> None:
    owner, member, workspace_id, _ = await team(new_page)
    other = await new_page()
    await sign_up_via_invitation(owner, other, workspace_id)
    await owner.goto(f"/w/{workspace_id}")
    await expect(owner.get_by_role("combobox", name="Role of Léa Martin")).to_have_value("viewer")
    # Removing asks first; Escape (or Cancel) keeps her.
    await owner.get_by_role("button", name="Remove Léa Martin").click()
    dialog = owner.get_by_role("dialog", name="Remove Léa Martin from this workspace?")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await screenshot(owner, "confirm-remove-member")
    await owner.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await expect(owner.get_by_role("combobox", name="Role of Léa Martin")).to_have_value("viewer")
    # Confirmed by keyboard alone, she is removed.
    await owner.get_by_role("button", name="Remove Léa Martin").click()
    await expect(dialog).to_be_visible()
    await owner.keyboard.press("Tab")
    await expect(dialog.get_by_role("button", name="Remove")).to_be_focused()
    await owner.keyboard.press("Enter")
    await expect(owner.get_by_text("Léa Martin was removed.")).to_be_visible()
    await expect(owner.get_by_role("combobox", name="Role of Léa Martin")).to_have_count(0)
    # Léa has an account now: adding her by e-mail makes her a member at once.
    await owner.get_by_label("E-mail address (optional)").fill("lea@example.org")
    await owner.get_by_label("Role", exact=True).select_option("commenter")
    await owner.get_by_role("button", name="Invite", exact=True).click()
    await expect(owner.get_by_text("lea@example.org was added to the workspace.")).to_be_visible()
    await expect(owner.get_by_role("combobox", name="Role of Léa Martin")).to_have_value(
        "commenter"
    )
    # Someone without an account gets a link for their address.
    await owner.get_by_label("E-mail address (optional)").fill("new.person@example.org")
    await owner.get_by_role("button", name="Invite", exact=True).click()
    await expect(owner.get_by_role("textbox", name="Invitation link")).to_have_value(
        re.compile(r"/invite/")
    )
    # Members who are not owners see the list, not the controls.
    await member.goto(f"/w/{workspace_id}")
    await expect(member.get_by_role("list", name="Members")).to_contain_text("Léa Martin")
    await expect(member.get_by_role("combobox", name="Role of Léa Martin")).to_have_count(0)
    await expect(member.get_by_role("button", name="Remove Léa Martin")).to_have_count(0)


async def sign_up_via_invitation(owner: Page, page: Page, workspace_id: str) -> None:
    invitation = await api(
        owner, "POST", f"/api/workspaces/{workspace_id}/invitations", {"role": "viewer"}
    )
    assert isinstance(invitation, dict)
    await sign_up(page, "Léa Martin", "lea@example.org", invitation["token"])
