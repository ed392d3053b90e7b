"""Mentions and notifications in the web app: "@" offers the members, the mention is stored as
``<@USER_ID>``, the mentioned person's bell counts it live and its notification opens the
document at the thread. Also axe-core on the comments panel and the notification list, and both
in French and Spanish."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from tests.web.conftest import (
    NewPage,
    api,
    axe_violations,
    editor_of,
    open_editor,
    same_person,
    screenshot,
    team,
)
from tests.web.test_comments import TEXT, select, thread, write

pytestmark = pytest.mark.integration


def bell(page: Page, name: str) -> Locator:
    return page.get_by_role("button", name=name, exact=True)


async def assert_axe_clean(page: Page, name: str) -> None:
    violations = await axe_violations(page)
    summary = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]])  # type: ignore[attr-defined]
        for v in violations
    ]
    assert violations == [], f"{name}: {summary}"


async def test_a_mention_rings_the_bell_live_and_opens_the_thread(new_page: NewPage) -> None:
    amina, jonas, workspace_id, document_id = await team(new_page)
    me = await api(jonas, "GET", "/api/me")
    assert isinstance(me, dict)
    # Jonas is on the workspace page; Amina comments in the document.
    await jonas.goto(f"/w/{workspace_id}")
    await expect(bell(jonas, "Notifications, 0 unread")).to_be_visible()
    await open_editor(amina, document_id)
    await write(amina, TEXT)

    await select(amina, "for all")
    await amina.get_by_role("button", name="Comment", exact=True).click()
    box = amina.get_by_role("textbox", name="Your comment")
    await box.type("Please check this, @")
    members = amina.get_by_role("listbox", name="Members")
    await expect(members.get_by_role("option")).to_have_text(["Amina Diallo", "Jonas Mbeki"])
    await expect(members.get_by_role("option", name="Amina Diallo")).to_have_attribute(
        "aria-selected", "true"
    )
    await amina.keyboard.press("ArrowDown")
    # The textbox points at the active option, as the combobox pattern has it.
    option = members.get_by_role("option", name="Jonas Mbeki")
    await expect(option).to_have_attribute("aria-selected", "true")
    await expect(box).to_have_attribute(
        "aria-activedescendant", str(await option.get_attribute("id"))
    )
    await amina.keyboard.press("Enter")
    await expect(members).to_be_hidden()
    await expect(box).to_have_value("Please check this, @Jonas Mbeki ")
    await amina.get_by_role("button", name="Post comment").click()
    await expect(thread(amina, "for all").locator(".mention")).to_have_text("@Jonas Mbeki")
    threads = await api(amina, "GET", f"/api/documents/{document_id}/threads")
    assert isinstance(threads, dict)
    body = threads["items"][0]["comments"][0]["body"]
    assert body == f"Please check this, <@{me['id']}> "

    # Jonas's bell counts it without a reload, and says so; the list names who and where.
    await expect(bell(jonas, "Notifications, 1 unread")).to_be_visible()
    await expect(
        jonas.get_by_role("status").filter(
            has_text="New notification: Amina Diallo mentioned you in Plan"
        )
    ).to_be_attached()
    await bell(jonas, "Notifications, 1 unread").click()
    notifications = jonas.get_by_role("region", name="Notifications")
    link = notifications.get_by_role("link", name="Unread: Amina Diallo mentioned you in Plan")
    await expect(link).to_be_visible()
    await expect(notifications).to_contain_text("Please check this, @Jonas Mbeki")
    await screenshot(jonas, "notifications-list")
    await link.click()
    # The document opens at the thread: its text selected, the thread focused.
    await expect(jonas).to_have_url(f"/d/{document_id}?thread={threads['items'][0]['id']}")
    await expect(thread(jonas, "for all")).to_be_focused()
    await expect(editor_of(jonas).locator("mark")).to_have_text(["for all"])
    await expect(bell(jonas, "Notifications, 0 unread")).to_be_visible()

    # Two more mentions, counted live on the editor page; "Mark all read" clears them.
    for text in ("Again, @Jo", "And again, @Jo"):
        reply = thread(amina, "for all").get_by_role("textbox", name="Your reply")
        await reply.type(text)
        await amina.get_by_role("option", name="Jonas Mbeki").click()
        await thread(amina, "for all").get_by_role("button", name="Reply").click()
        await expect(reply).to_have_value("")
    await expect(bell(jonas, "Notifications, 2 unread")).to_be_visible()
    await bell(jonas, "Notifications, 2 unread").click()
    items = jonas.get_by_role("region", name="Notifications").get_by_role("listitem")
    await expect(items).to_have_count(3)
    await items.first.get_by_role("button", name="Mark read").click()
    await expect(bell(jonas, "Notifications, 1 unread")).to_be_visible()
    await jonas.get_by_role("button", name="Mark all read").click()
    await expect(bell(jonas, "Notifications, 0 unread")).to_be_visible()
    count = await api(jonas, "GET", "/api/notifications/unread-count")
    assert count == {"unread": 0}

    # The list shows every mention in an excerpt by name, not only the reader's own.
    amina_id = (await api(amina, "GET", "/api/me"))["id"]  # type: ignore[index]
    await api(
        amina,
        "POST",
        f"/api/threads/{threads['items'][0]['id']}/comments",
        {"body": f"<@{amina_id}> and <@{me['id']}> agree."},
    )
    # (The list is still open: it takes the new one in live.)
    await expect(bell(jonas, "Notifications, 1 unread")).to_be_visible()
    await expect(jonas.get_by_role("region", name="Notifications")).to_contain_text(
        "@Amina Diallo and @Jonas Mbeki agree."
    )


async def test_comments_and_notifications_are_accessible_in_three_languages(
    new_page: NewPage,
) -> None:
    amina, jonas, _, document_id = await team(new_page)
    me = await api(jonas, "GET", "/api/me")
    assert isinstance(me, dict)
    await open_editor(amina, document_id)
    await write(amina, TEXT)
    await select(amina, "floors")
    await amina.get_by_role("button", name="Comment", exact=True).click()
    await amina.get_by_role("textbox", name="Your comment").fill(f"Which floors, <@{me['id']}>?")
    await amina.get_by_role("button", name="Post comment").click()
    await select(amina, "basic income")
    await amina.get_by_role("button", name="Comment", exact=True).click()
    await amina.get_by_role("textbox", name="Your comment").fill("To be deleted.")
    await amina.get_by_role("button", name="Post comment").click()
    await select(amina, "basic income")
    await amina.keyboard.press("Delete")

    # axe-core is injected as a script: this browser does not apply the page's CSP.
    checked = await new_page(bypass_csp=True)
    await checked.goto("/login")
    await same_person(jonas, checked)
    for language, toggle, bell_name, detached in (
        ("en", "Comments", "Notifications, 1 unread", "Detached"),
        ("fr", "Commentaires", "Notifications, 1 non lue", "Détachés"),
        ("es", "Comentarios", "Notificaciones, 1 sin leer", "Desvinculados"),
    ):
        await checked.evaluate(f"localStorage.setItem('gess.language', '{language}')")
        await open_editor_in(checked, document_id, language)
        await checked.get_by_role("button", name=toggle, exact=True).click()
        panel = checked.get_by_role("complementary", name=toggle)
        await expect(panel.get_by_role("region", name=detached)).to_be_visible()
        await expect(panel.get_by_role("article")).to_have_count(2)
        await assert_axe_clean(checked, f"comments panel ({language})")
        await screenshot(checked, f"comments-panel-{language}")
        await bell(checked, bell_name).click()
        await expect(checked.get_by_role("region", name=bell_name.split(",")[0])).to_be_visible()
        await assert_axe_clean(checked, f"notifications ({language})")
        await screenshot(checked, f"notifications-{language}")
        await checked.keyboard.press("Escape")
        await expect(bell(checked, bell_name)).to_be_focused()


SAVED = {"en": "Saved", "fr": "Enregistré", "es": "Guardado"}


async def open_editor_in(page: Page, document_id: str, language: str) -> None:
    await page.goto(f"/d/{document_id}")
    await expect(page.get_by_role("status").filter(has_text=SAVED[language])).to_be_visible()
