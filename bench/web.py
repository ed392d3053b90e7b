"""The web app's budgets, measured in Debian's Chromium against a real ``gess serve``.

    python -m bench.web [--runs N] [--keystrokes N]

Prints three figures (nothing is asserted; the budgets are in DESIGN.md "The web app"):

- the editor page's JavaScript, gzipped: every script the browser loaded for ``/d/{id}``,
  compressed with gzip -9 (budget 300 KB);
- navigation to an editable ASSAP plan: from ``page.goto`` to the plan's coverage-gap matrix on
  screen in an editable editor with the saved state "Saved" (synced), on loopback, first
  visit (empty cache) and later visits (budget 1 s);
- typing latency: from a keystroke's keydown in one browser to its character in the other
  browser's editor, p50 and p95 (budget p50 50 ms). Both pages run in one Chromium, so their
  ``performance.timeOrigin + performance.now()`` clocks are comparable.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from bench.system import free_port
from bench.targets import REPO_ROOT, Server, _gess_command

CHROMIUM = "/usr/bin/chromium"
STATIC = REPO_ROOT / "server" / "static"
PASSWORD = "benchmark password"

_OBSERVE = """() => {
    const editor = document.querySelector('[role=textbox][contenteditable]')
    window.__seen = []
    // Counts the x typed (the caret's name label also changes the text; the names have no x).
    const count = () => (editor.textContent.match(/x/g) || []).length
    let length = count()
    new MutationObserver(() => {
        const now = performance.timeOrigin + performance.now()
        const next = count()
        for (let i = length; i < next; i++) window.__seen.push(now)
        length = next
    }).observe(editor, {subtree: true, characterData: true, childList: true})
}"""

_STAMP_KEYS = """() => {
    window.__keys = []
    document.addEventListener('keydown', () => {
        window.__keys.push(performance.timeOrigin + performance.now())
    }, true)
}"""


async def _api(page: Page, method: str, path: str, data: object | None = None) -> Any:
    headers = {}
    for cookie in await page.context.cookies():
        if cookie.get("name") == "gess_csrf":
            headers["X-CSRF-Token"] = str(cookie.get("value"))
    response = await page.request.fetch(path, method=method, data=data, headers=headers)
    if not response.ok:
        raise RuntimeError(f"{method} {path}: {response.status} {await response.text()}")
    return await response.json()


async def _signed_in(browser: Browser, base: str, email: str, invite: str | None = None) -> Page:
    context = await browser.new_context(base_url=base)
    page = await context.new_page()
    body: dict[str, object] = {"name": email.split("@")[0], "email": email, "password": PASSWORD}
    if invite:
        body["invite_token"] = invite
    await _api(page, "POST", "/api/auth/register", body)
    return page


async def _open_plan(page: Page, document_id: str) -> float:
    """Seconds from navigation to an editable, synced ASSAP plan with its matrix on screen."""
    started = time.perf_counter()
    await page.goto(f"/d/{document_id}")
    await page.get_by_role("columnheader", name="Migrants").wait_for()
    await page.locator("[role=textbox][contenteditable=true]").wait_for()
    await page.get_by_text("Saved", exact=True).wait_for()
    return time.perf_counter() - started


def _gzipped(url_path: str) -> int:
    return len(gzip.compress((STATIC / url_path.lstrip("/")).read_bytes(), 9))


async def measure(browser: Browser, base: str, runs: int, keystrokes: int) -> None:
    owner = await _signed_in(browser, base, "owner@example.org")
    workspace = await _api(owner, "POST", "/api/workspaces", {"name": "Bench"})
    plan = await _api(
        owner,
        "POST",
        f"/api/workspaces/{workspace['id']}/documents",
        {"title": "ASSAP", "template": "assap-plan"},
    )
    invitation = await _api(
        owner, "POST", f"/api/workspaces/{workspace['id']}/invitations", {"role": "editor"}
    )

    scripts: set[str] = set()
    owner.on(
        "response",
        lambda r: scripts.add(r.url.split(base, 1)[1]) if r.url.endswith(".js") else None,
    )
    cold = await _open_plan(owner, plan["id"])
    size = sum(_gzipped(path) for path in scripts)
    print(f"editor page JavaScript: {size / 1024:.1f} KB gzipped ({len(scripts)} files)")
    warm = [await _open_plan(owner, plan["id"]) for _ in range(runs)]
    print(
        f"navigation to an editable ASSAP plan: first {cold * 1000:.0f} ms, "
        f"then p50 {statistics.median(warm) * 1000:.0f} ms over {runs} loads "
        f"(max {max(warm) * 1000:.0f} ms)"
    )

    blank = await _api(
        owner,
        "POST",
        f"/api/workspaces/{workspace['id']}/documents",
        {"title": "Typing", "template": "blank"},
    )
    reader = await _signed_in(browser, base, "reader@example.org", invitation["token"])
    for page in (owner, reader):
        await page.goto(f"/d/{blank['id']}")
        await page.get_by_text("Saved", exact=True).wait_for()
    await reader.evaluate(_OBSERVE)
    await owner.evaluate(_STAMP_KEYS)
    await owner.locator("[role=textbox]").click()
    for number in range(keystrokes):
        await owner.keyboard.type("x")
        await _wait_until_seen(reader, number + 1)
    keys: list[float] = await owner.evaluate("window.__keys")
    seen: list[float] = await reader.evaluate("window.__seen")
    latencies = sorted(b - a for a, b in zip(keys, seen, strict=True))
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"typing latency (keystroke -> visible in a second browser): "
        f"p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms over {len(latencies)} keys"
    )


async def _wait_until_seen(reader: Page, count: int, within: float = 10.0) -> None:
    """Wait until the reader has seen ``count`` keystrokes (their times are taken in the page).

    Not ``wait_for_function``: Playwright compiles its predicate with ``eval``, which the app's
    Content-Security-Policy forbids; ``evaluate`` goes through the debugging protocol instead.
    """
    deadline = time.monotonic() + within
    while await reader.evaluate("window.__seen.length") < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"keystroke {count} not seen by the reader within {within} s")
        await asyncio.sleep(0.001)


async def main(runs: int, keystrokes: int) -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(
            name="gess",
            command=[
                *_gess_command(),
                "serve",
                "--port",
                str(port),
                "--data-dir",
                f"{tmp}/data",
                "--log-level",
                "warning",
            ],
            port=port,
            url=f"ws://127.0.0.1:{port}/ws",
            dialect="yws",
            log_path=Path(tmp) / "gess.log",
        )
        await server.start()
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM)
                try:
                    await measure(browser, f"http://127.0.0.1:{port}", runs, keystrokes)
                finally:
                    await browser.close()
        finally:
            await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="warm page loads to time")
    parser.add_argument("--keystrokes", type=int, default=100, help="keystrokes to time")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.keystrokes))
