"""Comments in the web app, between people in separate browsers against a real server: threads
anchored to text that follow it live, detached threads, resolve and reopen, commenters."""

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
from tests.web.test_accessibility import PHONE, no_sideways_scroll
from tests.web.test_editor import eventually_equal, paragraph_text

pytestmark = pytest.mark.integration

TEXT = "Social protection floors guarantee basic income security for all."

SELECT = """(root, phrase) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT)
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.data.indexOf(phrase)
        if (at < 0) continue
        const range = document.createRange()
        range.setStart(node, at)
        range.setEnd(node, at + phrase.length)
        getSelection().removeAllRanges()
        getSelection().addRange(range)
        return true
    }
    return false
}"""


EDITOR_SELECTION = """root => {
    const { state } = root.editor
    return state.doc.textBetween(state.selection.from, state.selection.to)
}"""
"""The text selected in the editor's own state (TipTap puts the editor on its element)."""


async def select(page: Page, phrase: str) -> None:
    """Selects ``phrase`` in the document's text, as a drag of the mouse over it would."""
    editor = editor_of(page)
    if await editor.get_attribute("contenteditable") == "true":
        await editor.click()

    async def selecting() -> str:
        # Selected again until the editor has taken it (it reads the browser's selection
        # later, and one that just got the focus puts back its own).
        if await editor.evaluate(EDITOR_SELECTION) != phrase:
            assert await editor.evaluate(SELECT, phrase), f"{phrase!r} is not in the text"
        text = await editor.evaluate(EDITOR_SELECTION)
        assert isinstance(text, str)
        return text

    await eventually_equal(selecting, phrase)


async def selected(page: Page) -> str:
    text = await page.evaluate("getSelection().toString()")
    assert isinstance(text, str)
    return text


def thread(page: Page, quote: str) -> Locator:
    return page.get_by_role("article", name=f"Comments on “{quote}”")


def highlights(page: Page) -> Locator:
    return editor_of(page).locator("mark")


async def write(page: Page, text: str) -> None:
    await editor_of(page).click()
    await page.keyboard.type(text)
    await expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()


async def comment(page: Page, phrase: str, body: str) -> None:
    await select(page, phrase)
    await page.get_by_role("button", name="Comment", exact=True).click()
    await page.get_by_role("textbox", name="Your comment").fill(body)
    await page.get_by_role("button", name="Post comment").click()
    await expect(thread(page, phrase)).to_be_visible()


