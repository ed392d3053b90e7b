"""Accounts on the WebSocket, with real Yjs clients (y-websocket in Node) and real servers.

- a viewer's write is refused: nobody else sees it and nothing is stored;
- presence shows the account, whatever name a client claims;
- a document made from a template over REST opens in Yjs with its structure, and exports;
- role changes, removals, trash and deletion take effect on open connections;
- the activity feed is pushed live to connected members.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
from typing import Any

import pytest
from websockets.asyncio.client import connect

from crdt import Auth, Event
from tests.api.support import ACCOUNT_ARGS, Team, make_team
from tests.conftest import StartServer
from tests.integration.raw import RawClient
from tests.integration.server import GessServer
from tests.interop.node import HARNESS_DIR, NodeClient, scaled, wait_for

pytestmark = [pytest.mark.integration]


async def _start(gess_server: StartServer, database_url: str | None = None) -> GessServer:
    return await gess_server(database_url=database_url, anonymous=False, extra_args=ACCOUNT_ARGS)


async def _stored_text(server: GessServer, team: Team, document_id: str) -> str:
    """What a fresh connection syncs: the committed state of the document."""
    params = {"token": team.accounts["owner"].token}
    async with RawClient.connect(server.ws_url, document_id, params=params) as reader:
        return reader.content()


def _token(team: Team, who: str) -> dict[str, str]:
    return {"token": team.accounts[who].token}


@pytest.mark.usefixtures("node")
async def test_a_viewers_write_reaches_nobody_and_is_not_stored(
    database_url: str | None, gess_server: StartServer
):
    server = await _start(gess_server, database_url)
    team = await make_team(server.http_url)
    document_id = await team.document(await team.workspace())
    async with (
        NodeClient.start(server.ws_url, document_id, _token(team, "owner")) as owner,
        NodeClient.start(server.ws_url, document_id, _token(team, "editor")) as editor,
        NodeClient.start(server.ws_url, document_id, _token(team, "viewer")) as viewer,
    ):
        await owner.insert(0, "agreed text")
        for client in (editor, viewer):
            await client.wait_text("agreed text")

        await viewer.insert(0, "VIEWER WAS HERE ")
        await wait_for(
            lambda: "Permission denied" in viewer.stderr_text(),
            message="y-websocket to report the refusal",
        )
        # A later edit by the owner goes round; the viewer's never does.
        await owner.append(".")
        await editor.wait_text("agreed text.")
        assert await owner.text() == "agreed text."
        assert await _stored_text(server, team, document_id) == "agreed text."
        assert (await viewer.status())["connected"], "a read-only connection stays open"
    async with NodeClient.start(server.ws_url, document_id, _token(team, "commenter")) as late:
        assert await late.text() == "agreed text."


@pytest.mark.usefixtures("node")
async def test_presence_shows_the_account_not_what_the_client_claims(gess_server: StartServer):
    server = await _start(gess_server)
    team = await make_team(server.http_url)
    document_id = await team.document(await team.workspace())
    alice, bob = team.accounts["editor"], team.accounts["viewer"]
    async with (
        NodeClient.start(server.ws_url, document_id, _token(team, "editor")) as mallory,
        NodeClient.start(server.ws_url, document_id, _token(team, "viewer")) as watcher,
    ):
        claimed = {"user": {"name": "The Minister", "color": "#000000"}, "cursor": {"at": 3}}
        await mallory.set_awareness(claimed)
        mallory_id = await mallory.client_id()

        async def seen() -> dict[str, Any] | None:
            state = (await watcher.awareness()).get(mallory_id)
            return state if state and "cursor" in state else None

        state = await wait_for(seen, message="the editor's presence at the viewer")
        assert state["user"]["name"] == alice.name
        assert state["user"]["id"] == alice.user_id
        assert state["user"]["color"].startswith("#") and state["user"]["color"] != "#000000"
        assert state["cursor"] == {"at": 3}, "the rest of the state is the client's"

        # The watcher is someone else, and gets their own colour.
        await watcher.set_awareness({"user": {"name": "anything"}})
        watcher_id = await watcher.client_id()

        async def mine() -> dict[str, Any] | None:
            return (await mallory.awareness()).get(watcher_id)

        theirs = await wait_for(mine, message="the viewer's presence at the editor")
        assert theirs["user"]["name"] == bob.name
        assert theirs["user"]["color"] != state["user"]["color"]


def _read_in_node(update: bytes) -> list[dict[str, Any]]:
    """The ``default`` XmlFragment as Node's yjs reads it (see tests/interop/templates.mjs)."""
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, str(HARNESS_DIR / "templates.mjs")],
        input=base64.b64encode(update),
        capture_output=True,
        cwd=HARNESS_DIR,
        timeout=scaled(30),
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    fragment: list[dict[str, Any]] = json.loads(result.stdout)["default"]
    return fragment


