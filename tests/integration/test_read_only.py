"""Read-only that holds: nothing a connection sent while it could not write ever enters the
document, with real servers, real stock Yjs clients (y-websocket 3.1 in Node), on SQLite and
PostgreSQL, and across two nodes sharing PostgreSQL and Redis.

The sequence of issue 11: a viewer types (refused); is promoted to editor while connected
(its copy holds the refused text, so the server closes it with 4409); types again in that
copy and reconnects (the stock provider sends its whole state: refused again); a fresh copy
of the same account then writes normally. At every step the stored text (what a fresh
connection syncs), an old client's text and a fresh stock client's text are equal, and the
refused text is nowhere. Also: the ``access`` event, and orphan updates.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from typing import Any

import pytest
from pycrdt import Doc, Text

from crdt import Auth, Event, Saved, SyncUpdate
from tests.api.support import ACCOUNT_ARGS, Team, make_team
from tests.conftest import StartServer
from tests.integration.raw import RawClient
from tests.integration.redis_server import RedisServer
from tests.integration.server import GessServer
from tests.interop.node import NodeClient, wait_for
from tests.pg import PostgresServer, create_database, drop_database

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]

REFUSED = "REFUSED"


def _token(team: Team, who: str, **more: str) -> dict[str, str]:
    return {"token": team.accounts[who].token, **more}


async def _agree(server: GessServer, team: Team, document_id: str, old: NodeClient, text: str):
    """The stored text, an old client's and a fresh stock client's are all ``text``."""
    await old.wait_text(text)
    async with RawClient.connect(server.ws_url, document_id, params=_token(team, "owner")) as raw:
        stored = raw.content()
    async with NodeClient.start(server.ws_url, document_id, _token(team, "editor")) as fresh:
        fresh_text = await fresh.text()
    assert (stored, fresh_text, await old.text()) == (text, text, text)
    assert REFUSED not in stored


def _access(client: NodeClient, since: int = 0) -> list[dict[str, Any]]:
    return [
        e["data"]
        for e in client.events[since:]
        if e["event"] == "server-event" and e["data"].get("type") == "access"
    ]


async def _sequence(team: Team, workspace: str, viewer_node: GessServer, other: GessServer):
    document_id = await team.document(workspace)
    viewer_id = team.accounts["viewer"].user_id
    member = f"/api/workspaces/{workspace}/members/{viewer_id}"
    async with (
        NodeClient.start(other.ws_url, document_id, _token(team, "owner")) as owner,
        NodeClient.start(
            viewer_node.ws_url, document_id, _token(team, "viewer", events="1")
        ) as viewer,
    ):
        assert _access(viewer) == [
            {
                "type": "access",
                "document_id": document_id,
                "role": "viewer",
                "can_write": False,
                "can_comment": False,
            }
        ]
        await owner.insert(0, "agreed")
        await viewer.wait_text("agreed")

        # 1. The viewer types: refused, seen by nobody, stored nowhere.
        await viewer.insert(0, REFUSED)
        await wait_for(lambda: "Permission denied" in viewer.stderr_text())
        await owner.append(".")  # a barrier: the refused edit would have come before it
        await _agree(other, team, document_id, owner, "agreed.")
        await _agree(viewer_node, team, document_id, owner, "agreed.")

        # 2. Promoted while connected: its copy holds refused changes, so it must start again.
        mark = len(viewer.events)
        await team.owner.ok("PATCH", member, {"role": "editor"})
        closed = await viewer.wait_event("closed", since=mark, within=20)
        assert closed["code"] == 4409 and "reload" in closed["reason"]
        assert _access(viewer, mark) == [
            {
                "type": "access",
                "document_id": document_id,
                "role": "editor",
                "can_write": True,
                "can_comment": True,
            }
        ]
        await _agree(other, team, document_id, owner, "agreed.")

        # 3. Types again in that copy and reconnects: the whole copy is sent, and refused.
        await viewer.insert(0, "more ")
        mark = len(viewer.events)
        await viewer.reconnect()
        closed = await viewer.wait_event("closed", since=mark, within=20)
        assert closed["code"] == 4409
        await owner.append("!")
        await _agree(other, team, document_id, owner, "agreed.!")
        await _agree(viewer_node, team, document_id, owner, "agreed.!")

        # 4. A fresh copy of the same (now editor) account writes normally.
        async with NodeClient.start(
            viewer_node.ws_url, document_id, _token(team, "viewer")
        ) as again:
            await again.append(" Fine.")
            await owner.wait_text("agreed.! Fine.")
        await _agree(other, team, document_id, owner, "agreed.! Fine.")
        await _agree(viewer_node, team, document_id, owner, "agreed.! Fine.")


async def test_a_viewers_refused_text_never_enters_the_document(
    database_url: str | None, gess_server: StartServer
):
    server = await gess_server(database_url=database_url, anonymous=False, extra_args=ACCOUNT_ARGS)
    team = await make_team(server.http_url)
    await _sequence(team, await team.workspace(), server, server)


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    url = create_database(postgres.admin_url)
    yield url
    drop_database(postgres.admin_url, url)


async def test_the_refused_text_stays_out_across_nodes(
    pg_url: str, redis: RedisServer, gess_server: StartServer
):
    nodes = await asyncio.gather(
        *(
            gess_server(
                database_url=pg_url,
                anonymous=False,
                extra_args=[*ACCOUNT_ARGS, "--redis-url", redis.url, "--node-id", f"node{n}"],
            )
            for n in (1, 2)
        )
    )
    for node in nodes:
        await wait_for(functools.partial(_redis_up, node), 20)
    team = await make_team(nodes[0].http_url)
    workspace = await team.workspace()
    # The viewer on node 2, everyone else (and the role change over REST) on node 1.
    await _sequence(team, workspace, nodes[1], nodes[0])


async def _redis_up(node: GessServer) -> bool:
    return (await node.healthz()).get("redis") == "connected"


async def test_an_update_whose_dependencies_never_came_is_refused(gess_server: StartServer):
    server = await gess_server()
    document_id = "orphans"
    async with (
        RawClient.connect(server.ws_url, document_id, saved=True) as sender,
        RawClient.connect(server.ws_url, document_id) as other,
    ):
        source: Doc[Text] = Doc()
        text = source.get("text", type=Text)
        text += "never sent "
        before = source.get_state()
        text += "orphan"
        orphan = source.get_update(before)
        await sender.send(SyncUpdate(orphan))
        await sender.wait(
            lambda: any(isinstance(m, Auth) and "depends on" in m.reason for m in sender.received),
            what="the refusal",
        )
        # The room keeps working; the later edit is a barrier for the orphan's broadcast.
        await sender.insert_text("after")
        await other.wait_content("after")
        await sender.wait_saved_covers(sender.state_vector())
        assert source.client_id not in sender.saved_vector()
        assert not any(isinstance(m, SyncUpdate) and m.update == orphan for m in other.received), (
            "the orphan was broadcast"
        )
        assert not any(isinstance(m, Event) for m in other.received)
    async with RawClient.connect(server.ws_url, document_id) as fresh:
        assert fresh.content() == "after"
        assert source.client_id not in fresh.vector(), "the orphan was stored"
    assert [m for m in sender.received if isinstance(m, Saved)]


async def test_a_viewers_refused_deletion_never_enters_the_document(gess_server: StartServer):
    server = await gess_server(anonymous=False, extra_args=ACCOUNT_ARGS)
    team = await make_team(server.http_url)
    workspace = await team.workspace()
    document_id = await team.document(workspace)
    member = f"/api/workspaces/{workspace}/members/{team.accounts['viewer'].user_id}"
    async with (
        NodeClient.start(server.ws_url, document_id, _token(team, "owner")) as owner,
        NodeClient.start(server.ws_url, document_id, _token(team, "viewer")) as viewer,
    ):
        await owner.insert(0, "agreed")
        await viewer.wait_text("agreed")
        await viewer.delete(0, 3)  # a deletion names no client: only the copy can be known
        await wait_for(lambda: "Permission denied" in viewer.stderr_text())
        await owner.append(".")
        await _agree(server, team, document_id, owner, "agreed.")
        mark = len(viewer.events)
        await team.owner.ok("PATCH", member, {"role": "editor"})
        assert (await viewer.wait_event("closed", since=mark, within=20))["code"] == 4409
        mark = len(viewer.events)
        await viewer.reconnect()  # its sync would carry the deletion: refused before that
        assert (await viewer.wait_event("closed", since=mark, within=20))["code"] == 4409
        await owner.append("!")
        await _agree(server, team, document_id, owner, "agreed.!")
