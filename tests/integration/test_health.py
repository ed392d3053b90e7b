"""The operational surface of a running node: /healthz and /metrics."""

from __future__ import annotations

import pytest

from tests.conftest import StartServer
from tests.integration.raw import RawClient
from tests.integration.support import new_document_id
from tests.interop.node import wait_for

pytestmark = [pytest.mark.integration]

METRICS = [
    "gess_documents_loaded",
    "gess_document_loads_total",
    "gess_connections",
    "gess_messages_received_total",
    "gess_messages_sent_total",
    "gess_bytes_received_total",
    "gess_bytes_sent_total",
    "gess_commit_seconds_count",
    "gess_commit_seconds_sum",
    "gess_updates_pending",
]


async def test_healthz_and_metrics(gess_server: StartServer) -> None:
    server = await gess_server(extra_args=["--node-id", "node-under-test"])
    assert await server.healthz() == {"status": "ok", "node_id": "node-under-test"}

    metrics = await server.metrics()
    missing = [name for name in METRICS if name not in metrics]
    assert not missing, f"metrics missing from /metrics: {missing}"
    assert metrics["gess_connections"] == 0

    async with RawClient.connect(server.ws_url, new_document_id(), saved=True) as client:
        await client.insert_text("counted")
        await client.wait_saved_covers(client.state_vector())
        metrics = await server.metrics()
        assert metrics["gess_connections"] == 1
        assert metrics["gess_documents_loaded"] == 1
        assert metrics["gess_commit_seconds_count"] >= 1
        assert metrics["gess_messages_received_total"] >= 2
        assert metrics["gess_bytes_received_total"] > 0
        assert metrics["gess_messages_sent_total"] >= 2

    async def closed() -> bool:
        return (await server.metrics())["gess_connections"] == 0

    await wait_for(closed, message="gess_connections to drop back to 0")


async def test_environment_variables_configure_the_server(gess_server: StartServer) -> None:
    server = await gess_server(env={"GESS_NODE_ID": "from-env"})
    assert (await server.healthz())["node_id"] == "from-env"