async def test_a_thread_follows_its_text_live_and_is_detached_when_the_text_goes(
    new_page: NewPage,
) -> None:
    amina, jonas, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await write(amina, TEXT)
    await open_editor(jonas, document_id)
    await eventually_equal(lambda: paragraph_text(jonas), TEXT)
    await jonas.get_by_role("button", name="Comments", exact=True).click()
    panel = jonas.get_by_role("complementary", name="Comments")
    await expect(panel.get_by_text("No comments yet.")).to_be_visible()

    await comment(amina, "basic income", "Is this the term R202 uses?")
    await expect(highlights(amina)).to_have_text(["basic income"])
    # Jonas sees the highlight and the thread without reloading.
    await expect(highlights(jonas)).to_have_text(["basic income"])
    await expect(thread(jonas, "basic income")).to_contain_text("Is this the term R202 uses?")
    await expect(thread(jonas, "basic income")).to_contain_text("Amina Diallo")
    await screenshot(jonas, "comments-thread")

    # Jonas types before the phrase: the highlight stays on the same words, for both.
    await editor_of(jonas).locator("p").first.click(position={"x": 1, "y": 5})
    await jonas.keyboard.press("Home")
    await jonas.keyboard.type("National ")
    await eventually_equal(lambda: paragraph_text(amina), "National " + TEXT)
    await expect(highlights(jonas)).to_have_text(["basic income"])
    await expect(highlights(amina)).to_have_text(["basic income"])

    # A reply, seen live; clicking the quote selects the text in the editor.
    await (
        thread(jonas, "basic income")
        .get_by_role("textbox", name="Your reply")
        .fill("Yes: basic income security.")
    )
    await thread(jonas, "basic income").get_by_role("button", name="Reply").click()
    await expect(thread(amina, "basic income")).to_contain_text("Yes: basic income security.")
    await thread(amina, "basic income").get_by_role("button", name="“basic income”").click()
    await eventually_equal(lambda: selected(amina), "basic income")

    # Resolve and reopen, live on the other side.
    await thread(jonas, "basic income").get_by_role("button", name="Resolve").click()
    resolved = amina.get_by_role("region", name="Resolved")
    await expect(resolved.get_by_role("article", name="Comments on “basic income”")).to_be_visible()
    await expect(highlights(amina)).to_have_count(0)
    await resolved.get_by_role("button", name="Reopen").click()
    await expect(jonas.get_by_role("region", name="Resolved")).to_be_hidden()
    await expect(highlights(jonas)).to_have_text(["basic income"])

    # Jonas deletes the phrase: the thread is kept, detached, with its quote.
    await select(jonas, "basic income")
    await jonas.keyboard.press("Delete")
    gone = "National " + TEXT.replace("basic income", "")
    await eventually_equal(lambda: paragraph_text(jonas), gone)
    for page in (amina, jonas):
        detached = page.get_by_role("region", name="Detached")
        await expect(
            detached.get_by_role("article", name="Comments on “basic income”")
        ).to_be_visible()
        await expect(detached.get_by_text("“basic income”")).to_be_visible()
        await expect(highlights(page)).to_have_count(0)
    await screenshot(amina, "comments-detached")
    threads = await api(amina, "GET", f"/api/documents/{document_id}/threads")
    assert isinstance(threads, dict)
    assert [t["detached"] for t in threads["items"]] == [True]


async def test_own_comments_can_be_edited_and_deleted(new_page: NewPage) -> None:
    amina, jonas, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await write(amina, TEXT)
    await open_editor(jonas, document_id)
    await comment(amina, "floors", "First thought.")
    await comment(amina, "Social", "Earlier in the text, listed first.")
    await jonas.get_by_role("button", name="Comments", exact=True).click()
    # Open threads are listed in the order of their text, not of their creation.
    listed = jonas.get_by_role("list", name="Open comments").get_by_role("article")
    await expect(listed).to_have_count(2)
    names = [await article.get_attribute("aria-label") for article in await listed.all()]
    assert names == ["Comments on “Social”", "Comments on “floors”"]
    box = thread(jonas, "floors")
    await box.get_by_role("textbox", name="Your reply").fill("A reply to edit.")
    await box.get_by_role("button", name="Reply").click()
    await expect(box).to_contain_text("A reply to edit.")
    # Only one's own comments offer Edit: Jonas has one, on his reply.
    await expect(box.get_by_role("button", name="Edit")).to_have_count(1)
    await box.get_by_role("button", name="Edit").click()
    await box.get_by_role("textbox", name="Edit your comment").fill("An edited reply.")
    await box.get_by_role("button", name="Save").click()
    await expect(thread(amina, "floors")).to_contain_text("(edited)An edited reply.")
    await box.get_by_role("button", name="Delete").click()
    await jonas.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(thread(amina, "floors")).not_to_contain_text("An edited reply.")
    await expect(thread(amina, "floors")).to_contain_text("First thought.")


