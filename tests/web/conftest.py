"""Browser tests: Debian's Chromium driven by Playwright against a real ``gess serve``.

Chromium comes from the system (``apt-get install chromium``, done by scripts/test as root),
never from a Playwright download. Without it the tests skip, and under ``CI=true`` they fail.
Screenshots land in ``test-artifacts/web/`` at the top of the tree (ignored by git).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Route,
    async_playwright,
    expect,
)

from tests.conftest import StartServer, require
from tests.integration.server import REPO_ROOT, GessServer
from tests.interop.node import scaled

CHROMIUM = os.environ.get("GESS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "web"
AXE = REPO_ROOT / "client" / "web" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
"""The policy the server's security headers set: every page is tested under it."""

pytestmark = pytest.mark.integration


def chromium_missing() -> str | None:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if not AXE.is_file():
        return "axe-core is not installed (npm ci in client/web)"
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require(chromium_missing())
    expect.set_options(timeout=scaled(10.0) * 1000)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            # Pages served through a route (to add the CSP header, below) have no IP address
            # space, so Chromium's Local Network Access would treat them as public and refuse
            # their sockets to 127.0.0.1. A real page from the server is not affected.
            args=["--disable-features=LocalNetworkAccessChecks"],
        )
        yield launched
        await launched.close()


@pytest.fixture
async def app(gess_server: StartServer) -> GessServer:
    """A server with accounts (the web app's normal mode)."""
    return await gess_server(anonymous=False)


NewPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def new_page(browser: Browser, app: GessServer) -> AsyncIterator[NewPage]:
    """``page = await new_page()``: a page in a browser context of its own (one person).

    Keyword arguments go to ``browser.new_context`` (e.g. ``viewport``)."""
    contexts: list[BrowserContext] = []

    async def make(**options: object) -> Page:
        context = await browser.new_context(base_url=app.http_url, **options)  # type: ignore[arg-type]
        await context.grant_permissions(["clipboard-read", "clipboard-write"])
        context.set_default_timeout(scaled(10.0) * 1000)
        contexts.append(context)
        if not options.get("bypass_csp"):
            await context.route("**/*", _with_csp)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                errors.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.errors = errors  # type: ignore[attr-defined]
        return page

    yield make
    for context in contexts:
        await context.close()


async def _with_csp(route: Route) -> None:
    """Serves pages with the production Content-Security-Policy (no inline script, no eval,
    nothing from another origin)."""
    if route.request.resource_type != "document":
        await route.continue_()
        return
    response = await route.fetch()
    headers = {**response.headers, "content-security-policy": CSP}
    await route.fulfill(response=response, headers=headers)


async def screenshot(page: Page, name: str) -> None:
    """Keeps what the screen shows (``name.png``) and the whole page (``name-full.png``) as
    test artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    await page.screenshot(path=str(ARTIFACTS / f"{name}-full.png"), full_page=True)


async def register(page: Page, name: str, email: str) -> None:
    """Creates an account through the registration page and waits for the home page."""
    await page.goto("/register")
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="My workspaces", level=1)).to_be_visible()


async def create_workspace(page: Page, name: str) -> str:
    """Creates a workspace from the home page; returns its id (from the URL it lands on)."""
    await page.get_by_label("Workspace name").fill(name)
    await page.get_by_role("button", name="Create workspace").click()
    await expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    return page.url.rsplit("/", 1)[-1]


async def create_document(page: Page, title: str, template: str) -> str:
    """Creates a document from the workspace page; returns its id once the editor shows."""
    await page.get_by_text("New document").click()
    await page.get_by_label("Title", exact=True).fill(title)
    await page.get_by_label(template, exact=True).check()
    await page.get_by_role("button", name="Create document").click()
    await expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    return page.url.rsplit("/", 1)[-1]


async def invite_link(page: Page, role: str = "editor") -> str:
    """As an owner on the workspace page: makes an invitation link and returns it."""
    await page.get_by_label("Role", exact=True).select_option(role)
    await page.get_by_role("button", name="Invite", exact=True).click()
    link = page.get_by_role("textbox", name="Invitation link")
    await expect(link).to_be_visible()
    return await link.input_value()


async def axe_violations(page: Page) -> list[dict[str, object]]:
    """Runs axe-core on the page; returns the serious and critical violations."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async () => (await axe.run(document)).violations")
    return [v for v in result if v.get("impact") in ("serious", "critical")]


async def api(page: Page, method: str, path: str, data: object | None = None) -> object:
    """A REST call as the page's signed-in person (the context's cookies, with the CSRF
    header), for setting up what a test is not about."""
    headers = {}
    for cookie in await page.context.cookies():
        if cookie.get("name") == "gess_csrf":
            headers["X-CSRF-Token"] = str(cookie.get("value"))
    response = await page.request.fetch(path, method=method, data=data, headers=headers)
    assert response.ok, f"{method} {path}: {response.status} {await response.text()}"
    if response.status == 204:
        return None
    if "json" in response.headers.get("content-type", ""):
        return await response.json()
    return await response.text()


async def sign_up(
    page: Page, name: str, email: str, invite_token: str | None = None
) -> dict[str, object]:
    """Creates an account over REST; the page's context is then signed in."""
    body: dict[str, object] = {"name": name, "email": email, "password": PASSWORD}
    if invite_token is not None:
        body["invite_token"] = invite_token
    session = await api(page, "POST", "/api/auth/register", body)
    assert isinstance(session, dict) and isinstance(session["user"], dict)
    user: dict[str, object] = session["user"]
    return user


async def team(
    new_page: NewPage, role: str = "editor", template: str = "blank"
) -> tuple[Page, Page, str, str]:
    """An owner and a second member (``role``) of one workspace with one document.

    Returns both pages (signed in, blank), the workspace id and the document id."""
    owner = await new_page()
    await sign_up(owner, "Amina Diallo", "amina@example.org")
    workspace = await api(owner, "POST", "/api/workspaces", {"name": "Senegal ASSAP 2027"})
    assert isinstance(workspace, dict)
    document = await api(
        owner,
        "POST",
        f"/api/workspaces/{workspace['id']}/documents",
        {"title": "Plan", "template": template},
    )
    invitation = await api(
        owner, "POST", f"/api/workspaces/{workspace['id']}/invitations", {"role": role}
    )
    assert isinstance(document, dict) and isinstance(invitation, dict)
    member = await new_page()
    await sign_up(member, "Jonas Mbeki", "jonas@example.org", invitation["token"])
    return owner, member, workspace["id"], document["id"]


async def same_person(source: Page, target: Page) -> None:
    """Signs ``target``'s browser in as ``source``'s person (copies the session cookies)."""
    cookies = await source.context.cookies()
    await target.context.add_cookies(
        [
            {"name": c["name"], "value": c["value"], "url": target.url or source.url}
            for c in cookies
            if "name" in c and "value" in c
        ]
    )


def editor_of(page: Page) -> Locator:
    """The document's text area (TipTap's contenteditable)."""
    return page.get_by_role("textbox", name="Content of Plan")


async def open_editor(page: Page, document_id: str) -> None:
    """Opens the document and waits until it is synced and nothing is pending."""
    await page.goto(f"/d/{document_id}")
    await expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
