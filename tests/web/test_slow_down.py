"""The editor when the server says "slow down" (4429: too many messages, a reader too far
behind): it connects again after a pause and keeps what was typed, instead of turning
read-only as it does for the refusals that last (no access, no document)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.conftest import StartServer
from tests.integration.server import GessServer
from tests.web.conftest import NewPage, editor_of, open_editor, screenshot, team

pytestmark = pytest.mark.integration

# 4429 is both "too slow" and "too fast"; the metric names it by its first name.
SLOW_DOWN = 'gess_disconnects_total{reason="too_slow"}'


@pytest.fixture
async def app(gess_server: StartServer) -> GessServer:
    """Accounts on, and two messages a second per socket (a burst of 20): a typist is soon
    told to slow down."""
    return await gess_server(anonymous=False, extra_args=["--max-messages-per-second", "2"])


async def test_told_to_slow_down_the_editor_connects_again_and_keeps_what_was_typed(
    new_page: NewPage, app: GessServer
) -> None:
    amina, jonas, _, document_id = await team(new_page)
    await open_editor(amina, document_id)
    await open_editor(jonas, document_id)
    text = "Contributory schemes for informal workers."
    await editor_of(amina).click()
    await amina.keyboard.type(text)  # a message a keystroke, and more: past the burst

    await expect(amina.get_by_role("status").filter(has_text="Saved")).to_be_visible(timeout=30_000)
    assert (await app.metrics()).get(SLOW_DOWN, 0) >= 1, "the server never said slow down"
    await expect(editor_of(jonas)).to_contain_text(text)
    await expect(editor_of(amina)).to_have_attribute("aria-readonly", "false")
    await expect(amina.get_by_text("slow down")).to_have_count(0)
    await amina.keyboard.type(" Still editable.")
    await expect(editor_of(jonas)).to_contain_text(f"{text} Still editable.", timeout=30_000)
    await screenshot(amina, "editor-after-slow-down")
