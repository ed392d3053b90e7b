"""The interface in French and Spanish: every main page's labels come from the translation
files, and no English string of the interface is left on them.

"No English left" is checked against ``en.json`` itself, whatever it holds when the test runs:
every text node and accessible name on the page is compared with every English string that
the language translates differently, so strings added later are covered without a change here.
"""

from __future__ import annotations

import json
import re
from functools import cache

import pytest
from playwright.async_api import Locator, Page, expect

from content import TEMPLATES
from tests.integration.server import REPO_ROOT
from tests.web.conftest import PASSWORD, NewPage, screenshot

pytestmark = pytest.mark.integration

LOCALES = REPO_ROOT / "client" / "web" / "src" / "locales"
JUST_NOW = {
    "fr": re.compile(r"^(maintenant|il y a \d+ secondes?)$"),
    "es": re.compile(r"^(ahora|hace \d+ segundos?)$"),
}

TEXTS = """() => {
    const texts = [document.title]
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        // The document's own content is what people wrote, not the interface.
        if (node.parentElement?.closest('.ProseMirror')) continue
        const text = node.textContent.trim()
        if (text) texts.push(text)
    }
    for (const element of document.body.querySelectorAll('[aria-label], [title], [placeholder]')) {
        if (element.closest('.ProseMirror')) continue
        for (const name of ['aria-label', 'title', 'placeholder']) {
            const value = element.getAttribute(name)
            if (value) texts.push(value.trim())
        }
    }
    return texts
}"""


@cache
def strings(language: str) -> dict[str, str]:
    table = json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    assert isinstance(table, dict)
    return table


def english_patterns(language: str) -> list[tuple[str, re.Pattern[str]]]:
    """The English strings ``language`` says differently, as patterns of a whole text (a
    ``{name}`` matches anything). Strings with fewer than three letters of their own (``{actor}:
    {verb}``) would match any text and are left out."""
    english, other = strings("en"), strings(language)
    patterns = []
    for key, text in english.items():
        if other.get(key) == text:
            continue
        literal = re.sub(r"\{\w+\}", "", text)
        if len(re.findall(r"[A-Za-z]", literal)) < 3:
            continue
        parts = re.split(r"\{\w+\}", text)
        patterns.append((key, re.compile(".+".join(re.escape(part) for part in parts))))
    return patterns


async def assert_no_english(page: Page, language: str, where: str) -> None:
    texts = await page.evaluate(TEXTS)
    assert texts, where
    left = [
        (key, text)
        for text in texts
        for key, pattern in english_patterns(language)
        if pattern.fullmatch(text)
    ]
    assert left == [], f"{where}: English left in {language}: {left}"


def editor_of_in(page: Page, s: dict[str, str]) -> Locator:
    """The text area of the document "Plan", named in the page's language."""
    return page.get_by_role("textbox", name=s["editor.content"].replace("{title}", "Plan"))


async def in_language(page: Page, language: str, name: str) -> None:
    await page.evaluate("() => new Promise(resolve => requestAnimationFrame(() => resolve()))")
    await expect(page.locator("html")).to_have_attribute("lang", language)
    await assert_no_english(page, language, name)
    await screenshot(page, f"{language}-{name}")


