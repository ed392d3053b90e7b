"""Many clients arriving at once share one load of the document."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.conftest import StartServer
from tests.integration.raw import RawClient
from tests.integration.support import new_document_id
from tests.interop.node import wait_for

pytestmark = [pytest.mark.integration]

CLIENTS = 50


async def test_fifty_simultaneous_clients_load_the_document_once(
    database_url: str | None, gess_server: StartServer
) -> None:
    server = await gess_server(
        database_url=database_url, extra_args=["--room-grace-seconds", "0.2"]
    )
    document_id = new_document_id()
    async with RawClient.connect(server.ws_url, document_id, saved=True) as seeder:
        await seeder.insert_text("stored before the rush")
        await seeder.wait_saved_covers(seeder.state_vector())

    async def unloaded() -> bool:
        return (await server.metrics())["gess_documents_loaded"] == 0

    await wait_for(unloaded, message="the document to unload after its last client left")
    loads_before = (await server.metrics())["gess_document_loads_total"]

    async with contextlib.AsyncExitStack() as stack:
        clients = await asyncio.gather(
            *(
                stack.enter_async_context(RawClient.connect(server.ws_url, document_id))
                for _ in range(CLIENTS)
            )
        )
        assert all(client.content() == "stored before the rush" for client in clients)

        metrics = await server.metrics()
        assert metrics["gess_document_loads_total"] - loads_before == 1
        assert metrics["gess_connections"] == CLIENTS
        assert metrics["gess_documents_loaded"] == 1

        # And they all keep working: one edit reaches the 49 others.
        await clients[0].insert_text("!")
        await asyncio.gather(
            *(client.wait_content("stored before the rush!") for client in clients[1:])
        )
