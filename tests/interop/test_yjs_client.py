"""A stock Yjs client (y-websocket's WebsocketProvider in Node) against a real server.

These also check the harness itself: replies, errors and events.
"""

from __future__ import annotations

import base64

import pytest

from tests.conftest import StartServer
from tests.integration.raw import covers, decode_state_vector
from tests.integration.support import new_document_id
from tests.interop.node import NodeClient, NodeError

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]


async def test_harness_reports_errors_and_keeps_going(gess_server: StartServer) -> None:
    server = await gess_server()
    async with NodeClient.start(server.ws_url, new_document_id()) as client:
        with pytest.raises(NodeError, match="past the end"):
            await client.insert(5, "x")
        with pytest.raises(NodeError, match="unknown command"):
            await client.request("no_such_command")
        await client.insert(0, "still fine")
        assert await client.text() == "still fine"
        assert (await client.status())["synced"]
        statuses = [event["status"] for event in client.events if event["event"] == "status"]
        assert statuses[:2] == ["connecting", "connected"]


async def test_saved_messages_only_for_clients_that_ask(gess_server: StartServer) -> None:
    server = await gess_server()
    document_id = new_document_id()
    async with (
        NodeClient.start(server.ws_url, document_id, params={"saved": "1"}) as asking,
        NodeClient.start(server.ws_url, document_id) as stock,
    ):
        await asking.insert(0, "acknowledge me")
        wanted = decode_state_vector(await asking.state_vector())
        event = await asking.wait_event(
            "saved",
            lambda e: covers(decode_state_vector(base64.b64decode(e["state_vector"])), wanted),
        )
        assert event["state_vector"]

        await stock.insert(0, "and me ")
        await asking.wait_text("and me acknowledge me")
        await stock.wait_text("and me acknowledge me")
        assert not [e for e in stock.events if e["event"] in {"saved", "server-event"}]
        assert "Unable to compute message" not in stock.stderr_text()


async def test_provider_reconnects_after_a_restart(gess_server: StartServer) -> None:
    server = await gess_server()
    document_id = new_document_id()
    async with NodeClient.start(server.ws_url, document_id) as client:
        await client.insert(0, "before")
        mark = len(client.events)
        await server.restart()
        await client.wait_event("sync", lambda e: e["synced"], since=mark, within=20)
        await client.append(" and after")
        async with NodeClient.start(server.ws_url, document_id) as other:
            await other.wait_text("before and after")
