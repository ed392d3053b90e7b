"""Helpers of the account tests: a REST client, accounts, and a populated workspace.

Everything talks to a real ``gess serve`` process over HTTP, as a client would.
"""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.interop.node import scaled

__all__ = [
    "ACCOUNT_ARGS",
    "PASSWORD",
    "Account",
    "Api",
    "Team",
    "make_team",
    "register",
    "unique_email",
]

ACCOUNT_ARGS = ("--registration", "open")
"""Flags of a server with accounts on the WebSocket and open registration."""

PASSWORD = "correct horse battery staple"

ROLES = ("owner", "editor", "commenter", "viewer")

# Made once: httpx would otherwise load the CA bundle for every client (tens of ms), and the
# tests make thousands of calls.
_TLS = ssl.create_default_context()


def unique_email(name: str) -> str:
    return f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.org"


class Api:
    """``httpx.AsyncClient`` calls on one server, as one account (or anonymously)."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token

    def as_(self, token: str | None) -> Api:
        return Api(self.base_url, token)

    async def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=scaled(20), cookies=dict(cookies or {}), verify=_TLS
        ) as http:
            return await http.request(method, path, json=json, headers=sent)

    async def ok(self, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        """The JSON of a call that must answer ``status``."""
        response = await self.request(method, path, json)
        assert response.status_code == status, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    name: str
    token: str
    password: str = PASSWORD


async def register(base_url: str, name: str, *, invite_token: str | None = None) -> Account:
    body: dict[str, Any] = {"email": unique_email(name), "name": name, "password": PASSWORD}
    if invite_token is not None:
        body["invite_token"] = invite_token
    data = await Api(base_url).ok("POST", "/api/auth/register", body, status=201)
    user = data["user"]
    return Account(user["id"], user["email"], user["name"], data["token"])


@dataclass
class Team:
    """An owner, an editor, a commenter and a viewer of a workspace, and an outsider who is
    signed in but not a member."""

    base_url: str
    accounts: dict[str, Account]
    spare: Account
    """Signed in, not a member: for tests that add someone."""
    workspaces: list[str] = field(default_factory=list)

    def api(self, who: str) -> Api:
        """A client as ``who`` (a role, ``outsider``, ``spare``) or ``anonymous``."""
        if who == "anonymous":
            return Api(self.base_url)
        if who == "spare":
            return Api(self.base_url, self.spare.token)
        return Api(self.base_url, self.accounts[who].token)

    @property
    def owner(self) -> Api:
        return self.api("owner")

    async def workspace(self, *, visibility: str = "private") -> str:
        """A new workspace with the team in its roles; its id."""
        created = await self.owner.ok(
            "POST",
            "/api/workspaces",
            {"name": f"Workspace {uuid.uuid4().hex[:6]}", "visibility": visibility},
            status=201,
        )
        workspace_id: str = created["id"]
        for role in ROLES[1:]:
            await self.owner.ok(
                "POST",
                f"/api/workspaces/{workspace_id}/members",
                {"email": self.accounts[role].email, "role": role},
                status=201,
            )
        self.workspaces.append(workspace_id)
        return workspace_id

    async def document(
        self,
        workspace_id: str,
        *,
        title: str = "Notes",
        template: str | None = None,
        published: bool = False,
    ) -> str:
        """A new document in the workspace (published if asked); its id."""
        created = await self.owner.ok(
            "POST",
            f"/api/workspaces/{workspace_id}/documents",
            {"title": title, "template": template},
            status=201,
        )
        document_id: str = created["id"]
        if published:
            await self.owner.ok("PATCH", f"/api/documents/{document_id}", {"published": True})
        return document_id


async def make_team(base_url: str) -> Team:
    """Register the team's accounts on a server with open registration."""
    names = (*ROLES, "outsider", "spare")
    # Concurrently: each registration spends most of its time hashing a password, which the
    # server does in worker threads.
    registered = await asyncio.gather(*(register(base_url, who.capitalize()) for who in names))
    accounts = dict(zip(names, registered, strict=True))
    spare = accounts.pop("spare")
    return Team(base_url, accounts, spare)
