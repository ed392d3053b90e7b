"""Versions, restore, history and attribution against real servers with accounts.

Clients are real: the Python SDK edits the TipTap content (the ``default`` XmlFragment) and a
Node ``y-websocket`` client stays connected through a restore; every check reads back over
REST or from what the clients hold.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

from client import Session, connect
from crdt import Document
from crdt.blocks import Block, blocks
from server.config import Settings, add_settings_arguments, settings_from_args
from storage import create_engine, default_sqlite_url
from tests.api.support import ACCOUNT_ARGS, Team, make_team
from tests.conftest import StartServer
from tests.integration.server import GessServer
from tests.interop.node import NodeClient, scaled, wait_for

pytestmark = pytest.mark.integration


# -- helpers ---------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def session(
    server: GessServer, team: Team, who: str, document_id: str, *, events: bool = False
) -> AsyncIterator[Session]:
    params = {"token": team.accounts[who].token}
    if events:
        params["events"] = "1"
    async with connect(server.ws_url, document_id, params=params, reconnect=False) as opened:
        yield opened


def fragment(doc: Doc[Any]) -> XmlFragment:
    shared: XmlFragment = doc.get("default", type=XmlFragment)
    return shared


def text(doc: Doc[Any]) -> Text:
    shared: Text = doc.get("text", type=Text)
    return shared


def blocks_of(state: bytes) -> list[Block]:
    return blocks(Document([state]))


def first_paragraph(doc: Doc[Any]) -> XmlText:
    for child in fragment(doc).children:
        if isinstance(child, XmlElement) and child.tag == "paragraph":
            inner = list(child.children)
            if inner and isinstance(inner[0], XmlText):
                return inner[0]
    raise AssertionError("no paragraph with text")


async def until(client: Session, predicate: Any, within: float = 10.0) -> None:
    with anyio.fail_after(scaled(within)):
        await client.wait_until(predicate)


async def versions(team: Team, document_id: str, who: str = "viewer") -> list[dict[str, Any]]:
    page = await team.api(who).ok("GET", f"/api/documents/{document_id}/versions?limit=100")
    items: list[dict[str, Any]] = page["items"]
    return items


async def save(team: Team, document_id: str, name: str, who: str = "editor") -> dict[str, Any]:
    created: dict[str, Any] = await team.api(who).ok(
        "POST", f"/api/documents/{document_id}/versions", {"name": name}, status=201
    )
    return created


def names(people: list[dict[str, Any]]) -> set[str]:
    return {person["name"] for person in people}


async def revise(client: Session) -> None:
    """Change the first paragraph, remove the third block, add a paragraph at the end; wait
    until saved."""
    doc = client.doc
    with doc.transaction():
        first_paragraph(doc).insert(0, "Revised: ")
        children = fragment(doc).children
        del children[2]
        children.append(XmlElement("paragraph", {}, [XmlText("Added paragraph")]))
    await client.saved()


# -- on the shared server of the module ----------------------------------------------------------


async def test_save_list_read_and_diff(accounts_server: GessServer, team: Team):
    workspace = await team.workspace()
    document_id = await team.document(workspace, template="assap-plan")
    export = await team.owner.request("GET", f"/api/documents/{document_id}/export")
    first = await save(team, document_id, "Before the steering committee")
    editor = team.accounts["editor"]
    assert first["kind"] == "manual" and first["name"] == "Before the steering committee"
    assert first["author"] == {"id": editor.user_id, "name": editor.name}
    assert first["document_id"] == document_id and first["upto"] > 0
    assert first["contributors"] == []  # the template was written by the system

    markdown = await team.api("viewer").request(
        "GET", f"/api/documents/{document_id}/versions/{first['id']}?format=markdown"
    )
    assert markdown.status_code == 200 and markdown.text == export.text
    html = await team.api("viewer").request(
        "GET", f"/api/documents/{document_id}/versions/{first['id']}?format=html"
    )
    assert html.headers["content-type"].startswith("text/html") and "<h" in html.text
    details = await team.api("viewer").ok(
        "GET", f"/api/documents/{document_id}/versions/{first['id']}"
    )
    assert details == first

    async with session(accounts_server, team, "editor", document_id) as client:
        before = blocks(Document([client.doc.get_update()]))
        await revise(client)
        after = blocks(Document([client.doc.get_update()]))

    diff = await team.api("viewer").ok(
        "GET", f"/api/documents/{document_id}/versions/{first['id']}/diff"
    )
    assert (diff["from"], diff["to"]) == (first["id"], "current")
    by_kind = {change["change"]: change for change in diff["changes"]}
    assert sorted(c["change"] for c in diff["changes"]) == ["added", "changed", "removed"]
    assert by_kind["added"]["new"] == {"kind": "paragraph", "text": "Added paragraph"}
    assert by_kind["added"]["old"] is None and by_kind["added"]["new_index"] == len(after) - 1
    assert by_kind["removed"]["old"]["text"] == before[2].text
    assert by_kind["removed"]["new"] is None and by_kind["removed"]["old_index"] == 2
    changed = by_kind["changed"]
    assert changed["new"]["text"] == "Revised: " + changed["old"]["text"]
    assert changed["old_index"] == changed["new_index"]

    second = await save(team, document_id, "After the committee", who="owner")
    between = await team.api("viewer").ok(
        "GET", f"/api/documents/{document_id}/versions/{first['id']}/diff?against={second['id']}"
    )
    assert between["changes"] == diff["changes"] and between["to"] == second["id"]
    same = await team.api("viewer").ok(
        "GET", f"/api/documents/{document_id}/versions/{second['id']}/diff"
    )
    assert same["changes"] == []
    assert second["contributors"] == [{"id": editor.user_id, "name": editor.name}]
    assert second["upto"] > first["upto"]

    listed = await versions(team, document_id)
    assert [v["id"] for v in listed] == [second["id"], first["id"]]
    page = await team.api("viewer").ok("GET", f"/api/documents/{document_id}/versions?limit=1")
    assert [v["id"] for v in page["items"]] == [second["id"]] and page["next_cursor"]
    rest = await team.api("viewer").ok(
        "GET", f"/api/documents/{document_id}/versions?limit=1&cursor={page['next_cursor']}"
    )
    assert [v["id"] for v in rest["items"]] == [first["id"]] and rest["next_cursor"] is None

    feed = await team.owner.ok("GET", f"/api/workspaces/{workspace}/activity?limit=2")
    assert [item["verb"] for item in feed["items"]] == ["version.saved", "version.saved"]


async def test_bad_input_is_refused_and_changes_nothing(team: Team):
    workspace = await team.workspace()
    document_id = await team.document(workspace, template="blank")
    other = await team.document(workspace, title="Other")
    version = await save(team, document_id, "One")
    base = f"/api/documents/{document_id}/versions"
    cases = [
        ("POST", base, {"name": ""}, 422),
        ("POST", base, {"name": "  padded  "}, 422),
        ("POST", base, {"name": "x" * 201}, 422),
        ("POST", base, {"name": "ok", "kind": "auto"}, 422),
        ("POST", base, {"title": "no name"}, 422),
        ("GET", f"{base}/999999", None, 404),
        ("GET", f"{base}/abc", None, 404),
        ("GET", f"{base}/{version['id']}?format=pdf", None, 422),
        ("GET", f"{base}/{version['id']}/diff?against=yesterday", None, 422),
        ("GET", f"{base}/{version['id']}/diff?against=999999", None, 404),
        ("GET", f"/api/documents/{other}/versions/{version['id']}", None, 404),
        ("POST", f"/api/documents/{other}/versions/{version['id']}/restore", None, 404),
        ("POST", f"{base}/999999/restore", None, 404),
        ("GET", f"{base}?cursor=garbage", None, 400),
        ("GET", f"/api/documents/{document_id}/history?gap=0", None, 422),
        ("GET", "/api/documents/no-such-document/versions", None, 404),
    ]
    for method, path, body, status in cases:
        response = await team.api("editor").request(method, path, body)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        error = response.json()["error"]
        assert set(error) == {"code", "message"} and error["message"]
    assert [v["id"] for v in await versions(team, document_id)] == [version["id"]]
    assert await versions(team, other) == []


async def test_restore_reaches_every_client_and_can_be_undone(
    accounts_server: GessServer, team: Team, node: None
):
    workspace = await team.workspace()
    document_id = await team.document(workspace, template="assap-plan")
    params = {"token": team.accounts["owner"].token, "events": "1"}
    async with (
        NodeClient.start(accounts_server.ws_url, document_id, params) as browser,
        session(accounts_server, team, "editor", document_id, events=True) as client,
    ):
        saved = await save(team, document_id, "Agreed text")
        wanted = blocks(Document([client.doc.get_update()]))
        await revise(client)
        revised = blocks(Document([client.doc.get_update()]))
        await wait_for(
            lambda: _node_blocks(browser, revised), message="the Node client to get the edits"
        )
        assert revised != wanted

        mark = len(browser.events)
        backup = await team.api("editor").ok(
            "POST", f"/api/documents/{document_id}/versions/{saved['id']}/restore"
        )
        assert backup["kind"] == "restore-backup" and saved["name"] in backup["name"]
        assert backup["author"]["id"] == team.accounts["editor"].user_id

        # Both clients end with the version's content, received live.
        await until(client, lambda: blocks(Document([client.doc.get_update()])) == wanted)
        await wait_for(lambda: _node_blocks(browser, wanted), message="the restored blocks")
        event = await browser.wait_event(
            "server-event", lambda e: e["data"]["type"] == "version.restored", since=mark
        )
        assert event["data"]["version"]["id"] == saved["id"]
        assert event["data"]["backup"]["id"] == backup["id"]
        with anyio.fail_after(scaled(10)):
            async for received in client.events():
                if received.data.get("type") == "version.restored":
                    break

        # Restoring is a new change: recorded, and undone by restoring the backup.
        listed = await versions(team, document_id)
        assert [v["kind"] for v in listed] == ["restore-backup", "manual"]
        current = await team.api("viewer").ok(
            "GET", f"/api/documents/{document_id}/versions/{saved['id']}/diff"
        )
        assert current["changes"] == []
        feed = await team.owner.ok("GET", f"/api/workspaces/{workspace}/activity?limit=1")
        assert feed["items"][0]["verb"] == "version.restored"
        assert feed["items"][0]["data"]["version_id"] == saved["id"]

        await team.api("owner").ok(
            "POST", f"/api/documents/{document_id}/versions/{backup['id']}/restore"
        )
        await until(client, lambda: blocks(Document([client.doc.get_update()])) == revised)
        await wait_for(lambda: _node_blocks(browser, revised), message="the undone restore")

    # What the clients saw is what was stored, and the restores are in the history.
    async with session(accounts_server, team, "viewer", document_id) as fresh:
        assert blocks(Document([fresh.doc.get_update()])) == revised
    history = await team.api("viewer").ok("GET", f"/api/documents/{document_id}/history")
    authors = [item["author"] and item["author"]["id"] for item in history["items"]]
    owner, editor = team.accounts["owner"].user_id, team.accounts["editor"].user_id
    assert authors[:2] == [owner, editor]  # the undo, then the restore and the edits


async def _node_blocks(browser: NodeClient, expected: list[Block]) -> bool:
    return blocks_of(await browser.full_state()) == expected


async def test_history_lists_every_author_and_versions_their_contributors(
    accounts_server: GessServer, team: Team
):
    workspace = await team.workspace()
    document_id = await team.document(workspace)
    owner, editor = team.accounts["owner"], team.accounts["editor"]
    async with (
        session(accounts_server, team, "owner", document_id) as first,
        session(accounts_server, team, "editor", document_id) as second,
    ):
        text(first.doc).insert(0, "Owner wrote this. ")
        await first.saved()
        await until(second, lambda: str(text(second.doc)) == "Owner wrote this. ")
        text(second.doc).insert(len(str(text(second.doc))), "Editor added this.")
        await second.saved()
    history = await team.api("viewer").ok("GET", f"/api/documents/{document_id}/history")
    authors = [item["author"] for item in history["items"]]
    assert authors == [
        {"id": editor.user_id, "name": editor.name},
        {"id": owner.user_id, "name": owner.name},
    ]
    for item in history["items"]:
        assert item["updates"] >= 1 and item["started_at"] <= item["ended_at"]
        assert item["first_update"] <= item["last_update"]
    page = await team.api("viewer").ok("GET", f"/api/documents/{document_id}/history?limit=1")
    rest = await team.api("viewer").ok(
        "GET", f"/api/documents/{document_id}/history?limit=1&cursor={page['next_cursor']}"
    )
    assert page["items"] + rest["items"] == history["items"] and rest["next_cursor"] is None

    first_version = await save(team, document_id, "Both")
    assert names(first_version["contributors"]) == {owner.name, editor.name}
    async with session(accounts_server, team, "editor", document_id) as again:
        text(again.doc).insert(0, "More. ")
        await again.saved()
    second_version = await save(team, document_id, "Editor only", who="owner")
    assert second_version["contributors"] == [{"id": editor.user_id, "name": editor.name}]
    # Contributors are those since the previous version, whoever saved it.
    listed = await versions(team, document_id)
    assert [names(v["contributors"]) for v in listed] == [{editor.name}, {owner.name, editor.name}]


# -- on servers of their own ----------------------------------------------------------------------


async def _tuned_team(
    gess_server: StartServer, database_url: str | None, *args: str
) -> tuple[GessServer, Team]:
    server = await gess_server(
        database_url=database_url, extra_args=(*ACCOUNT_ARGS, *args), anonymous=False
    )
    return server, await make_team(server.http_url)


async def _count(server: GessServer, table: str, document_id: str) -> int:
    url = server.database_url or default_sqlite_url(server.data_dir)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE document_id = :d"), {"d": document_id}
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def test_attribution_survives_compaction(database_url: str | None, gess_server: StartServer):
    server, team = await _tuned_team(gess_server, database_url, "--compact-threshold", "2")
    workspace = await team.workspace()
    document_id = await team.document(workspace)
    owner, editor = team.accounts["owner"], team.accounts["editor"]
    edits = 0
    for who in ("owner", "editor", "owner", "editor"):
        async with session(server, team, who, document_id) as client:
            text(client.doc).insert(0, f"{who} ")
            await client.saved()
            edits += 1

    async def compacted() -> bool:
        return await _count(server, "doc_edits", document_id) > 0

    await wait_for(compacted, message="a compaction to fold attribution")
    assert await _count(server, "doc_updates", document_id) < edits
    history = await team.api("viewer").ok("GET", f"/api/documents/{document_id}/history")
    ids = [item["author"] and item["author"]["id"] for item in history["items"]]
    assert ids == [editor.user_id, owner.user_id, editor.user_id, owner.user_id]
    assert sum(item["updates"] for item in history["items"]) == edits
    version = await save(team, document_id, "After compaction")
    assert names(version["contributors"]) == {owner.name, editor.name}


async def test_automatic_checkpoints(database_url: str | None, gess_server: StartServer):
    server, team = await _tuned_team(gess_server, database_url, "--checkpoint-after", "0.3")
    workspace = await team.workspace()
    document_id = await team.document(workspace)
    editor = team.accounts["editor"]
    async with session(server, team, "editor", document_id, events=True) as client:
        text(client.doc).insert(0, "first draft")
        await client.saved()

        async def checkpoints() -> list[dict[str, Any]]:
            return [v for v in await versions(team, document_id) if v["kind"] == "auto"]

        (first,) = await wait_for(checkpoints, message="an automatic checkpoint")
        assert first["author"] is None
        assert first["contributors"] == [{"id": editor.user_id, "name": editor.name}]
        with anyio.fail_after(scaled(10)):
            async for received in client.events():
                if received.data.get("type") == "version.saved":
                    version = received.data["version"]
                    assert isinstance(version, dict) and version["id"] == first["id"]
                    break

        text(client.doc).insert(0, "second ")
        await client.saved()

        async def two() -> bool:
            return len(await checkpoints()) == 2

        await wait_for(two, message="a second checkpoint after the second edit")
    newest = (await checkpoints())[0]
    details = await team.api("viewer").ok(
        "GET", f"/api/documents/{document_id}/versions/{newest['id']}?format=json"
    )
    assert details["upto"] > first["upto"] and details["contributors"] == first["contributors"]


async def test_a_room_unloading_with_edits_saves_a_checkpoint(
    database_url: str | None, gess_server: StartServer
):
    server, team = await _tuned_team(
        gess_server, database_url, "--checkpoint-after", "3600", "--room-grace-seconds", "0.2"
    )
    workspace = await team.workspace()
    document_id = await team.document(workspace)
    async with session(server, team, "owner", document_id) as client:
        text(client.doc).insert(0, "written before leaving")
        await client.saved()

    async def checkpoint() -> list[dict[str, Any]]:
        return await versions(team, document_id)

    (saved,) = await wait_for(checkpoint, message="a checkpoint when the room unloads")
    assert saved["kind"] == "auto" and saved["name"] == "Automatic checkpoint"
    assert names(saved["contributors"]) == {team.accounts["owner"].name}


def test_checkpoint_after_is_a_setting():
    assert Settings().checkpoint_after == 300
    assert Settings(checkpoint_after=0).checkpoint_after == 0
    with pytest.raises(ValueError, match="checkpoint after"):
        Settings(checkpoint_after=-1)
    parser = argparse.ArgumentParser()
    add_settings_arguments(parser)
    args = parser.parse_args(["--checkpoint-after", "12.5"])
    assert settings_from_args(args, {}).checkpoint_after == 12.5
    assert (
        settings_from_args(parser.parse_args([]), {"GESS_CHECKPOINT_AFTER": "0"}).checkpoint_after
        == 0
    )
