"""A committed update reaches every connection of its document, its sender included.

That echo is how a stock ``y-websocket`` client learns that its edit is saved: the sync-status
API of y-websocket 3.1.0-rc.5 marks a local edit as synced only once an update carrying it
comes back from the server. GESS sends updates only after committing them, so the echo is a
truthful "saved".
"""

from __future__ import annotations

import pytest

from crdt import Saved, SyncUpdate
from tests.conftest import StartServer
from tests.integration.raw import RawClient
from tests.integration.support import new_document_id
from tests.interop.node import NodeClient

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]


async def test_a_stock_clients_sync_status_turns_green_after_an_edit(gess_server: StartServer):
    server = await gess_server()
    document_id = new_document_id()
    async with NodeClient.start(server.ws_url, document_id, release="rc") as alice:
        await alice.insert(0, "hello")
        unsynced = await alice.wait_event("sync-status", lambda e: not e["local_updates_synced"])
        mark = alice.events.index(unsynced) + 1
        green = await alice.wait_event(
            "sync-status",
            lambda e: e["status"] == "green" and e["local_updates_synced"],
            since=mark,
            within=6,  # y-websocket turns the status red after 8 s without the echo
        )
        assert green["status"] == "green"
        assert await alice.sync_status() == {"status": "green", "local_updates_synced": True}
        # Again after a reconnect: the next edit is confirmed the same way.
        await alice.disconnect()
        await alice.reconnect()
        await alice.wait_synced()
        mark = len(alice.events)
        await alice.append(" again")
        await alice.wait_event(
            "sync-status",
            lambda e: e["status"] == "green" and e["local_updates_synced"],
            since=mark,
        )
    async with NodeClient.start(server.ws_url, document_id) as fresh:
        assert await fresh.text() == "hello again"


async def test_the_sender_receives_its_committed_update(gess_server: StartServer):
    server = await gess_server()
    document_id = new_document_id()
    async with (
        RawClient.connect(server.ws_url, document_id) as plain,
        RawClient.connect(server.ws_url, document_id, saved=True) as acked,
    ):
        update = await plain.insert_text("one")
        await plain.wait(
            lambda: SyncUpdate(update) in plain.received, what="its own update coming back"
        )
        await acked.wait_content("one")
        # A client that asked for Saved gets its echo too, then Saved covering it.
        mine = await acked.insert_text(" two")
        await acked.wait_saved_covers(acked.state_vector())
        echoes = [m for m in acked.received if m == SyncUpdate(mine)]
        saved = [m for m in acked.received if isinstance(m, Saved)]
        assert echoes, "the Saved client did not get its own update back"
        assert acked.received.index(echoes[0]) < acked.received.index(saved[-1])
        await plain.wait_content("one two")
