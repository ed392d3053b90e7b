"""Comment threads with real Yjs clients (yjs + y-websocket in Node) and the Python SDK against
a real server: anchors made by Yjs and resolved by the server as the text moves, and the other
way round; thread and comment events to the clients that ask for them, while a stock provider
on the same document keeps syncing undisturbed; mentions pushed to the mentioned member only.

Anchors on the Node side are made and resolved by Yjs (``threads.mjs``) over the full state of
a connected Node client, so they name the very items that client holds.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from pycrdt import Text

from client import Session, connect
from crdt.anchors import anchor_range
from tests.api.support import ACCOUNT_ARGS, Team, make_team
from tests.conftest import StartServer
from tests.integration.raw import covers, decode_state_vector
from tests.integration.server import GessServer
from tests.interop.node import HARNESS_DIR, NodeClient, scaled

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]

ANCHORS = HARNESS_DIR / "threads.mjs"
SENTENCE = "The quick brown fox jumps"


async def _yjs(request: dict[str, Any]) -> dict[str, Any]:
    """Run one ``threads.mjs`` request (Yjs's own relative positions)."""
    node = shutil.which("node")
    assert node is not None
    process = await asyncio.create_subprocess_exec(
        node,
        str(ANCHORS),
        cwd=HARNESS_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(scaled(15)):
        out, err = await process.communicate(json.dumps(request).encode())
    reply: dict[str, Any] = json.loads(out or b"{}")
    assert process.returncode == 0 and "error" not in reply, (reply, err.decode())
    return reply


async def _state(client: NodeClient) -> str:
    return base64.b64encode(await client.full_state()).decode()


async def _saved(client: NodeClient) -> None:
    """Wait until the server has committed everything ``client`` has (it asked for saved)."""
    wanted = decode_state_vector(await client.state_vector())
    await client.wait_event(
        "saved",
        lambda e: covers(decode_state_vector(base64.b64decode(e["state_vector"])), wanted),
        within=15,
    )


@asynccontextmanager
async def _setup(gess_server: StartServer, database_url: str | None) -> AsyncIterator[Any]:
    server = await gess_server(database_url=database_url, extra_args=ACCOUNT_ARGS, anonymous=False)
    team = await make_team(server.http_url)
    workspace = await team.workspace()
    document = await team.document(workspace, title="Live")
    yield server, team, document


def _params(team: Team, who: str, **extra: str) -> dict[str, str]:
    return {"token": team.accounts[who].token, **extra}


async def _thread(team: Team, thread_id: str) -> dict[str, Any]:
    thread: dict[str, Any] = await team.owner.ok("GET", f"/api/threads/{thread_id}")
    return thread


async def test_anchors_follow_the_text_between_yjs_and_the_server(
    database_url: str | None, gess_server: StartServer
):
    async with _setup(gess_server, database_url) as (server, team, document):
        await _anchors_follow_the_text(server, team, document)


async def _anchors_follow_the_text(server: GessServer, team: Team, document: str) -> None:
    async with (
        NodeClient.start(server.ws_url, document, _params(team, "editor", saved="1")) as alice,
        NodeClient.start(server.ws_url, document, _params(team, "owner", saved="1")) as bob,
    ):
        await alice.insert(0, SENTENCE)
        await _saved(alice)
        anchor = await _yjs(
            {
                "cmd": "anchor",
                "state": await _state(alice),
                "name": "text",
                "index": 10,
                "length": 5,
            }
        )
        created = await team.api("commenter").ok(
            "POST",
            f"/api/documents/{document}/threads",
            {"anchor": anchor, "body": "Which brown?"},
            status=201,
        )
        assert created["quote"] == "brown"
        assert created["anchor"] == {**anchor, "index": 10, "length": 5}

        # Before the range, then inside it: inserted and deleted.
        await bob.wait_text(SENTENCE)
        await bob.insert(0, "Oh! ")
        await bob.delete(len("Oh! The "), len("quick "))
        moved = "Oh! The brown fox jumps"
        await bob.wait_text(moved)
        start = moved.index("brown")
        await bob.insert(start + 3, "XX")
        await bob.delete(start + 5, 1)
        now = "Oh! The broXXn fox jumps"
        await bob.wait_text(now)
        await _saved(bob)
        thread = await _thread(team, created["id"])
        assert (thread["anchor"]["index"], thread["anchor"]["length"]) == (start, 6)
        assert now[start : start + 6] == "broXXn" and thread["detached"] is False
        assert thread["quote"] == "brown"
        await alice.wait_text(now)
        in_yjs = await _yjs({"cmd": "resolve", "state": await _state(alice), **anchor})
        assert in_yjs == {"index": start, "length": 6, "text": "broXXn"}

        # The server's own anchor resolves in Yjs to the same range.
        async with connect(server.ws_url, document, params=_params(team, "viewer")) as viewer:
            text = viewer.doc.get("text", type=Text)
            with anyio.fail_after(scaled(10)):
                await viewer.wait_until(lambda: str(text) == now)
            fox = now.index("fox")
            start_b64, end_b64 = anchor_range(text, fox, 3).to_base64()
        made = await team.owner.ok(
            "POST",
            f"/api/documents/{document}/threads",
            {"anchor": {"start": start_b64, "end": end_b64}, "body": "Which fox?"},
            status=201,
        )
        assert (made["quote"], made["anchor"]["index"], made["anchor"]["length"]) == ("fox", fox, 3)
        resolved = await _yjs(
            {"cmd": "resolve", "state": await _state(alice), "start": start_b64, "end": end_b64}
        )
        assert resolved == {"index": fox, "length": 3, "text": "fox"}

        # The whole range deleted: detached, quote kept, thread kept.
        await bob.delete(start, 6)
        await bob.wait_text("Oh! The  fox jumps")
        await _saved(bob)
        gone = await _thread(team, created["id"])
        assert gone["detached"] is True and gone["quote"] == "brown"
        assert (gone["anchor"]["index"], gone["anchor"]["length"]) == (None, None)
        assert (gone["anchor"]["start"], gone["anchor"]["end"]) == (anchor["start"], anchor["end"])
        still = await _thread(team, made["id"])
        assert (still["detached"], still["anchor"]["index"]) == (False, now.index("fox") - 6)


def _of_type(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda data: data.get("type") == kind


def _data_of_type(kind: str) -> Callable[[dict[str, Any]], bool]:
    """For a Node client's ``server-event``: whether its data is of type ``kind``."""
    return lambda event: bool(event["data"].get("type") == kind)


async def _next_event(session: Session, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    with anyio.fail_after(scaled(10)):
        async for event in session.events():
            if wanted(event.data):
                return dict(event.data)
    raise AssertionError("the session closed before the event came")


async def test_comment_events_reach_clients_that_ask_and_stock_clients_keep_syncing(
    database_url: str | None, gess_server: StartServer
):
    async with _setup(gess_server, database_url) as (server, team, document):
        await _events(server, team, document)


async def _events(server: GessServer, team: Team, document: str) -> None:
    events = _params(team, "commenter", events="1")
    async with (
        NodeClient.start(server.ws_url, document, events) as node,
        NodeClient.start(server.ws_url, document, _params(team, "editor")) as stock,
        connect(server.ws_url, document, params=_params(team, "viewer", events="1")) as python,
    ):
        await stock.insert(0, SENTENCE)
        await node.wait_text(SENTENCE)
        session_text = python.doc.get("text", type=Text)
        with anyio.fail_after(scaled(10)):
            await python.wait_until(lambda: str(session_text) == SENTENCE)
        anchor = await _yjs(
            {"cmd": "anchor", "state": await _state(node), "name": "text", "index": 4, "length": 5}
        )
        mark = len(node.events)
        thread = await team.owner.ok(
            "POST",
            f"/api/documents/{document}/threads",
            {"anchor": anchor, "body": "Quick?"},
            status=201,
        )
        added = await node.wait_event(
            "server-event", lambda e: e["data"]["type"] == "thread.added", since=mark
        )
        assert added["data"]["thread"] == thread and added["data"]["document_id"] == document
        assert (await _next_event(python, _of_type("thread.added")))["thread"]["id"] == thread["id"]

        mark = len(node.events)
        reply = await team.api("editor").ok(
            "POST", f"/api/threads/{thread['id']}/comments", {"body": "Yes, quick."}, status=201
        )
        event = await node.wait_event(
            "server-event", lambda e: e["data"]["type"] == "comment.added", since=mark
        )
        assert event["data"]["comment"] == reply
        assert [c["id"] for c in event["data"]["thread"]["comments"]][-1] == reply["id"]
        from_python = await _next_event(python, _of_type("comment.added"))
        assert from_python["comment"] == reply

        for method, path, body, kind in (
            ("PATCH", f"/api/comments/{reply['id']}", {"body": "Quite."}, "comment.edited"),
            ("PATCH", f"/api/threads/{thread['id']}", {"status": "resolved"}, "thread.resolved"),
            ("PATCH", f"/api/threads/{thread['id']}", {"status": "open"}, "thread.reopened"),
            ("DELETE", f"/api/comments/{reply['id']}", None, "comment.deleted"),
            ("DELETE", f"/api/threads/{thread['id']}", None, "thread.deleted"),
        ):
            mark = len(node.events)
            who = "editor" if path.startswith("/api/comments") else "owner"
            await team.api(who).ok(method, path, body, status=204 if method == "DELETE" else 200)
            await node.wait_event("server-event", _data_of_type(kind), since=mark)
            assert (await _next_event(python, _of_type(kind)))["document_id"] == document

        # The stock provider got none of it, and its edits still converge everywhere.
        await stock.insert(0, "Edited: ")
        await node.wait_text("Edited: " + SENTENCE)
        with anyio.fail_after(scaled(10)):
            await python.wait_until(lambda: str(session_text) == "Edited: " + SENTENCE)
        assert not [e for e in stock.events if e["event"] in {"saved", "server-event"}]
        assert "Unable to compute message" not in stock.stderr_text()
        assert await stock.text() == "Edited: " + SENTENCE


async def test_a_mention_is_pushed_to_the_mentioned_member_only(
    database_url: str | None, gess_server: StartServer
):
    async with _setup(gess_server, database_url) as (server, team, document):
        workspace = team.workspaces[0]
        other = await team.document(workspace, title="Elsewhere")
        viewer = team.accounts["viewer"]
        outsider = team.accounts["outsider"]
        async with (
            connect(server.ws_url, other, params=_params(team, "viewer", events="1")) as mentioned,
            connect(server.ws_url, other, params=_params(team, "editor", events="1")) as bystander,
            NodeClient.start(server.ws_url, document, _params(team, "owner", saved="1")) as writer,
        ):
            await writer.insert(0, SENTENCE)
            await writer.wait_text(SENTENCE)
            anchor = await _yjs(
                {
                    "cmd": "anchor",
                    "state": await _state(writer),
                    "name": "text",
                    "index": 0,
                    "length": 3,
                }
            )
            await _saved(writer)
            body = f"<@{viewer.user_id}> and <@{outsider.user_id}>: is this right?"
            thread = await team.owner.ok(
                "POST",
                f"/api/documents/{document}/threads",
                {"anchor": anchor, "body": body},
                status=201,
            )
            pushed = await _next_event(mentioned, _of_type("notification"))
            notification = pushed["notification"]
            assert (notification["thread_id"], notification["document_id"]) == (
                thread["id"],
                document,
            )
            assert notification["actor"]["id"] == team.accounts["owner"].user_id
            listed = await team.api("viewer").ok("GET", "/api/notifications")
            assert notification in listed["items"]
            assert (await team.api("outsider").ok("GET", "/api/notifications"))["items"] == []
            # Events reach a connection in order: had the bystander been sent the first
            # notification, it would come before the one of the reply that mentions them.
            editor = team.accounts["editor"]
            reply = await team.owner.ok(
                "POST",
                f"/api/threads/{thread['id']}/comments",
                {"body": f"<@{editor.user_id}>, you too"},
                status=201,
            )
            theirs = await _next_event(bystander, _of_type("notification"))
            assert theirs["notification"]["comment_id"] == reply["id"]
            assert theirs["notification"]["excerpt"] == f"<@{editor.user_id}>, you too"


async def test_outsiders_reading_a_published_document_get_no_member_events(
    database_url: str | None, gess_server: StartServer
):
    """Someone signed in but not a member may read a published document of a public
    workspace (as a viewer), but its comments are for members: no thread events reach them."""
    server = await gess_server(database_url=database_url, extra_args=ACCOUNT_ARGS, anonymous=False)
    team = await make_team(server.http_url)
    workspace = await team.workspace(visibility="public")
    document = await team.document(workspace, title="Published", published=True)
    async with (
        NodeClient.start(server.ws_url, document, _params(team, "viewer", events="1")) as member,
        NodeClient.start(server.ws_url, document, _params(team, "outsider", events="1")) as reader,
        NodeClient.start(server.ws_url, document, _params(team, "editor")) as writer,
    ):
        await writer.insert(0, SENTENCE)
        await reader.wait_text(SENTENCE)
        await member.wait_text(SENTENCE)
        anchor = await _yjs(
            {
                "cmd": "anchor",
                "state": await _state(writer),
                "name": "text",
                "index": 4,
                "length": 5,
            }
        )
        mark = len(reader.events)
        await team.owner.ok(
            "POST",
            f"/api/documents/{document}/threads",
            {"anchor": anchor, "body": "Members only"},
            status=201,
        )
        await member.wait_event("server-event", _data_of_type("thread.added"), since=mark)
        # An edit made after the thread reaches the reader after the thread's event would
        # have (one connection's messages keep their order): once the reader has the edit,
        # it would also have the event.
        await writer.insert(0, "Later: ")
        await reader.wait_text("Later: " + SENTENCE)
        assert not [e for e in reader.events[mark:] if e["event"] == "server-event"]
        # The reader may not read the threads over REST either.
        await team.api("outsider").ok("GET", f"/api/documents/{document}/threads", status=403)
