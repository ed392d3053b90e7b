"""Hostile input closes only the offending connection, with a code and a readable reason."""

from __future__ import annotations

import random

import pytest

from crdt import SyncStep1, SyncUpdate, encode
from tests.conftest import StartServer
from tests.integration.raw import RawClient, is_malformed
from tests.integration.server import GessServer
from tests.integration.support import new_document_id, snapshot
from tests.interop.node import NodeClient

pytestmark = [pytest.mark.integration]

MALFORMED = 4400
TOO_LARGE = 4413


def _valid_update() -> bytes:
    from pycrdt import Doc, Text

    doc: Doc[Text] = Doc()
    doc["text"] = Text("some text that the garbage cuts short")
    return doc.get_update()


def _garbage() -> dict[str, bytes]:
    rng = random.Random(4400)
    update_message = encode(SyncUpdate(_valid_update()))
    cases = {
        "random bytes": bytes([0xFE]) + rng.randbytes(63),
        "truncated sync update": update_message[: len(update_message) // 2],
        "sync type out of range": bytes([0, 7, 1, 0]),
        "unknown message type": bytes([42, 1, 2, 3]),
        "trailing bytes": encode(SyncStep1(b"\x00")) + b"\x00\x00",
        "varuint that never ends": bytes([0x80] * 12),
    }
    for name, data in cases.items():
        assert is_malformed(data), name
    # Well framed, but the update inside is not a Yjs update.
    cases["invalid update in a valid frame"] = encode(SyncUpdate(b"\xff\xff\xff\x0f garbage"))
    return cases


GARBAGE = _garbage()


@pytest.mark.usefixtures("node")
async def test_garbage_closes_only_its_own_connection(server: GessServer) -> None:
    document_id = new_document_id()
    async with (
        NodeClient.start(server.ws_url, document_id) as editor,
        NodeClient.start(server.ws_url, document_id) as watcher,
    ):
        await editor.insert(0, "intact;")
        await watcher.wait_text("intact;")
        for number, (name, data) in enumerate(GARBAGE.items()):
            async with RawClient.connect(server.ws_url, document_id) as rogue:
                await rogue.send_raw(data)
                code, reason = await rogue.wait_closed()
            assert code == MALFORMED, f"{name}: closed with {code} {reason!r}"
            assert reason.strip() and reason.isprintable(), f"{name}: reason {reason!r}"
            # The room goes on: the editor edits, the watcher sees it.
            await editor.append(f"after {number};")
            await watcher.wait_text(await editor.text())
        assert (await editor.status())["connected"]
        expected = await editor.text()

    await server.restart()
    assert (await snapshot(server, document_id)).text == expected


async def test_garbage_before_sync_is_refused_too(server: GessServer) -> None:
    document_id = new_document_id()
    async with RawClient.connect(server.ws_url, document_id, sync=False) as rogue:
        await rogue.send_raw(GARBAGE["truncated sync update"])
        code, reason = await rogue.wait_closed()
    assert code == MALFORMED, (code, reason)
    assert (await snapshot(server, document_id)).text == ""


async def test_oversize_message_closes_with_4413(gess_server: StartServer) -> None:
    server = await gess_server(extra_args=["--max-message-bytes", "4096"])
    document_id = new_document_id()
    async with RawClient.connect(server.ws_url, document_id, saved=True) as small:
        await small.insert_text("fits")
        await small.wait_saved_covers(small.state_vector())
    async with RawClient.connect(server.ws_url, document_id) as big:
        await big.insert_text("x" * 10_000)
        code, reason = await big.wait_closed()
    assert code == TOO_LARGE, (code, reason)
    assert reason.strip() and reason.isprintable()
    assert (await snapshot(server, document_id)).text == "fits"
