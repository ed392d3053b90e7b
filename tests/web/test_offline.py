"""Offline in a real browser: the app shell from the service worker, the document from this
browser's IndexedDB copy, and edits made offline sent when the network returns."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.integration.server import GessServer
from tests.web.conftest import NewPage, api, editor_of, open_editor, screenshot, team
from tests.web.test_editor import IDB_BARRIER, KEPT, OFFLINE, offline_copy

pytestmark = pytest.mark.integration

CONTROLLED = """async () => {
    if (navigator.serviceWorker.controller !== null) return
    await new Promise(resolve =>
        navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }))
}"""


async def controlled_by_the_worker(page: Page) -> None:
    """Waits until the app's service worker controls the page (it keeps the shell from then
    on)."""
    await page.evaluate(CONTROLLED)


async def test_the_service_worker_is_served_from_the_top_as_javascript_never_stale(
    app: GessServer,
) -> None:
    response = await app.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    # It may run under the app's policy: scripts from this origin only.
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page = await app.get("/")
    script = page.text.split('src="', 1)[1].split('"', 1)[0]
    # It keeps this build's assets: the page's own script among them.
    assert script in response.text


async def test_edits_made_offline_survive_a_reload_and_reach_the_others_when_back_online(
    new_page: NewPage,
) -> None:
    amina, jonas, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await controlled_by_the_worker(amina)
    await open_editor(jonas, document_id)
    await editor_of(amina).click()
    await amina.keyboard.type("Written online.")
    await expect(amina.get_by_text("Saved", exact=True)).to_be_visible()
    await expect(amina.get_by_text(KEPT)).to_be_hidden()

    await amina.context.set_offline(True)
    await expect(amina.get_by_text(OFFLINE)).to_be_visible()
    await amina.keyboard.type(" Written offline.")
    await expect(amina.get_by_text(KEPT)).to_be_visible()
    await expect(amina.get_by_text("Saved", exact=True)).to_have_count(0)
    await amina.evaluate(IDB_BARRIER, await offline_copy(amina))

    # Reloaded without a network: the page comes from the worker, the text from IndexedDB.
    await amina.reload()
    await expect(editor_of(amina)).to_contain_text("Written online. Written offline.")
    await expect(amina.get_by_text(KEPT)).to_be_visible()
    await expect(amina.get_by_text(OFFLINE)).to_be_visible()
    await screenshot(amina, "offline-reloaded")
    assert amina.errors == []  # type: ignore[attr-defined]

    await amina.context.set_offline(False)
    await expect(amina.get_by_text("Saved", exact=True)).to_be_visible()
    await expect(amina.get_by_text(KEPT)).to_be_hidden()
    await expect(editor_of(jonas)).to_contain_text("Written online. Written offline.")
    # The server has it: a fresh reader gets it from the server alone.
    export = await api(jonas, "GET", f"/api/documents/{document_id}/export?format=markdown")
    assert "Written online. Written offline." in str(export)


async def test_a_visited_document_opens_while_the_server_is_down(
    new_page: NewPage, app: GessServer
) -> None:
    amina, _, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await controlled_by_the_worker(amina)
    await editor_of(amina).click()
    await amina.keyboard.type("Opened again without a server.")
    await expect(amina.get_by_text("Saved", exact=True)).to_be_visible()
    await amina.evaluate(IDB_BARRIER, await offline_copy(amina))

    await app.terminate()
    await amina.goto(f"/d/{document_id}")
    await expect(amina.get_by_role("heading", name="Plan", level=1)).to_be_visible()
    await expect(editor_of(amina)).to_contain_text("Opened again without a server.")
    await expect(amina.get_by_text(OFFLINE)).to_be_visible()

    await app.start()
    await expect(amina.get_by_text("Saved", exact=True)).to_be_visible(timeout=30_000)
