"""Workspaces, members, invitations and documents: the rules beyond who may call what."""

from __future__ import annotations

import asyncio

from tests.api.support import Team
from tests.integration.raw import RawClient
from tests.integration.server import GessServer


async def test_a_workspace_always_keeps_an_owner(team: Team):
    workspace = await team.workspace()
    owner = team.accounts["owner"]
    members = f"/api/workspaces/{workspace}/members"
    for method, body in (("PATCH", {"role": "editor"}), ("DELETE", None)):
        refused = await team.owner.request(method, f"{members}/{owner.user_id}", body)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "last_owner"

    editor = team.accounts["editor"]
    await team.owner.ok("PATCH", f"{members}/{editor.user_id}", {"role": "owner"})
    # Two owners: either may step down, but not both.
    await team.owner.ok("PATCH", f"{members}/{owner.user_id}", {"role": "viewer"})
    last = await team.api("editor").request("DELETE", f"{members}/{editor.user_id}")
    assert last.status_code == 409
    listed = await team.api("editor").ok("GET", members)
    roles = {item["user_id"]: item["role"] for item in listed["items"]}
    assert roles[owner.user_id] == "viewer" and roles[editor.user_id] == "owner"


async def test_members_are_added_by_address_once(team: Team):
    workspace = await team.workspace()
    members = f"/api/workspaces/{workspace}/members"
    unknown = await team.owner.request(
        "POST", members, {"email": "nobody@example.org", "role": "viewer"}
    )
    assert unknown.status_code == 404 and "invitation" in unknown.json()["error"]["message"]
    twice = await team.owner.request(
        "POST", members, {"email": team.accounts["viewer"].email, "role": "editor"}
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_member"
    added = await team.owner.ok(
        "POST", members, {"email": team.spare.email.upper(), "role": "commenter"}, status=201
    )
    assert (added["user_id"], added["role"]) == (team.spare.user_id, "commenter")
    page = await team.owner.ok("GET", f"{members}?limit=2")
    rest = await team.owner.ok("GET", f"{members}?limit=50&cursor={page['next_cursor']}")
    everyone = [m["name"] for m in page["items"] + rest["items"]]
    assert everyone == sorted(everyone) and len(everyone) == 5


async def test_invitations_are_used_once_and_can_be_revoked(team: Team):
    workspace = await team.workspace()
    invitations = f"/api/workspaces/{workspace}/invitations"
    invitation = await team.owner.ok("POST", invitations, {"role": "editor"}, status=201)
    revocable = await team.owner.ok("POST", invitations, {"role": "viewer"}, status=201)
    pending = await team.owner.ok("GET", invitations)
    assert {i["id"] for i in pending["items"]} == {invitation["id"], revocable["id"]}
    assert all("token" not in item for item in pending["items"])

    await team.owner.ok("DELETE", f"{invitations}/{revocable['id']}", status=204)
    gone = await team.api("outsider").request(
        "POST", f"/api/invitations/{revocable['token']}/accept"
    )
    assert gone.status_code == 404

    accepted = await team.api("outsider").ok(
        "POST", f"/api/invitations/{invitation['token']}/accept"
    )
    assert accepted["workspace"]["role"] == "editor"
    again = await team.api("spare").request(
        "POST", f"/api/invitations/{invitation['token']}/accept"
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "invitation_used"
    assert (await team.owner.ok("GET", invitations))["items"] == []
    feed = await team.owner.ok("GET", f"/api/workspaces/{workspace}/activity?limit=3")
    assert [item["verb"] for item in feed["items"]][:2] == ["member.joined", "member.invited"]


async def test_documents_list_by_title_with_paging_and_a_trash(team: Team):
    workspace = await team.workspace()
    ids = {
        title: await team.document(workspace, title=title)
        for title in ("Budget", "Annex", "Costing")
    }
    documents = f"/api/workspaces/{workspace}/documents"
    first = await team.api("viewer").ok("GET", f"{documents}?limit=2")
    assert [d["title"] for d in first["items"]] == ["Annex", "Budget"]
    second = await team.api("viewer").ok(
        "GET", f"{documents}?limit=2&cursor={first['next_cursor']}"
    )
    assert [d["title"] for d in second["items"]] == ["Costing"] and second["next_cursor"] is None

    await team.api("editor").ok("POST", f"/api/documents/{ids['Budget']}/trash")
    again = await team.api("editor").request("POST", f"/api/documents/{ids['Budget']}/trash")
    assert again.status_code == 409
    listed = await team.api("viewer").ok("GET", documents)
    assert [d["title"] for d in listed["items"]] == ["Annex", "Costing"]
    trash = await team.api("viewer").ok("GET", f"{documents}?trashed=true")
    assert [(d["title"], d["trashed"]) for d in trash["items"]] == [("Budget", True)]
    restored = await team.api("editor").ok("POST", f"/api/documents/{ids['Budget']}/restore")
    assert restored["trashed"] is False and restored["trashed_at"] is None


async def test_public_workspaces_show_published_documents_to_everyone_signed_in(team: Team):
    workspace = await team.workspace(visibility="public")
    published = await team.document(workspace, title="Published", published=True)
    await team.document(workspace, title="Draft")
    outsider = team.api("outsider")
    public = await outsider.ok("GET", "/api/workspaces?scope=public&limit=100")
    mine = [w for w in public["items"] if w["id"] == workspace]
    assert mine and mine[0]["role"] is None
    listed = await outsider.ok("GET", f"/api/workspaces/{workspace}/documents")
    assert [d["id"] for d in listed["items"]] == [published]
    assert (
        await outsider.request("GET", f"/api/workspaces/{workspace}/members")
    ).status_code == 403
    editor_publish = await team.api("editor").request(
        "PATCH", f"/api/documents/{published}", {"published": False}
    )
    assert editor_publish.status_code == 403
    await team.owner.ok("PATCH", f"/api/workspaces/{workspace}", {"visibility": "private"})
    assert (await outsider.request("GET", f"/api/documents/{published}")).status_code == 403


async def test_deleting_a_workspace_deletes_its_documents(accounts_server: GessServer, team: Team):
    workspace = await team.workspace()
    document_id = await team.document(workspace, template="assap-plan")
    params = {"token": team.accounts["owner"].token}
    async with RawClient.connect(accounts_server.ws_url, document_id, params=params) as client:
        await team.owner.ok("DELETE", f"/api/workspaces/{workspace}", status=204)
        code, reason = await client.wait_closed()
        assert code == 4404 and "deleted" in reason
    assert (await team.owner.request("GET", f"/api/documents/{document_id}")).status_code == 404
    assert (await team.owner.request("GET", f"/api/workspaces/{workspace}")).status_code == 404
    async with RawClient.connect(
        accounts_server.ws_url, document_id, params=params, sync=False
    ) as client:
        assert (await client.wait_closed())[0] == 4404


async def test_a_document_made_from_a_template_is_stored_before_its_id_is_returned(
    accounts_server: GessServer, team: Team
):
    workspace = await team.workspace()
    created = await team.api("editor").ok(
        "POST",
        f"/api/workspaces/{workspace}/documents",
        {"title": "Course", "template": "training-course"},
        status=201,
    )
    assert (created["template"], created["created_by"]) == (
        "training-course",
        team.accounts["editor"].user_id,
    )
    exported = await team.api("viewer").request(
        "GET", f"/api/documents/{created['id']}/export?format=markdown"
    )
    assert exported.status_code == 200 and exported.text.startswith("#")
    unknown = await team.api("editor").request(
        "POST", f"/api/workspaces/{workspace}/documents", {"title": "X", "template": "novel"}
    )
    assert unknown.status_code == 422 and "assap-plan" in unknown.json()["error"]["message"]


async def test_two_owners_stepping_down_at_once_leave_one_owner(team: Team):
    workspace = await team.workspace()
    members = f"/api/workspaces/{workspace}/members"
    owner, editor = team.accounts["owner"], team.accounts["editor"]
    await team.owner.ok("PATCH", f"{members}/{editor.user_id}", {"role": "owner"})
    answers = await asyncio.gather(
        team.owner.request("PATCH", f"{members}/{owner.user_id}", {"role": "viewer"}),
        team.api("editor").request("PATCH", f"{members}/{editor.user_id}", {"role": "viewer"}),
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    listed = await team.api("viewer").ok("GET", members)
    assert [m["role"] for m in listed["items"]].count("owner") == 1