@pytest.mark.parametrize("language", ["fr", "es"])
async def test_every_main_page_speaks_the_language_chosen_and_remembers_it(
    new_page: NewPage, language: str
) -> None:
    s = strings(language)
    page = await new_page()
    await page.goto("/login")
    await page.get_by_label("Language").select_option(language)
    # The choice is kept for the next visit.
    await page.reload()
    await expect(page.get_by_role("heading", name=s["login.title"], level=1)).to_be_visible()
    await expect(page.get_by_label(s["language"])).to_have_value(language)
    await expect(page.get_by_label(s["field.email"])).to_be_visible()
    await expect(page.get_by_role("button", name=s["login.submit"])).to_be_visible()
    await in_language(page, language, "login")

    await page.get_by_role("link", name=s["login.register"]).click()
    await expect(page.get_by_role("heading", name=s["register.title"], level=1)).to_be_visible()
    await in_language(page, language, "register")
    await page.get_by_label(s["field.name"]).fill("Amina Diallo")
    await page.get_by_label(s["field.email"]).fill(f"amina.{language}@example.org")
    await page.get_by_label(s["field.password"]).fill(PASSWORD)
    await page.get_by_role("button", name=s["register.submit"]).click()

    await expect(page.get_by_role("heading", name=s["home.title"], level=1)).to_be_visible()
    await expect(page.get_by_text(s["home.none"])).to_be_visible()
    await in_language(page, language, "home")
    await page.get_by_label(s["home.new_name"]).fill("Sénégal ASSAP 2027")
    await page.get_by_role("button", name=s["home.create"]).click()

    await expect(page.get_by_role("heading", name="Sénégal ASSAP 2027", level=1)).to_be_visible()
    await expect(page.get_by_role("heading", name=s["docs.title"], level=2)).to_be_visible()
    await expect(page.get_by_role("heading", name=s["members.title"], level=2)).to_be_visible()
    await page.get_by_text(s["docs.new"]).click()
    # Template titles come with the templates, written in each language (content/templates).
    plan = TEMPLATES[f"assap-plan-{language}"].title
    await expect(page.get_by_label(plan, exact=True)).to_be_visible()
    await in_language(page, language, "workspace")
    await page.get_by_label(s["docs.title_field"], exact=True).fill("Plan")
    await page.get_by_label(TEMPLATES[f"blank-{language}"].title, exact=True).check()
    await page.get_by_role("button", name=s["docs.create"]).click()

    await expect(page.get_by_role("heading", name="Plan", level=1)).to_be_visible()
    await expect(page.get_by_text(s["saved.saved"], exact=True)).to_be_visible()
    await editor_of_in(page, s).click()
    await page.keyboard.type("Première version.")
    await expect(page.get_by_text(s["saved.saved"], exact=True)).to_be_visible()
    # Every panel of the document page, open.
    toggles = page.locator("button[aria-expanded=false]")
    for _ in range(await toggles.count()):
        await toggles.first.click()
    versions = page.get_by_role("region", name=s["versions.title"], exact=True)
    await versions.get_by_label(s["versions.name_field"]).fill("V1")
    await versions.get_by_role("button", name=s["versions.save"]).click()
    # When it was saved, in the language's words (Intl.RelativeTimeFormat).
    saved = versions.get_by_role("listitem").filter(has_text="V1").locator("time")
    await expect(saved).to_have_text(JUST_NOW[language])
    compare = s["versions.compare_named"].replace("{name}", "V1")
    await versions.get_by_role("button", name=compare).click()
    await expect(versions.get_by_text(s["versions.diff_none"])).to_be_visible()
    await expect(versions.get_by_role("heading", name=s["history.title"])).to_be_visible()
    await in_language(page, language, "document-diff")
    await versions.get_by_role(
        "button", name=s["versions.view_named"].replace("{name}", "V1")
    ).click()
    await expect(versions.get_by_text("Première version.")).to_be_visible()
    await in_language(page, language, "document-version")
    await versions.get_by_role(
        "button", name=s["versions.restore_named"].replace("{name}", "V1")
    ).click()
    await expect(page.get_by_role("dialog")).to_be_visible()
    await in_language(page, language, "document-restore")
    await page.get_by_role("dialog").get_by_role("button", name=s["cancel"]).click()

    await page.get_by_role("link", name=s["editor.back"]).click()
    await expect(page.get_by_role("heading", name=s["activity.title"], level=2)).to_be_visible()
    await expect(page.get_by_role("link", name="Plan")).to_be_visible()
    await in_language(page, language, "workspace-activity")


async def test_the_language_follows_the_browser_until_one_is_chosen(new_page: NewPage) -> None:
    page = await new_page(locale="es-ES")
    await page.goto("/login")
    await expect(page.get_by_role("heading", name=strings("es")["login.title"])).to_be_visible()
    await page.get_by_label(strings("es")["language"]).select_option("fr")
    await page.reload()
    await expect(page.get_by_role("heading", name=strings("fr")["login.title"])).to_be_visible()
    await page.get_by_label(strings("fr")["language"]).select_option("en")
    await page.goto("/register")
    await expect(page.get_by_role("heading", name=strings("en")["register.title"])).to_be_visible()


def test_every_language_has_every_string() -> None:
    english = strings("en")
    for language in ("fr", "es"):
        other = strings(language)
        assert other.keys() == english.keys(), language
        for key, text in english.items():
            assert other[key].strip(), (language, key)
            # The same placeholders, or the app would show a "{name}" or lose a value.
            assert set(re.findall(r"\{\w+\}", other[key])) == set(re.findall(r"\{\w+\}", text)), (
                language,
                key,
            )