async def test_a_commenter_comments_but_cannot_edit(new_page: NewPage) -> None:
    amina, reviewer, _, document_id = await team(new_page, role="commenter")
    await open_editor(amina, document_id)
    await write(amina, TEXT)
    await open_editor(reviewer, document_id)
    await expect(reviewer.get_by_text("Read only", exact=True)).to_be_visible()
    await expect(editor_of(reviewer)).not_to_be_editable()
    await expect(reviewer.get_by_role("toolbar", name="Formatting")).to_be_hidden()

    # The keyboard shortcut, shown on the button, starts a comment on the selection.
    button = reviewer.get_by_role("button", name="Comment", exact=True)
    await expect(button).to_have_attribute("aria-keyshortcuts", "Control+Alt+M")
    await select(reviewer, "guarantee")
    await reviewer.keyboard.press("Control+Alt+m")
    await expect(reviewer.get_by_role("textbox", name="Your comment")).to_be_focused()
    await reviewer.keyboard.type("Guarantee, or aim?")
    await reviewer.get_by_role("button", name="Post comment").click()
    await expect(highlights(amina)).to_have_text(["guarantee"])
    await expect(thread(reviewer, "guarantee")).to_contain_text("Guarantee, or aim?")
    await screenshot(reviewer, "comments-commenter")

    # Typing in the text changes nothing: Amina's later edit is the barrier.
    await editor_of(reviewer).click()
    await reviewer.keyboard.type("reviewer typed this")
    await editor_of(amina).click()
    await amina.keyboard.press("Control+End")
    await amina.keyboard.type(" Amen.")
    await expect(editor_of(reviewer)).to_contain_text("Amen.")
    await expect(editor_of(amina)).not_to_contain_text("reviewer typed this")
    await expect(editor_of(reviewer)).not_to_contain_text("reviewer typed this")

    # Clicking a highlight takes the reader to its thread.
    await reviewer.get_by_role("button", name="Comments", exact=True).click()
    await expect(reviewer.get_by_role("complementary", name="Comments")).to_be_hidden()
    await highlights(reviewer).click()
    await expect(thread(reviewer, "guarantee")).to_be_focused()
    await expect(thread(reviewer, "guarantee")).to_have_attribute("aria-current", "true")


async def test_the_comments_panel_fits_a_phone(new_page: NewPage) -> None:
    amina, _, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await write(amina, TEXT)
    await comment(amina, "floors", "Which floors are meant here?")
    phone = await new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await phone.goto("/login")
    await same_person(amina, phone)
    await open_editor(phone, document_id)
    await phone.get_by_role("button", name="Comments", exact=True).tap()
    await expect(thread(phone, "floors")).to_contain_text("Which floors are meant here?")
    await expect(highlights(phone)).to_have_text(["floors"])
    await no_sideways_scroll(phone)
    await thread(phone, "floors").scroll_into_view_if_needed()
    await screenshot(phone, "comments-phone")


async def test_a_viewer_reads_comments_and_may_comment_once_made_commenter(
    new_page: NewPage,
) -> None:
    amina, viewer, workspace_id, document_id = await team(new_page, role="viewer")
    me = await api(viewer, "GET", "/api/me")
    assert isinstance(me, dict)
    await open_editor(amina, document_id)
    await write(amina, TEXT)
    await comment(amina, "floors", "Which floors?")
    await open_editor(viewer, document_id)
    await viewer.get_by_role("button", name="Comments", exact=True).click()
    box = thread(viewer, "floors")
    await expect(box).to_contain_text("Which floors?")
    # A viewer gets nothing that could not work for them.
    await expect(viewer.get_by_role("button", name="Comment", exact=True)).to_be_hidden()
    await expect(box.get_by_role("textbox", name="Your reply")).to_be_hidden()
    await expect(box.get_by_role("button", name="Resolve")).to_have_count(0)

    # Made a commenter, the open page offers commenting at once.
    await api(
        amina, "PATCH", f"/api/workspaces/{workspace_id}/members/{me['id']}", {"role": "commenter"}
    )
    await expect(viewer.get_by_role("button", name="Comment", exact=True)).to_be_visible()
    await box.get_by_role("textbox", name="Your reply").fill("Contributory and non-contributory.")
    await box.get_by_role("button", name="Reply").click()
    await expect(thread(amina, "floors")).to_contain_text("Contributory and non-contributory.")
    await expect(editor_of(viewer)).not_to_be_editable()
