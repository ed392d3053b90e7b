"""A large document compacting must not stop anyone else's writes (issue 13, finding 3).

Compaction used to fold a document inside a write transaction: with a document of tens of
megabytes that took longer than the database's lock timeout, so the writers of other
documents were closed with 4500 and unrelated REST writes answered 503 meanwhile.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from pycrdt import Doc, Text

from crdt import SyncUpdate
from storage import create_engine
from tests.api.support import Api, register
from tests.integration.raw import RawClient
from tests.integration.server import GessServer
from tests.integration.support import new_document_id
from tests.interop.node import wait_for

pytestmark = [pytest.mark.integration]

BIG_UPDATES = 25
ITEMS_PER_UPDATE = 200_000
"""5,000,000 separate one-character text items: about 70 MB stored, and a fold that takes
about 10 s of CPU here (its cost grows with the number of items more than with the bytes),
twice SQLite's 5 s lock timeout."""


def big_document_updates() -> list[bytes]:
    """Updates that build a document of millions of items that do not merge into one."""
    doc: Doc[Any] = Doc()
    text = doc.get("text", type=Text)
    updates = []
    for n in range(BIG_UPDATES):
        before = doc.get_state()
        with doc.transaction():
            for i in range(ITEMS_PER_UPDATE):
                # Inserting at the start each time leaves every item its own block.
                text.insert(0, chr(97 + (n + i) % 26))
        updates.append(doc.get_update(before))
    return updates


async def snapshot_exists(server: GessServer, database_url: str | None, document_id: str) -> bool:
    """Whether the document has a snapshot, read without taking any write lock."""
    if database_url is None:

        def read() -> bool:
            path = server.data_dir / "gess.db"
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
                row = connection.execute(
                    "SELECT count(*) FROM doc_snapshots WHERE document_id = ?", (document_id,)
                ).fetchone()
            return bool(row[0])

        return await asyncio.to_thread(read)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                sa.text("SELECT count(*) FROM doc_snapshots WHERE document_id = :d"),
                {"d": document_id},
            )
    finally:
        await engine.dispose()
    return bool(found)


@pytest.mark.timeout(600)
async def test_compacting_a_large_document_blocks_no_other_writer(
    database_url: str | None, gess_server: Any
) -> None:
    server: GessServer = await gess_server(
        database_url=database_url,
        extra_args=[
            "--compact-threshold",
            str(BIG_UPDATES),
            "--max-message-bytes",
            str(16 * 2**20),
            # Above the default size limit of 64 MiB.
            "--max-document-bytes",
            str(256 * 2**20),
            # The 70 MB document is written in seconds, past the per-socket byte rate.
            "--max-bytes-per-second",
            "0",
        ],
    )
    updates = await asyncio.to_thread(big_document_updates)
    account = await register(server.http_url, "Writer")
    api = Api(server.http_url, account.token)
    workspace = await api.ok(
        "POST", "/api/workspaces", {"name": "Unrelated", "visibility": "private"}, status=201
    )
    big, other = new_document_id(), new_document_id()

    async with (
        RawClient.connect(server.ws_url, big, saved=True, within=60) as loader,
        RawClient.connect(server.ws_url, other, saved=True) as writer,
    ):
        for update in updates[:-1]:
            # One at a time: each is then a log entry of its own (a room merges what queues).
            await loader.send(SyncUpdate(update))
            loader.doc.apply_update(update)
            await loader.wait_saved_covers(loader.state_vector(), within=60)

        socket_written: list[str] = []
        rest_statuses: list[int] = []
        stop = asyncio.Event()

        async def write_other_document() -> None:
            while not stop.is_set():
                piece = f"<{len(socket_written)}>"
                await writer.insert_text(piece)
                await writer.wait_saved_covers(writer.state_vector(), within=60)
                socket_written.append(piece)

        async def write_over_rest() -> None:
            while not stop.is_set():
                response = await api.request(
                    "PATCH",
                    f"/api/workspaces/{workspace['id']}",
                    {"name": f"Unrelated {uuid.uuid4().hex[:6]}"},
                )
                rest_statuses.append(response.status_code)

        async with asyncio.TaskGroup() as writers:
            writers.create_task(write_other_document())
            writers.create_task(write_over_rest())
            # The last update reaches the threshold: the document is compacted now.
            await loader.send(SyncUpdate(updates[-1]))
            loader.doc.apply_update(updates[-1])
            await loader.wait_saved_covers(loader.state_vector(), within=120)
            await wait_for(
                lambda: snapshot_exists(server, database_url, big),
                240,
                interval=0.2,
                message="the compaction of the large document",
            )
            # A few more writes of each kind after the compaction, as a barrier.
            written, answered = len(socket_written), len(rest_statuses)
            await wait_for(
                lambda: len(socket_written) >= written + 3 and len(rest_statuses) >= answered + 3,
                60,
                message="writes after the compaction",
            )
            stop.set()

        assert writer.close_code is None, (writer.close_code, writer.close_reason)
        assert set(rest_statuses) == {200}, rest_statuses
        assert writer.content() == "".join(socket_written)

    async with RawClient.connect(server.ws_url, big, within=120) as reader:
        assert reader.content() == loader.content()
