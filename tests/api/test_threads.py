"""Comment threads over REST against a real server: anchors, replies, resolving, deleting,
activity, and the refusals of bad input (which change nothing).

Who may call what is in the permission matrix (``test_permission_matrix.py``); here are the
rules beyond that.
"""

from __future__ import annotations

import base64
from typing import Any

from tests.api.support import Team
from tests.api.threads_helpers import TITLE, heading_anchor, new_thread, template_document


def _error(response: Any, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    error: dict[str, str] = response.json()["error"]
    assert set(error) == {"code", "message"} and error["message"]
    return error


async def _threads(team: Team, document_id: str, query: str = "") -> list[dict[str, Any]]:
    page = await team.owner.ok("GET", f"/api/documents/{document_id}/threads{query}")
    items: list[dict[str, Any]] = page["items"]
    return items


async def _verbs(team: Team, workspace_id: str) -> list[str]:
    page = await team.owner.ok("GET", f"/api/workspaces/{workspace_id}/activity")
    return [entry["verb"] for entry in page["items"]]


async def test_a_thread_quotes_its_range_and_resolves_its_anchor(team: Team):
    targets = await template_document(team)
    thread = await new_thread(team, targets["d"], who="commenter", body="Which *scheme*?")
    anchor = heading_anchor()
    commenter = team.accounts["commenter"]
    assert thread["anchor"] == {**anchor, "index": TITLE.index("Social"), "length": 15}
    assert thread["quote"] == "Social Security"
    assert (thread["detached"], thread["status"]) == (False, "open")
    assert thread["author"] == {"id": commenter.user_id, "name": commenter.name}
    assert thread["resolved_at"] is None and thread["resolved_by"] is None
    [body] = thread["comments"]
    assert body["body"] == "Which *scheme*?" and body["mentions"] == []
    assert body["author"]["id"] == commenter.user_id and body["edited_at"] is None
    assert await team.api("viewer").ok("GET", f"/api/threads/{thread['id']}") == thread
    assert await _threads(team, targets["d"]) == [thread]
    assert "thread.created" in await _verbs(team, targets["w"])


async def test_resolve_reopen_reply_edit_and_delete(team: Team):
    targets = await template_document(team)
    thread = await new_thread(team, targets["d"])
    path = f"/api/threads/{thread['id']}"
    commenter = team.api("commenter")

    resolved = await commenter.ok("PATCH", path, {"status": "resolved"})
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert resolved["resolved_by"]["id"] == team.accounts["commenter"].user_id
    assert [t["id"] for t in await _threads(team, targets["d"], "?status=resolved")] == [
        thread["id"]
    ]
    assert await _threads(team, targets["d"], "?status=open") == []
    again = await commenter.ok("PATCH", path, {"status": "resolved"})
    assert again["resolved_at"] == resolved["resolved_at"], "resolving twice changes nothing"
    reopened = await team.api("editor").ok("PATCH", path, {"status": "open"})
    assert reopened["status"] == "open" and reopened["resolved_by"] is None

    reply = await commenter.ok("POST", f"{path}/comments", {"body": "The SHI scheme."}, status=201)
    assert reply["thread_id"] == thread["id"]
    edited = await commenter.ok("PATCH", f"/api/comments/{reply['id']}", {"body": "The CBHI."})
    assert edited["body"] == "The CBHI." and edited["edited_at"]
    refused = await team.api("editor").request(
        "PATCH", f"/api/comments/{reply['id']}", {"body": "Mine now"}
    )
    _error(refused, 403)
    current = await team.owner.ok("GET", path)
    assert [c["body"] for c in current["comments"]] == ["Which scheme?", "The CBHI."]

    first = current["comments"][0]["id"]
    assert _error(await team.owner.request("DELETE", f"/api/comments/{first}"), 409)["code"] == (
        "thread_body"
    )
    await team.owner.ok("DELETE", f"/api/comments/{reply['id']}", status=204)
    assert len((await team.owner.ok("GET", path))["comments"]) == 1

    await team.owner.ok("DELETE", path, status=204)
    _error(await team.owner.request("GET", path), 404)
    assert await _threads(team, targets["d"]) == []
    verbs = await _verbs(team, targets["w"])
    for verb in ("thread.created", "thread.resolved", "thread.reopened", "thread.deleted"):
        assert verb in verbs
    assert verbs.count("thread.resolved") == 1


async def test_bad_input_is_refused_and_changes_nothing(team: Team):
    targets = await template_document(team)
    path = f"/api/documents/{targets['d']}/threads"
    good = heading_anchor()
    junk = base64.b64encode(b"\xff\xfe\xfd not a position").decode()
    cases: list[tuple[object, int]] = [
        ({"anchor": {"start": "%%%", "end": good["end"]}, "body": "x"}, 422),
        ({"anchor": {"start": junk, "end": junk}, "body": "x"}, 422),
        ({"anchor": {"start": good["start"], "end": good["start"]}, "body": "x"}, 422),
        ({"anchor": {"start": good["end"], "end": good["start"]}, "body": "x"}, 422),
        ({"anchor": good, "body": "   "}, 422),
        ({"anchor": good, "body": "x" * 10_001}, 422),
        ({"anchor": good, "body": "x", "extra": 1}, 422),
        ({"anchor": {"start": good["start"]}, "body": "x"}, 422),
        ({"anchor": good, "body": 5}, 422),
        ({"anchor": good, "body": "x" * 70_000}, 413),
        ("not an object", 422),
    ]
    for body, status in cases:
        response = await team.owner.request("POST", path, body)
        _error(response, status)
    invalid = _error(
        await team.owner.request(
            "POST", path, {"anchor": {"start": junk, "end": junk}, "body": "x"}
        ),
        422,
    )
    assert "anchor" in invalid["message"]
    assert await _threads(team, targets["d"]) == []
    _error(await team.owner.request("GET", f"{path}?status=closed"), 422)
    _error(await team.owner.request("GET", f"{path}?cursor=bm9wZQ"), 400)
    _error(await team.owner.request("GET", "/api/threads/nope"), 404)
    _error(await team.owner.request("GET", "/api/comments/nope"), 405)
    _error(await team.owner.request("PATCH", "/api/comments/nope", {"body": "x"}), 404)

    thread = await new_thread(team, targets["d"])
    thread_path = f"/api/threads/{thread['id']}"
    _error(await team.owner.request("PATCH", thread_path, {"status": "closed"}), 422)
    _error(await team.owner.request("POST", f"{thread_path}/comments", {"body": ""}), 422)
    assert await team.owner.ok("GET", thread_path) == thread


async def test_an_anchor_must_point_into_this_document(team: Team):
    workspace = await team.workspace()
    blank = await team.document(workspace, template="blank")
    refused = await team.owner.request(
        "POST",
        f"/api/documents/{blank}/threads",
        {"anchor": heading_anchor(), "body": "Elsewhere"},
    )
    assert "anchor" in _error(refused, 422)["message"]


async def test_threads_are_paged_oldest_first(team: Team):
    targets = await template_document(team)
    made = [(await new_thread(team, targets["d"], body=f"Thread {n}"))["id"] for n in range(3)]
    path = f"/api/documents/{targets['d']}/threads"
    first = await team.owner.ok("GET", f"{path}?limit=2")
    assert first["next_cursor"]
    rest = await team.owner.ok("GET", f"{path}?limit=2&cursor={first['next_cursor']}")
    assert rest["next_cursor"] is None
    assert [t["id"] for t in first["items"] + rest["items"]] == made


async def test_trashed_documents_take_no_new_comments(team: Team):
    targets = await template_document(team)
    thread = await new_thread(team, targets["d"])
    await team.owner.ok("POST", f"/api/documents/{targets['d']}/trash")
    refused = await team.owner.request(
        "POST",
        f"/api/documents/{targets['d']}/threads",
        {"anchor": heading_anchor(), "body": "Late"},
    )
    assert _error(refused, 409)["code"] == "trash_state"
    reply = await team.owner.request(
        "POST", f"/api/threads/{thread['id']}/comments", {"body": "Late"}
    )
    assert _error(reply, 409)["code"] == "trash_state"
    assert len(await _threads(team, targets["d"])) == 1


async def test_deleting_the_document_deletes_its_threads(team: Team):
    targets = await template_document(team)
    viewer = team.accounts["viewer"]

    async def unread() -> int:
        count: int = (await team.api("viewer").ok("GET", "/api/notifications/unread-count"))[
            "unread"
        ]
        return count

    before = await unread()
    thread = await new_thread(team, targets["d"], body=f"For <@{viewer.user_id}>")
    assert await unread() == before + 1
    await team.owner.ok("DELETE", f"/api/documents/{targets['d']}", status=204)
    assert await unread() == before
    _error(await team.owner.request("GET", f"/api/threads/{thread['id']}"), 404)
    comment = thread["comments"][0]["id"]
    _error(await team.owner.request("PATCH", f"/api/comments/{comment}", {"body": "x"}), 404)
    listed = await team.api("viewer").ok("GET", "/api/notifications")
    assert all(item["thread_id"] != thread["id"] for item in listed["items"])
