"""y-py (the Yrs binding older Python stacks use) reads and writes what the server serves."""

from __future__ import annotations

import pytest
import y_py as Y

from crdt import SyncUpdate
from tests.integration.raw import RawClient
from tests.integration.server import GessServer
from tests.integration.support import new_document_id, snapshot
from tests.interop.node import NodeClient

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]


def ypy_text(full_state: bytes) -> str:
    ydoc = Y.YDoc()
    Y.apply_update(ydoc, full_state)
    return str(ydoc.get_text("text"))


async def test_ypy_reads_the_servers_full_state(server: GessServer) -> None:
    document_id = new_document_id()
    async with NodeClient.start(server.ws_url, document_id) as alice:
        await alice.insert(0, "Plan ASSAP: étape 1 ✓")
        await alice.insert(5, "«national» ")
        expected = await alice.text()

        # Through a raw connection: sync step 1 -> step 2 with the server itself.
        async with RawClient.connect(server.ws_url, document_id) as raw:
            await raw.wait_content(expected)
            assert ypy_text(raw.full_state()) == expected

        # Through the Node client's copy of the document.
        assert ypy_text(await alice.full_state()) == expected

    # And from a fresh sync after every client left.
    assert ypy_text((await snapshot(server, document_id)).full_state) == expected


async def test_ypy_update_reaches_a_yjs_client(server: GessServer) -> None:
    document_id = new_document_id()
    async with (
        NodeClient.start(server.ws_url, document_id) as alice,
        RawClient.connect(server.ws_url, document_id, saved=True) as raw,
    ):
        await alice.insert(0, "hello")
        await raw.wait_content("hello")

        ydoc = Y.YDoc()
        Y.apply_update(ydoc, raw.full_state())
        before = Y.encode_state_vector(ydoc)
        text = ydoc.get_text("text")
        ydoc.transact(lambda txn: text.extend(txn, " from y-py"))
        update = bytes(Y.encode_state_as_update(ydoc, before))

        await raw.send(SyncUpdate(update))
        await alice.wait_text("hello from y-py")
