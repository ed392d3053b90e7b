"""Shared computers: signing out leaves nothing of the person in the browser for the next one."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.integration.server import GessServer
from tests.web.conftest import PASSWORD, NewPage, editor_of, open_editor, team
from tests.web.test_editor import IDB_BARRIER, OFFLINE

pytestmark = pytest.mark.integration

GESS_DATABASES = """async () => (await indexedDB.databases())
    .map(database => database.name)
    .filter(name => name.startsWith('gess-'))"""

GONE = f"""async () => {{
    while ((await ({GESS_DATABASES})()).length > 0) {{
        await new Promise(resolve => setTimeout(resolve, 20))
    }}
}}"""


async def gess_databases(page: Page) -> list[str]:
    names = await page.evaluate(GESS_DATABASES)
    assert isinstance(names, list)
    return sorted(str(name) for name in names)


async def test_signing_out_deletes_unsent_edits_and_the_next_person_sees_only_the_server(
    new_page: NewPage, app: GessServer
) -> None:
    amina, jonas, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await editor_of(amina).click()
    await amina.keyboard.type("Sent by Amina. ")
    await expect(amina.get_by_text("Saved", exact=True)).to_be_visible()
    # Amina types while the server is down and closes the tab: her edit lives only in this
    # browser's IndexedDB, unsent.
    await app.terminate()
    await expect(amina.get_by_text(OFFLINE)).to_be_visible()
    await amina.keyboard.type("Unsent and private.")
    (copy,) = await gess_databases(amina)
    await amina.evaluate(IDB_BARRIER, copy)
    context = amina.context
    await amina.close()
    await app.start()

    # She signs out from the home page of the same browser.
    shared = await context.new_page()
    await shared.goto("/")
    await shared.get_by_role("button", name="Sign out").click()
    await expect(shared.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    # Deletion is asynchronous: the page waits for the condition itself (not a sleep).
    await shared.evaluate(GONE)
    assert await gess_databases(shared) == []
    assert (await shared.request.get("/api/me")).status == 401

    # Jonas signs in on the same browser: he sees only what the server has, and sends nothing
    # of Amina's under his name.
    await shared.get_by_label("E-mail address").fill("jonas@example.org")
    await shared.get_by_label("Password").fill(PASSWORD)
    await shared.get_by_role("button", name="Sign in").click()
    await expect(shared.get_by_role("heading", name="My workspaces", level=1)).to_be_visible()
    await open_editor(shared, document_id)
    await expect(editor_of(shared)).to_have_text("Sent by Amina.")
    assert await gess_databases(shared) != [copy], "Jonas has a copy of his own"
    await open_editor(jonas, document_id)
    await expect(editor_of(jonas)).to_have_text("Sent by Amina.")