def _text_of(node: dict[str, Any]) -> str:
    if "text" in node:
        return "".join(part["insert"] for part in node["text"] if isinstance(part["insert"], str))
    return "".join(_text_of(child) for child in node.get("children", []))


@pytest.mark.usefixtures("node")
async def test_an_assap_plan_from_rest_opens_in_yjs_and_exports(
    database_url: str | None, gess_server: StartServer
):
    server = await _start(gess_server, database_url)
    team = await make_team(server.http_url)
    document_id = await team.document(
        await team.workspace(), title="Plan national", template="assap-plan"
    )
    async with NodeClient.start(server.ws_url, document_id, _token(team, "viewer")) as reader:
        fragment = await asyncio.to_thread(_read_in_node, await reader.full_state())

    headings = [_text_of(node) for node in fragment if node.get("element") == "heading"]
    for expected in ("1 Executive summary", "4.2 Coverage-gap matrix", "10 Action plan"):
        assert expected in headings, headings
    assert headings.index("4.1 Scheme inventory") < headings.index("4.2 Coverage-gap matrix")
    matrix_at = next(
        index
        for index, node in enumerate(fragment)
        if node.get("element") == "heading" and _text_of(node) == "4.2 Coverage-gap matrix"
    )
    table = next(node for node in fragment[matrix_at:] if node.get("element") == "table")
    rows = [[_text_of(cell) for cell in row["children"]] for row in table["children"]]
    assert rows[0][:3] == ["Branch", "Formal private sector", "Public sector"]
    assert "Migrants" in rows[0]
    first_cells = [row[0] for row in rows[1:]]
    for branch in ("Medical care", "Maternity", "Unemployment", "Old-age", "Survivors"):
        assert any(cell.startswith(branch) for cell in first_cells), (branch, first_cells)
    assert any(cell.startswith("Guarantee 1") for cell in first_cells)

    markdown = await team.api("viewer").request("GET", f"/api/documents/{document_id}/export")
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "## 1 Executive summary" in markdown.text
    assert "### 4.2 Coverage-gap matrix" in markdown.text
    assert "| Branch | Formal private sector | Public sector |" in markdown.text
    assert "| Medical care (C102 Part II) |" in markdown.text
    html = await team.api("viewer").request(
        "GET", f"/api/documents/{document_id}/export?format=html"
    )
    assert "<h3>4.2 Coverage-gap matrix</h3>" in html.text


def _connect(server: GessServer, team: Team, who: str, document_id: str, **params: str):
    return RawClient.connect(
        server.ws_url, document_id, params={**_token(team, who), "saved": "1", **params}
    )


