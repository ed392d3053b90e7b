"""Mentions and notifications over REST against a real server: who is notified, once; reading
them; paging; and that they follow membership and deletions."""

from __future__ import annotations

from typing import Any

from tests.api.support import Team
from tests.api.threads_helpers import new_thread, template_document


async def _notifications(team: Team, who: str, query: str = "") -> list[dict[str, Any]]:
    page = await team.api(who).ok("GET", f"/api/notifications{query}")
    items: list[dict[str, Any]] = page["items"]
    return items


async def _about(team: Team, who: str, thread_id: str) -> list[dict[str, Any]]:
    return [n for n in await _notifications(team, who) if n["thread_id"] == thread_id]


async def _unread(team: Team, who: str) -> int:
    count: int = (await team.api(who).ok("GET", "/api/notifications/unread-count"))["unread"]
    return count


async def test_a_mention_notifies_the_mentioned_member_only(team: Team):
    targets = await template_document(team)
    ids = {who: account.user_id for who, account in team.accounts.items()}
    before = {who: await _unread(team, who) for who in ("owner", "editor", "viewer", "outsider")}
    body = f"<@{ids['viewer']}> and <@{ids['outsider']}>, see <@{ids['owner']}> <@{ids['viewer']}>"
    thread = await new_thread(team, targets["d"], who="owner", body=body)

    comment = thread["comments"][0]
    viewer, owner = team.accounts["viewer"], team.accounts["owner"]
    # Members, each once, in order; the outsider's markup stays text.
    assert comment["mentions"] == [
        {"id": viewer.user_id, "name": viewer.name},
        {"id": owner.user_id, "name": owner.name},
    ]
    assert comment["body"] == body
    [notification] = await _about(team, "viewer", thread["id"])
    assert notification["kind"] == "mention" and notification["read"] is False
    assert notification["actor"] == {"id": owner.user_id, "name": owner.name}
    assert (notification["workspace_id"], notification["document_id"]) == (
        targets["w"],
        targets["d"],
    )
    assert notification["comment_id"] == comment["id"] and notification["excerpt"] == body
    assert notification["document_title"] == "Notes"
    assert await _unread(team, "viewer") == before["viewer"] + 1
    for who in ("owner", "editor", "outsider"):
        assert await _about(team, who, thread["id"]) == [], who
        assert await _unread(team, who) == before[who], who
    # Nothing was kept for the outsider either: joining later shows them nothing.
    await team.owner.ok(
        "POST",
        f"/api/workspaces/{targets['w']}/members",
        {"email": team.accounts["outsider"].email, "role": "viewer"},
        status=201,
    )
    assert await _about(team, "outsider", thread["id"]) == []


async def test_editing_notifies_only_newly_mentioned_members(team: Team):
    targets = await template_document(team)
    ids = {who: account.user_id for who, account in team.accounts.items()}
    thread = await new_thread(team, targets["d"], who="commenter", body=f"Hi <@{ids['viewer']}>")
    comment = f"/api/comments/{thread['comments'][0]['id']}"
    commenter = team.api("commenter")
    edited = await commenter.ok(
        "PATCH", comment, {"body": f"Hi <@{ids['viewer']}> and <@{ids['editor']}>"}
    )
    assert [m["id"] for m in edited["mentions"]] == [ids["viewer"], ids["editor"]]
    await commenter.ok("PATCH", comment, {"body": f"<@{ids['editor']}> <@{ids['viewer']}>!"})
    assert len(await _about(team, "viewer", thread["id"])) == 1
    assert len(await _about(team, "editor", thread["id"])) == 1

    reply = await commenter.ok(
        "POST", f"/api/threads/{thread['id']}/comments", {"body": f"<@{ids['viewer']}>?"}, 201
    )
    about = await _about(team, "viewer", thread["id"])
    assert [n["comment_id"] for n in about] == [reply["id"], thread["comments"][0]["id"]]

    await team.owner.ok("DELETE", f"/api/comments/{reply['id']}", status=204)
    assert len(await _about(team, "viewer", thread["id"])) == 1


async def test_reading_notifications(team: Team):
    targets = await template_document(team)
    editor = team.accounts["editor"].user_id
    await team.api("editor").ok("POST", "/api/notifications/read-all")
    threads = [
        await new_thread(team, targets["d"], body=f"<@{editor}> number {n}") for n in range(3)
    ]
    assert await _unread(team, "editor") == 3
    page = await team.api("editor").ok("GET", "/api/notifications?limit=2&unread=true")
    assert [n["thread_id"] for n in page["items"]] == [threads[2]["id"], threads[1]["id"]]
    rest = await team.api("editor").ok(
        "GET", f"/api/notifications?limit=2&unread=true&cursor={page['next_cursor']}"
    )
    assert [n["thread_id"] for n in rest["items"]] == [threads[0]["id"]]
    assert rest["next_cursor"] is None

    newest = page["items"][0]["id"]
    read = await team.api("editor").ok("POST", f"/api/notifications/{newest}/read")
    assert read["read"] is True and read["read_at"]
    again = await team.api("editor").ok("POST", f"/api/notifications/{newest}/read")
    assert again["read_at"] == read["read_at"]
    assert await _unread(team, "editor") == 2
    unread = await _notifications(team, "editor", "?unread=true")
    assert newest not in {n["id"] for n in unread}

    for who, target in (("viewer", newest), ("editor", "abc"), ("editor", "99999999999999")):
        response = await team.api(who).request("POST", f"/api/notifications/{target}/read")
        assert response.status_code == 404, (who, target, response.text)
        assert response.json()["error"]["code"] == "not_found"
    bad = await team.api("editor").request("GET", "/api/notifications?cursor=WyJ4Il0")
    assert bad.status_code == 400

    marked = await team.api("editor").ok("POST", "/api/notifications/read-all")
    assert marked == {"marked": 2}
    assert await _unread(team, "editor") == 0
    assert await _notifications(team, "editor", "?unread=true") == []


async def test_leaving_a_workspace_hides_its_notifications(team: Team):
    targets = await template_document(team)
    await team.owner.ok(
        "POST",
        f"/api/workspaces/{targets['w']}/members",
        {"email": team.spare.email, "role": "commenter"},
        status=201,
    )
    spare = team.spare.user_id
    thread = await new_thread(team, targets["d"], body=f"<@{spare}>")
    assert len(await _about(team, "spare", thread["id"])) == 1
    await team.owner.ok("DELETE", f"/api/workspaces/{targets['w']}/members/{spare}", status=204)
    assert await _about(team, "spare", thread["id"]) == []
    later = await new_thread(team, targets["d"], body=f"<@{spare}> again")
    assert later["comments"][0]["mentions"] == []
    assert await _about(team, "spare", later["id"]) == []
