"""A document's stored size is bounded (issue 13, finding 3: one editor could grow it without
end). A change that would pass ``--max-document-bytes`` is refused: the socket closes with
4413, a REST restore answers 413, and nothing of it is applied, stored or sent to anyone."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Text

from crdt import SyncUpdate
from tests.api.support import ACCOUNT_ARGS, Api, register
from tests.integration.raw import RawClient
from tests.integration.server import GessServer
from tests.integration.support import new_document_id, snapshot

pytestmark = [pytest.mark.integration]

LIMIT = 100_000
TOO_LARGE = 4413


async def test_a_change_past_the_size_limit_is_refused_and_nothing_of_it_is_kept(
    database_url: str | None, gess_server: Any
) -> None:
    server: GessServer = await gess_server(
        database_url=database_url, extra_args=["--max-document-bytes", str(LIMIT)]
    )
    document_id = new_document_id()
    async with (
        RawClient.connect(server.ws_url, document_id, saved=True) as writer,
        RawClient.connect(server.ws_url, document_id) as watcher,
    ):
        for n in range(4):
            await writer.insert_text(chr(97 + n) * 20_000)
            await writer.wait_saved_covers(writer.state_vector())
        accepted = writer.content()
        await watcher.wait_content(accepted)

        await writer.insert_text("z" * 30_000)
        code, reason = await writer.wait_closed()
        assert code == TOO_LARGE
        assert "document too large" in reason and str(LIMIT) in reason

        # A small change still fits; once the watcher has it, it would have had the refused
        # one before it.
        async with RawClient.connect(server.ws_url, document_id, saved=True) as other:
            await other.insert_text("!", index=0)
            await other.wait_saved_covers(other.state_vector())
        await watcher.wait_content("!" + accepted)
        assert "z" not in watcher.content()

    await server.restart()
    assert (await snapshot(server, document_id)).text == "!" + accepted


async def test_rest_shows_the_size_and_refuses_a_restore_past_the_limit(
    database_url: str | None, gess_server: Any
) -> None:
    server: GessServer = await gess_server(
        database_url=database_url,
        extra_args=[*ACCOUNT_ARGS, "--max-document-bytes", str(LIMIT)],
        anonymous=False,
    )
    owner = await register(server.http_url, "Owner")
    api = Api(server.http_url, owner.token)
    workspace = await api.ok(
        "POST", "/api/workspaces", {"name": "Plans", "visibility": "private"}, status=201
    )
    document = await api.ok(
        "POST",
        f"/api/workspaces/{workspace['id']}/documents",
        {"title": "Plan", "template": "blank"},
        status=201,
    )
    document_id = document["id"]
    params = {"token": owner.token}
    async with RawClient.connect(server.ws_url, document_id, saved=True, params=params) as writer:
        await writer.insert_text("v" * 40_000)
        await writer.wait_saved_covers(writer.state_vector())
        version = await api.ok(
            "POST", f"/api/documents/{document_id}/versions", {"name": "long"}, status=201
        )
        # Deleting does not shrink what is stored (the log keeps every update).
        await writer.send(SyncUpdate(writer.local_update(_clear)))
        await writer.insert_text("w" * 45_000)
        await writer.wait_saved_covers(writer.state_vector())
        expected = writer.content()

        details = await api.ok("GET", f"/api/documents/{document_id}")
        assert 85_000 < details["size_bytes"] <= LIMIT

        response = await api.request(
            "POST", f"/api/documents/{document_id}/versions/{version['id']}/restore"
        )
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "document_too_large"
        # The writer, still connected, saw nothing of it; a later edit is the barrier.
        await writer.insert_text(".")
        await writer.wait_saved_covers(writer.state_vector())
        assert writer.content() == expected + "."
    assert (await snapshot_with(server, document_id, params)).startswith("w")


async def snapshot_with(server: GessServer, document_id: str, params: dict[str, str]) -> str:
    async with RawClient.connect(server.ws_url, document_id, params=params) as reader:
        return reader.content()


def _clear(text: Text) -> None:
    del text[0 : len(text)]
