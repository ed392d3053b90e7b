"""The permission matrix: every REST endpoint and the WebSocket, against every role (owner,
editor, commenter, viewer), a signed-in non-member and no token at all.

Each row of :data:`CASES` names an endpoint, what it acts on (made fresh for every cell, so
that an allowed change in one cell cannot affect another) and the status each identity gets.
A refused call must also answer the one error shape.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from crdt import Auth
from tests.api.support import PASSWORD, Team, unique_email
from tests.api.threads_helpers import heading_anchor, new_thread, template_document
from tests.integration.raw import RawClient
from tests.interop.node import wait_for

IDENTITIES = ("owner", "editor", "commenter", "viewer", "outsider", "anonymous")
MEMBERS = ("owner", "editor", "commenter", "viewer")

Targets = dict[str, str]
Setup = Callable[[Team], Awaitable[Targets]]


def expect(default: int, **statuses: int) -> dict[str, int]:
    """Statuses by identity: ``default`` for the signed-in ones unless named, 401 without a
    token unless named."""
    table = dict.fromkeys(IDENTITIES[:-1], default)
    table["anonymous"] = 401
    table.update(statuses)
    return table


def members(status: int, outsider: int = 403) -> dict[str, int]:
    return expect(status, outsider=outsider)


def only(allowed: tuple[str, ...], status: int) -> dict[str, int]:
    return expect(403, **dict.fromkeys(allowed, status))


# -- what the cases act on -----------------------------------------------------------------------


async def nothing(team: Team) -> Targets:
    return {}


async def private_workspace(team: Team) -> Targets:
    return {"w": await team.workspace()}


async def public_workspace(team: Team) -> Targets:
    return {"w": await team.workspace(visibility="public")}


async def private_document(team: Team) -> Targets:
    workspace = await team.workspace()
    return {"w": workspace, "d": await team.document(workspace)}


async def published_document(team: Team) -> Targets:
    workspace = await team.workspace(visibility="public")
    return {"w": workspace, "d": await team.document(workspace, published=True)}


async def unpublished_public_document(team: Team) -> Targets:
    workspace = await team.workspace(visibility="public")
    return {"w": workspace, "d": await team.document(workspace)}


async def trashed_document(team: Team) -> Targets:
    targets = await private_document(team)
    await team.owner.ok("POST", f"/api/documents/{targets['d']}/trash")
    return targets


async def spare_member(team: Team) -> Targets:
    workspace = await team.workspace()
    await team.owner.ok(
        "POST",
        f"/api/workspaces/{workspace}/members",
        {"email": team.spare.email, "role": "viewer"},
        status=201,
    )
    return {"w": workspace, "u": team.spare.user_id}


async def invitation(team: Team) -> Targets:
    workspace = await team.workspace()
    created = await team.owner.ok(
        "POST", f"/api/workspaces/{workspace}/invitations", {"role": "viewer"}, status=201
    )
    return {"w": workspace, "i": created["id"], "t": created["token"]}


async def owners_token(team: Team) -> Targets:
    created = await team.owner.ok("POST", "/api/me/tokens", {"name": "ci"}, status=201)
    return {"k": created["id"]}


async def owners_thread(team: Team) -> Targets:
    """A thread by the owner with a reply by the owner (``c``)."""
    targets = await template_document(team)
    thread = await new_thread(team, targets["d"])
    reply = await team.owner.ok(
        "POST", f"/api/threads/{thread['id']}/comments", {"body": "Reply"}, status=201
    )
    return {**targets, "t": thread["id"], "c": reply["id"]}


async def commenters_thread(team: Team) -> Targets:
    """A thread by the commenter with a reply by the commenter (``c``)."""
    targets = await template_document(team)
    thread = await new_thread(team, targets["d"], who="commenter")
    reply = await team.api("commenter").ok(
        "POST", f"/api/threads/{thread['id']}/comments", {"body": "Reply"}, status=201
    )
    return {**targets, "t": thread["id"], "c": reply["id"]}


async def owners_notification(team: Team) -> Targets:
    """A notification of the owner (``n``): the commenter mentioned them."""
    targets = await template_document(team)
    owner = team.accounts["owner"].user_id
    thread = await new_thread(team, targets["d"], who="commenter", body=f"<@{owner}>?")
    page = await team.owner.ok("GET", "/api/notifications?limit=100")
    [found] = [item for item in page["items"] if item["thread_id"] == thread["id"]]
    return {**targets, "n": found["id"]}


async def saved_version(team: Team) -> Targets:
    """A document with a version (``v``) saved by the owner."""
    targets = await private_document(team)
    version = await team.owner.ok(
        "POST", f"/api/documents/{targets['d']}/versions", {"name": "v1"}, status=201
    )
    return {**targets, "v": version["id"]}


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    """Formatted with the targets, ``me`` (the caller's user id) and ``viewer``."""
    statuses: dict[str, int]
    setup: Setup = nothing
    body: Callable[[], Any] | None = None
    fresh_token: bool = False
    """Sign in anew and use that token (for calls that revoke it)."""

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def _register_body() -> dict[str, str]:
    return {"email": unique_email("new"), "name": "New", "password": PASSWORD}


W = "/api/workspaces/{w}"
D = "/api/documents/{d}"

CASES: list[Case] = [
    # accounts
    Case("POST", "/api/auth/register", expect(201, anonymous=201), body=_register_body),
    Case("POST", "/api/auth/logout", expect(204), fresh_token=True),
    Case("GET", "/api/me", expect(200)),
    Case("PATCH", "/api/me", expect(200), body=lambda: {"organisation": "ILO", "country": "SN"}),
    Case("POST", "/api/me/tokens", expect(201), body=lambda: {"name": "integration"}),
    Case("GET", "/api/me/tokens", expect(200)),
    Case("DELETE", "/api/me/tokens/{k}", expect(404, owner=204), setup=owners_token),
    # workspaces
    Case("POST", "/api/workspaces", expect(201), body=lambda: {"name": "Mine"}),
    Case("GET", "/api/workspaces", expect(200)),
    Case("GET", "/api/workspaces?scope=public", expect(200)),
    Case("GET", W, members(200), setup=private_workspace),
    Case("GET", W + "?public", members(200, outsider=200), setup=public_workspace),
    Case("PATCH", W, only(("owner",), 200), setup=private_workspace, body=lambda: {"name": "R"}),
    Case("DELETE", W, only(("owner",), 204), setup=private_workspace),
    # members and invitations
    Case(
        "POST",
        W + "/members",
        only(("owner",), 201),
        setup=private_workspace,
        body=lambda: {"email": "", "role": "viewer"},
    ),
    Case("GET", W + "/members", members(200), setup=private_workspace),
    Case(
        "PATCH",
        W + "/members/{viewer}",
        only(("owner",), 200),
        setup=private_workspace,
        body=lambda: {"role": "commenter"},
    ),
    Case("DELETE", W + "/members/{u}", only(("owner",), 204), setup=spare_member),
    Case(
        "DELETE",
        W + "/members/{me}",
        expect(204, owner=409, outsider=403),
        setup=private_workspace,
    ),
    Case(
        "POST",
        W + "/invitations",
        only(("owner",), 201),
        setup=private_workspace,
        body=lambda: {"role": "editor"},
    ),
    Case("GET", W + "/invitations", only(("owner",), 200), setup=private_workspace),
    Case("DELETE", W + "/invitations/{i}", only(("owner",), 204), setup=invitation),
    Case("GET", "/api/invitations/{t}", expect(200, anonymous=200), setup=invitation),
    Case("POST", "/api/invitations/{t}/accept", expect(409, outsider=200), setup=invitation),
    # documents
    Case(
        "POST",
        W + "/documents",
        only(("owner", "editor"), 201),
        setup=private_workspace,
        body=lambda: {"title": "Plan", "template": "assap-plan"},
    ),
    Case("GET", W + "/documents", members(200), setup=private_document),
    Case("GET", W + "/documents?public", members(200, outsider=200), setup=published_document),
    Case("GET", W + "/documents?trashed=true", members(200), setup=published_document),
    Case("GET", D, members(200), setup=private_document),
    Case("GET", D + "?published", members(200, outsider=200), setup=published_document),
    Case("GET", D + "?unpublished", members(200), setup=unpublished_public_document),
    Case("GET", D + "?trashed", members(200), setup=trashed_document),
    Case(
        "PATCH",
        D,
        only(("owner", "editor"), 200),
        setup=private_document,
        body=lambda: {"title": "Renamed"},
    ),
    Case(
        "PATCH",
        D + "?publish",
        only(("owner",), 200),
        setup=published_document,
        body=lambda: {"published": False},
    ),
    Case("POST", D + "/trash", only(("owner", "editor"), 200), setup=private_document),
    Case("POST", D + "/restore", only(("owner", "editor"), 200), setup=trashed_document),
    Case("DELETE", D, only(("owner",), 204), setup=private_document),
    Case("GET", D + "/export", members(200), setup=private_document),
    Case(
        "GET",
        D + "/export?format=html",
        members(200, outsider=200),
        setup=published_document,
    ),
    Case("GET", W + "/activity", members(200), setup=private_workspace),
    # versions and history
    Case(
        "POST",
        D + "/versions",
        only(("owner", "editor"), 201),
        setup=private_document,
        body=lambda: {"name": "Before the committee"},
    ),
    Case("GET", D + "/versions", members(200), setup=saved_version),
    Case("GET", D + "/versions?published", members(200), setup=published_document),
    Case("GET", D + "/versions/{v}", members(200), setup=saved_version),
    Case("GET", D + "/versions/{v}?format=markdown", members(200), setup=saved_version),
    Case("GET", D + "/versions/{v}/diff", members(200), setup=saved_version),
    Case("POST", D + "/versions/{v}/restore", only(("owner", "editor"), 200), setup=saved_version),
    Case("GET", D + "/history", members(200), setup=private_document),
    Case("GET", D + "/history?published", members(200), setup=published_document),
    # comments and notifications
    Case("GET", D + "/threads", members(200), setup=template_document),
    Case("GET", D + "/threads?published", members(200), setup=published_document),
    Case(
        "POST",
        D + "/threads",
        only(("owner", "editor", "commenter"), 201),
        setup=template_document,
        body=lambda: {"anchor": heading_anchor(), "body": "Why?"},
    ),
    Case("GET", "/api/threads/{t}", members(200), setup=owners_thread),
    Case(
        "PATCH",
        "/api/threads/{t}",
        only(("owner", "editor", "commenter"), 200),
        setup=owners_thread,
        body=lambda: {"status": "resolved"},
    ),
    Case("DELETE", "/api/threads/{t}", only(("owner",), 204), setup=owners_thread),
    Case(
        "DELETE",
        "/api/threads/{t}?commenters",
        only(("owner", "commenter"), 204),
        setup=commenters_thread,
    ),
    Case(
        "POST",
        "/api/threads/{t}/comments",
        only(("owner", "editor", "commenter"), 201),
        setup=owners_thread,
        body=lambda: {"body": "Agreed"},
    ),
    Case(
        "PATCH",
        "/api/comments/{c}",
        only(("owner",), 200),
        setup=owners_thread,
        body=lambda: {"body": "Edited"},
    ),
    Case(
        "PATCH",
        "/api/comments/{c}?commenters",
        only(("commenter",), 200),
        setup=commenters_thread,
        body=lambda: {"body": "Edited"},
    ),
    Case("DELETE", "/api/comments/{c}", only(("owner",), 204), setup=owners_thread),
    Case(
        "DELETE",
        "/api/comments/{c}?commenters",
        only(("owner", "commenter"), 204),
        setup=commenters_thread,
    ),
    Case("GET", "/api/notifications", expect(200)),
    Case("GET", "/api/notifications?unread=true", expect(200)),
    Case("GET", "/api/notifications/unread-count", expect(200)),
    Case("POST", "/api/notifications/read-all", expect(200)),
    Case(
        "POST",
        "/api/notifications/{n}/read",
        expect(404, owner=200),
        setup=owners_notification,
    ),
]


def _path(case: Case, targets: Targets, team: Team, who: str) -> str:
    me = team.accounts["owner" if who == "anonymous" else who].user_id
    path = case.path.format(**targets, me=me, viewer=team.accounts["viewer"].user_id)
    # The markers after "?" only tell cases apart; real query parameters are kept.
    base, _, query = path.partition("?")
    real = "&".join(part for part in query.split("&") if "=" in part)
    return f"{base}?{real}" if real else base


@pytest.mark.parametrize("who", IDENTITIES)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_rest(team: Team, case: Case, who: str):
    targets = await case.setup(team)
    api = team.api(who)
    if case.fresh_token and who != "anonymous":
        account = team.accounts[who]
        session = await api.as_(None).ok(
            "POST", "/api/auth/login", {"email": account.email, "password": PASSWORD}
        )
        api = api.as_(session["token"])
    body = case.body() if case.body is not None else None
    if isinstance(body, dict) and body.get("email") == "":
        body["email"] = team.spare.email
    response = await api.request(case.method, _path(case, targets, team, who), body)
    expected = case.statuses[who]
    assert response.status_code == expected, (
        f"{who}: {case.name} answered {response.status_code}, not {expected}: {response.text}"
    )
    if expected >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message"} and error["message"]


async def test_login_is_open_to_everyone(team: Team):
    """Signing in needs no token, and a token sent along does not change whose session it is."""
    for who in IDENTITIES:
        session = await team.api(who).ok(
            "POST", "/api/auth/login", {"email": team.spare.email, "password": PASSWORD}
        )
        assert session["user"]["id"] == team.spare.user_id


# -- the socket ------------------------------------------------------------------------------------

WRITE, READ = "write", "read"


@dataclass(frozen=True)
class SocketCase:
    name: str
    setup: Setup
    outcomes: dict[str, str | int]
    """``write``, ``read`` (read-only connection), the close code, or the HTTP status of a
    refusal before the upgrade (no credential at all)."""


SOCKET_CASES = [
    SocketCase(
        "private",
        private_document,
        {
            "owner": WRITE,
            "editor": WRITE,
            "commenter": READ,
            "viewer": READ,
            "outsider": 4403,
            "anonymous": 401,
        },
    ),
    SocketCase(
        "published",
        published_document,
        {
            "owner": WRITE,
            "editor": WRITE,
            "commenter": READ,
            "viewer": READ,
            "outsider": READ,
            "anonymous": 401,
        },
    ),
    SocketCase(
        "unpublished-public",
        unpublished_public_document,
        {
            "owner": WRITE,
            "editor": WRITE,
            "commenter": READ,
            "viewer": READ,
            "outsider": 4403,
            "anonymous": 401,
        },
    ),
    SocketCase(
        "trashed", trashed_document, {**dict.fromkeys(IDENTITIES[:-1], 4404), "anonymous": 401}
    ),
]


async def _stored_text(team: Team, ws_url: str, document_id: str) -> str:
    params = {"token": team.accounts["owner"].token}
    async with RawClient.connect(ws_url, document_id, params=params) as reader:
        return reader.content()


@pytest.mark.parametrize("who", IDENTITIES)
@pytest.mark.parametrize("case", SOCKET_CASES, ids=[case.name for case in SOCKET_CASES])
async def test_socket(accounts_server, team: Team, case: SocketCase, who: str):
    targets = await case.setup(team)
    document_id = targets["d"]
    params = {} if who == "anonymous" else {"token": team.accounts[who].token}
    outcome = case.outcomes[who]
    ws_url = accounts_server.ws_url
    if isinstance(outcome, int) and outcome < 1000:
        await _refused_before_upgrade(ws_url, document_id, params, outcome)
        return
    if isinstance(outcome, int):
        async with RawClient.connect(ws_url, document_id, params=params, sync=False) as client:
            code, reason = await client.wait_closed()
        assert (code, bool(reason)) == (outcome, True), f"{who}: {code} {reason!r}"
        return
    async with RawClient.connect(ws_url, document_id, params={**params, "saved": "1"}) as client:
        marker = f"{who}-{uuid.uuid4().hex[:6]}"
        update = await client.insert_text(marker)
        if outcome == WRITE:
            await client.wait_saved_covers(client.doc.get_state())
            assert await _stored_text(team, ws_url, document_id) == marker
        else:
            await wait_for(lambda: any(isinstance(m, Auth) for m in client.received))
            denied = next(m for m in client.received if isinstance(m, Auth))
            assert "permission denied" in denied.reason
            assert client.close_code is None, "a read-only connection stays open"
            assert await _stored_text(team, ws_url, document_id) == ""
            assert update  # it was sent, and refused


async def _refused_before_upgrade(
    ws_url: str, document_id: str, params: dict[str, str], status: int
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with RawClient.connect(ws_url, document_id, params=params, sync=False):
            pass
    response = refused.value.response
    assert response.status_code == status, response
    assert json.loads(response.body)["error"]["message"]


async def test_socket_refuses_unknown_documents_and_bad_tokens(accounts_server, team: Team):
    await _refused_before_upgrade(accounts_server.ws_url, "no-such-document", {}, 401)
    cases = [
        ("no-such-document", {"token": team.accounts["owner"].token}, 4404),
        ("no-such-document", {"token": "gess_not-a-token"}, 4401),
        ("no-such-document", {"token": "garbage"}, 4401),
    ]
    for document_id, params, code in cases:
        async with RawClient.connect(
            accounts_server.ws_url, document_id, params=params, sync=False
        ) as client:
            assert (await client.wait_closed())[0] == code, params
