"""Room names in ``--anonymous`` mode: what stock clients put in the URL path is a room.

y-websocket appends the room name to the server URL as it is (``serverUrl + '/' + room``),
so its own test suites and demos use names such as ``test-@y/websocket``. With accounts,
document ids stay the server's own.
"""

from __future__ import annotations

import pytest

from tests.api.support import ACCOUNT_ARGS
from tests.conftest import StartServer
from tests.integration.raw import RawClient
from tests.interop.node import NodeClient

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]


@pytest.mark.parametrize("room", ["test-@y/websocket", "team/notes 2026 (draft)", "é/ü:€"])
async def test_stock_clients_share_any_printable_room_name(gess_server: StartServer, room: str):
    server = await gess_server()
    async with (
        NodeClient.start(server.ws_url, room) as alice,
        NodeClient.start(server.ws_url, room) as bob,
    ):
        await alice.insert(0, "hello")
        await bob.wait_text("hello")
    await server.restart()
    async with NodeClient.start(server.ws_url, room) as late:
        assert await late.text() == "hello"


async def test_accounts_mode_keeps_its_document_id_rules(gess_server: StartServer):
    server = await gess_server(anonymous=False, extra_args=ACCOUNT_ARGS)
    # A token of some kind: a socket with none is refused before the upgrade (HTTP 401).
    params = {"token": "gess_not-a-token"}
    async with RawClient.connect(
        server.ws_url, "test-@y/websocket", params=params, sync=False
    ) as client:
        code, reason = await client.wait_closed()
    assert code == 4400 and "letters, digits" in reason