async def test_role_changes_and_removal_take_effect_on_open_connections(
    database_url: str | None, gess_server: StartServer
):
    server = await _start(gess_server, database_url)
    team = await make_team(server.http_url)
    workspace = await team.workspace()
    document_id = await team.document(workspace)
    viewer = team.accounts["viewer"]
    members = f"/api/workspaces/{workspace}/members"
    async with _connect(server, team, "viewer", document_id) as client:
        await team.owner.ok("PATCH", f"{members}/{viewer.user_id}", {"role": "editor"})
        await client.insert_text("promoted")
        await client.wait_saved_covers(client.state_vector())
        assert await _stored_text(server, team, document_id) == "promoted"

        await team.owner.ok("PATCH", f"{members}/{viewer.user_id}", {"role": "commenter"})
        await client.insert_text(" and demoted")
        await wait_for(lambda: any(isinstance(m, Auth) for m in client.received))
        assert await _stored_text(server, team, document_id) == "promoted"

        await team.owner.ok("DELETE", f"{members}/{viewer.user_id}", status=204)
        code, reason = await client.wait_closed()
        assert code == 4403 and "no longer a member" in reason


async def test_trash_and_delete_close_open_connections(gess_server: StartServer):
    server = await _start(gess_server)
    team = await make_team(server.http_url)
    workspace = await team.workspace()
    document_id = await team.document(workspace)
    async with _connect(server, team, "editor", document_id) as client:
        await client.insert_text("draft")
        await client.wait_saved_covers(client.state_vector())
        await team.api("editor").ok("POST", f"/api/documents/{document_id}/trash")
        code, reason = await client.wait_closed()
        assert code == 4404 and "trash" in reason
    await team.api("editor").ok("POST", f"/api/documents/{document_id}/restore")
    assert await _stored_text(server, team, document_id) == "draft"
    async with _connect(server, team, "editor", document_id) as client:
        await team.owner.ok("DELETE", f"/api/documents/{document_id}", status=204)
        code, _ = await client.wait_closed()
        assert code == 4404
    async with RawClient.connect(
        server.ws_url, document_id, params=_token(team, "owner"), sync=False
    ) as client:
        assert (await client.wait_closed())[0] == 4404


async def test_activity_is_pushed_to_connected_members(gess_server: StartServer):
    server = await _start(gess_server)
    team = await make_team(server.http_url)
    workspace = await team.workspace()
    open_document = await team.document(workspace, title="Open")
    other = await team.document(workspace, title="Other")
    async with _connect(server, team, "viewer", open_document, events="1") as client:
        await team.api("editor").ok("PATCH", f"/api/documents/{other}", {"title": "Renamed"})

        def activity() -> list[dict[str, Any]]:
            return [
                m.data
                for m in client.received
                if isinstance(m, Event) and m.data.get("type") == "activity"
            ]

        await wait_for(activity, message="an activity event")
        event = activity()[0]
        assert event["workspace_id"] == workspace
        entry = event["activity"]
        assert entry["verb"] == "document.renamed"
        assert entry["object"] == {"type": "document", "id": other}
        assert entry["data"]["title"] == "Renamed"
        assert entry["actor"]["name"] == team.accounts["editor"].name

    feed = await team.api("viewer").ok("GET", f"/api/workspaces/{workspace}/activity?limit=2")
    assert [item["verb"] for item in feed["items"]] == ["document.renamed", "document.created"]
    assert feed["next_cursor"] is not None
    rest = await team.api("viewer").ok(
        "GET", f"/api/workspaces/{workspace}/activity?limit=50&cursor={feed['next_cursor']}"
    )
    verbs = [item["verb"] for item in rest["items"]]
    assert verbs[0] == "document.created" and "member.joined" in verbs
    assert rest["next_cursor"] is None


async def test_the_session_cookie_opens_the_socket_from_our_own_pages_only(
    gess_server: StartServer,
):
    server = await _start(gess_server)
    team = await make_team(server.http_url)
    document_id = await team.document(await team.workspace())
    cookie = {"Cookie": f"gess_session={team.accounts['owner'].token}"}
    same = {**cookie, "Origin": server.http_url}
    other = {**cookie, "Origin": "https://evil.example"}
    async with connect(f"{server.ws_url}/{document_id}", additional_headers=same) as ws:
        assert await asyncio.wait_for(ws.recv(), scaled(5))  # sync step 1: accepted
    async with connect(f"{server.ws_url}/{document_id}", additional_headers=other) as ws:
        await asyncio.wait_for(ws.wait_closed(), scaled(5))
        assert ws.close_code == 4401
