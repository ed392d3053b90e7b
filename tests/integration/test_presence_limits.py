"""Presence is bounded (issue 13, finding 5), against a real server over raw sockets.

- a presence state larger than the limit closes its connection with 4413, and so do states
  that together exceed it on one connection: a newcomer downloads at most the limit per
  connection;
- a flood of presence updates is relayed at the presence rate, the latest state kept: the
  others see far fewer updates than were sent, and the last one;
- a client id belongs to the connection that introduced it, and after that connection
  drops, to its account: another account cannot take it over, the same account can.
"""

from __future__ import annotations

import pytest

from crdt import AwarenessEntry, AwarenessMessage, decode_awareness, encode_awareness
from tests.api.support import ACCOUNT_ARGS, make_team
from tests.conftest import StartServer
from tests.integration.raw import RawClient
from tests.integration.support import new_document_id

pytestmark = [pytest.mark.integration]

LIMIT = 8 * 1024
"""The default presence state limit, in bytes of JSON."""


async def _send_states(client: RawClient, entries: list[AwarenessEntry]) -> None:
    await client.send(AwarenessMessage(encode_awareness(entries)))


def _updates_for(client: RawClient, client_id: int) -> list[AwarenessEntry]:
    """Every awareness entry for ``client_id`` that ``client`` received, in order."""
    return [
        entry
        for message in client.received
        if isinstance(message, AwarenessMessage)
        for entry in decode_awareness(message.payload)
        if entry.client_id == client_id
    ]


async def test_an_oversize_presence_state_closes_its_connection(gess_server: StartServer):
    server = await gess_server()
    document_id = new_document_id()
    async with (
        RawClient.connect(server.ws_url, document_id) as watcher,
        RawClient.connect(server.ws_url, document_id) as big,
    ):
        await big.set_awareness({"user": {"name": "big"}, "blob": "x" * (LIMIT + 1)})
        code, reason = await big.wait_closed()
        assert code == 4413, (code, reason)
        assert "presence" in reason
        # Nothing of it reached anyone; the room carries on.
        await watcher.insert_text("still here")
        await watcher.sync()
        assert big.doc.client_id not in watcher.awareness


async def test_states_of_one_connection_share_the_limit(gess_server: StartServer):
    server = await gess_server()
    document_id = new_document_id()
    async with RawClient.connect(server.ws_url, document_id) as many:
        third = LIMIT // 3 + 64
        entries = [AwarenessEntry(1000 + n, 1, {"n": n, "blob": "y" * third}) for n in range(3)]
        await _send_states(many, entries)
        code, reason = await many.wait_closed()
        assert code == 4413, (code, reason)


async def test_a_presence_flood_is_relayed_at_the_presence_rate_latest_kept(
    gess_server: StartServer,
):
    server = await gess_server()
    document_id = new_document_id()
    sent = 300
    async with (
        RawClient.connect(server.ws_url, document_id) as watcher,
        RawClient.connect(server.ws_url, document_id) as flood,
    ):
        me = flood.doc.client_id
        for clock in range(1, sent + 1):
            await _send_states(flood, [AwarenessEntry(me, clock, {"cursor": clock})])
        # The latest state always arrives (kept, sent when the rate allows).
        await watcher.wait(
            lambda: watcher.awareness.get(me) == {"cursor": sent}, within=10, what="the last"
        )
        seen = _updates_for(watcher, me)
        assert len(seen) < sent // 3, f"{len(seen)} of {sent} presence updates relayed"
        assert flood.close_code is None, "dropping keeps the connection"


async def test_a_dropped_connections_client_id_cannot_be_claimed_by_another_account(
    gess_server: StartServer,
):
    server = await gess_server(anonymous=False, extra_args=ACCOUNT_ARGS)
    team = await make_team(server.http_url)
    document_id = await team.document(await team.workspace())

    def params(who: str) -> dict[str, str]:
        return {"token": team.accounts[who].token}

    victim_id = 424242
    async with RawClient.connect(server.ws_url, document_id, params=params("owner")) as watcher:
        async with RawClient.connect(server.ws_url, document_id, params=params("editor")) as v:
            await _send_states(v, [AwarenessEntry(victim_id, 1, {"cursor": 1})])
            await watcher.wait(lambda: victim_id in watcher.awareness, what="the victim")
        await watcher.wait(lambda: victim_id not in watcher.awareness, what="the victim gone")

        async with RawClient.connect(server.ws_url, document_id, params=params("viewer")) as thief:
            await _send_states(thief, [AwarenessEntry(victim_id, 5, {"cursor": "stolen"})])
            # A later state of the thief's own goes round: a barrier after the claim.
            own = thief.doc.client_id
            await _send_states(thief, [AwarenessEntry(own, 1, {"cursor": "own"})])
            await watcher.wait(lambda: own in watcher.awareness, what="the thief's own state")
            assert victim_id not in watcher.awareness, watcher.awareness.get(victim_id)

        # The same account reconnecting gets its id back.
        async with RawClient.connect(server.ws_url, document_id, params=params("editor")) as v:
            await _send_states(v, [AwarenessEntry(victim_id, 9, {"cursor": "back"})])
            await watcher.wait(
                lambda: (watcher.awareness.get(victim_id) or {}).get("cursor") == "back",
                what="the editor's id back",
            )
