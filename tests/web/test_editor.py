"""The editor in a real browser: templates as stored, co-editing, the saved state, offline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from playwright.async_api import Locator, Page, expect

from tests.integration.server import GessServer
from tests.interop.node import scaled
from tests.web.conftest import NewPage, api, editor_of, open_editor, screenshot, team

pytestmark = pytest.mark.integration

IDB_BARRIER = """name => new Promise((resolve, reject) => {
    const open = indexedDB.open(name)
    open.onerror = () => reject(open.error)
    open.onsuccess = () => {
        const request = open.result.transaction('updates').objectStore('updates').count()
        request.onsuccess = () => { open.result.close(); resolve(request.result) }
        request.onerror = () => reject(request.error)
    }
})"""


async def offline_copy(page: Page) -> str:
    """The name of the one IndexedDB database holding this browser's offline copy (it is named
    after the person and the document)."""
    (name,) = await page.evaluate(
        "async () => (await indexedDB.databases())"
        ".map(d => d.name).filter(n => n.startsWith('gess-'))"
    )
    assert isinstance(name, str)
    return name


OFFLINE = "Offline: changes are sent when the connection returns"
KEPT = "Kept on this device"


async def stored_updates(app: GessServer) -> float:
    """How many updates the server has committed so far (all documents)."""
    metrics = await app.metrics()
    return metrics.get("gess_store_transaction_updates_sum", 0.0)


async def test_assap_plan_renders_as_stored_and_opening_it_writes_nothing(
    new_page: NewPage, app: GessServer
) -> None:
    owner, _, workspace_id, _ = await team(new_page)
    await owner.goto(f"/w/{workspace_id}")
    await owner.get_by_text("New document").click()
    await owner.get_by_label("Title", exact=True).fill("ASSAP Senegal")
    await owner.get_by_label("ASSAP plan", exact=True).check()
    before = await stored_updates(app)
    await owner.get_by_role("button", name="Create document").click()
    await expect(owner.get_by_text("Saved", exact=True)).to_be_visible()

    text = owner.get_by_role("textbox", name="Content of ASSAP Senegal")
    await expect(
        text.get_by_role("heading", name="Adapted Social Security strategy and Action Plan (ASSAP)")
    ).to_be_visible()
    for heading in ("0 Metadata", "4 Diagnosis", "4.2 Coverage-gap matrix", "10 Action plan"):
        await expect(text.get_by_role("heading", name=heading)).to_be_visible()
    matrix = text.get_by_role("table").filter(has_text="Branch")
    await expect(matrix.get_by_role("columnheader", name="Migrants")).to_be_visible()
    await expect(
        matrix.get_by_text("Guarantee 2: basic income security for children")
    ).to_be_visible()
    await expect(matrix.get_by_text("Survivors (C102 Part X)")).to_be_visible()
    await screenshot(owner, "editor-assap")

    # Opened, looked at, closed: the server stored the template (one update, written before
    # the document's id was returned) and nothing from this browser. "Saved" above already
    # waited for anything the editor might have written to be committed.
    await owner.goto(f"/w/{workspace_id}")
    await expect(owner.get_by_role("link", name="ASSAP Senegal")).to_be_visible()
    assert await stored_updates(app) == before + 1
    assert owner.errors == []  # type: ignore[attr-defined]


async def test_two_people_type_in_the_same_paragraph_and_converge(new_page: NewPage) -> None:
    amina, jonas, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await open_editor(jonas, document_id)
    # Each sees the other here.
    await expect(
        amina.get_by_role("list", name="Who is here").get_by_text("Jonas Mbeki")
    ).to_have_count(1)
    await expect(
        jonas.get_by_role("list", name="Who is here").get_by_text("Amina Diallo")
    ).to_have_count(1)

    await editor_of(amina).click()
    await amina.keyboard.type("Coverage for informal workers. ")
    await expect(editor_of(jonas)).to_contain_text("Coverage for informal workers.")
    # Jonas types in the same paragraph, at its end.
    await editor_of(jonas).get_by_text("Coverage for informal workers.").click()
    await jonas.keyboard.press("End")
    await jonas.keyboard.type("Start with domestic workers.")
    await amina.keyboard.type("Rural areas first.")
    for page in (amina, jonas):
        await expect(editor_of(page)).to_contain_text("Start with domestic workers.")
        await expect(editor_of(page)).to_contain_text("Rural areas first.")
    # Named carets: each sees the other's.
    await expect(editor_of(amina).get_by_text("Jonas Mbeki")).to_be_visible()
    await expect(editor_of(jonas).get_by_text("Amina Diallo")).to_be_visible()
    await screenshot(amina, "editor-two-people")

    # Converged: the same text in both, and after a reload.
    await expect(amina.get_by_text("Saved", exact=True)).to_be_visible()
    await expect(jonas.get_by_text("Saved", exact=True)).to_be_visible()
    text = await paragraph_text(amina)
    assert "Start with domestic workers." in text and "Rural areas first." in text
    await eventually_equal(lambda: paragraph_text(jonas), text)
    await jonas.reload()
    await expect(editor_of(jonas)).to_contain_text("Rural areas first.")
    await eventually_equal(lambda: paragraph_text(jonas), text)
    assert amina.errors == [] and jonas.errors == []  # type: ignore[attr-defined]


async def eventually_equal(read: Callable[[], Awaitable[str]], expected: str) -> None:
    """Waits until ``read()`` gives ``expected`` (the page is still receiving)."""
    seen = await read()
    with anyio.fail_after(scaled(10.0)):
        while seen != expected:
            await anyio.sleep(0.05)
            seen = await read()


async def paragraph_text(page: Page) -> str:
    """The text of the document's paragraphs, without the carets' name labels."""
    text: str = await editor_of(page).evaluate(
        """element => {
            const copy = element.cloneNode(true)
            copy.querySelectorAll('.collaboration-carets__label').forEach(label => label.remove())
            return copy.innerText.trim()
        }"""
    )
    return text


async def test_saved_only_when_acknowledged_offline_when_down_and_sent_after_restart(
    new_page: NewPage, app: GessServer
) -> None:
    amina, jonas, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await open_editor(jonas, document_id)
    await editor_of(amina).click()
    await amina.keyboard.type("Before the outage.")
    await expect(amina.get_by_text("Saved", exact=True)).to_be_visible()
    await expect(editor_of(jonas)).to_contain_text("Before the outage.")

    await app.terminate()
    for page in (amina, jonas):
        await expect(page.get_by_text(OFFLINE)).to_be_visible()
    await expect(jonas.get_by_text(KEPT)).to_be_hidden()
    await amina.keyboard.type(" Typed while the server was down.")
    await screenshot(amina, "editor-offline")
    # Nothing acknowledged it: the page says so, and keeps saying it.
    await expect(amina.get_by_text(OFFLINE)).to_be_visible()
    await expect(amina.get_by_text(KEPT)).to_be_visible()
    await expect(amina.get_by_text("Saved", exact=True)).to_have_count(0)

    await app.start()
    await expect(amina.get_by_text("Saved", exact=True)).to_be_visible(timeout=30_000)
    await expect(amina.get_by_text(KEPT)).to_be_hidden()
    await expect(editor_of(jonas)).to_contain_text(
        "Typed while the server was down.", timeout=30_000
    )
    export = await api(jonas, "GET", f"/api/documents/{document_id}/export?format=markdown")
    assert "Before the outage. Typed while the server was down." in str(export)


async def test_edits_made_offline_survive_closing_the_page_and_are_sent_later(
    new_page: NewPage, app: GessServer
) -> None:
    amina, jonas, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await app.terminate()
    await expect(amina.get_by_text(OFFLINE)).to_be_visible()
    await editor_of(amina).click()
    await amina.keyboard.type("Kept in this browser.")
    # A read of the IndexedDB copy, queued after the writes of every keystroke, returns once
    # they are done (a person does not close the tab within the same millisecond).
    await amina.evaluate(IDB_BARRIER, await offline_copy(amina))
    # The tab is closed while the server is down; this browser's IndexedDB keeps the edit.
    context = amina.context
    await amina.close()
    await app.start()
    again = await context.new_page()
    await again.goto(f"/d/{document_id}")
    await expect(editor_of(again)).to_contain_text("Kept in this browser.")
    await expect(again.get_by_text("Saved", exact=True)).to_be_visible()
    await open_editor(jonas, document_id)
    await expect(editor_of(jonas)).to_contain_text("Kept in this browser.")


async def test_your_avatar_has_the_colour_others_see_for_you(new_page: NewPage) -> None:
    amina, jonas, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await open_editor(jonas, document_id)

    def avatar(page: Page, name: str) -> Locator:
        here = page.get_by_role("list", name="Who is here")
        return here.get_by_role("listitem").filter(has_text=name)

    background = "element => getComputedStyle(element).backgroundColor"
    for person in ("Amina Diallo", "Jonas Mbeki"):
        await expect(avatar(amina, person)).to_be_visible()
        await expect(avatar(jonas, person)).to_be_visible()
        own = amina if person == "Amina Diallo" else jonas
        other = jonas if own is amina else amina
        seen_by_self = await avatar(own, person).evaluate(background)
        seen_by_other = await avatar(other, person).evaluate(background)
        assert seen_by_self == seen_by_other, (person, seen_by_self, seen_by_other)
    await screenshot(amina, "editor-avatars")
