"""HTTP hardening: security headers on every response, bodies of any depth, personal tokens
that cannot mint tokens, Secure cookies over HTTPS (also behind a trusted proxy), and Origin
checks that compare the scheme."""

from __future__ import annotations

import asyncio
import sqlite3

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.api.support import ACCOUNT_ARGS, PASSWORD, Api, Team, register
from tests.conftest import StartServer
from tests.integration.server import GessServer
from tests.interop.node import scaled, wait_for

APP_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


async def test_every_http_response_carries_the_security_headers(accounts_server: GessServer):
    calls = [
        ("GET", "/healthz", None, 200),
        ("GET", "/metrics", None, 200),
        ("GET", "/openapi.json", None, 200),
        ("GET", "/api/me", None, 401),
        ("GET", "/no/such/page", None, 404),
        ("DELETE", "/healthz", None, 405),
        ("POST", "/api/auth/login", {"email": "x@example.org"}, 422),
        ("POST", "/api/auth/login", {"email": "nobody@example.org", "password": "x"}, 401),
    ]
    api = Api(accounts_server.http_url)
    for method, path, body, status in calls:
        response = await api.request(method, path, body)
        assert response.status_code == status, (method, path, response.text)
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["content-security-policy"] == APP_POLICY, path
        assert len(headers.get_list("content-security-policy")) == 1, path


@pytest.mark.parametrize(
    "body",
    [
        "[" * 1000 + "]" * 1000,
        '{"a":' * 1000 + "1" + "}" * 1000,
        "[" * 20000,
        '{"email": ' + "[" * 990 + "]" * 990 + ', "password": "x"}',
        '{"email": "a@example.org", "password": ' + '{"b":' * 200 + "1" + "}" * 200 + "}",
    ],
    ids=["arrays", "objects", "unterminated", "nested-field", "200-levels"],
)
async def test_a_deeply_nested_body_is_a_bad_request(accounts_server: GessServer, body: str):
    async with httpx.AsyncClient(base_url=accounts_server.http_url, timeout=scaled(20)) as http:
        for path in ("/api/auth/login", "/api/auth/register"):
            response = await http.post(
                path, content=body, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 400, (path, response.status_code, response.text)
            assert response.json()["error"]["code"] == "bad_request"
        assert (await http.get("/healthz")).status_code == 200


async def test_a_personal_token_cannot_create_tokens(team: Team):
    created = await team.owner.ok("POST", "/api/me/tokens", {"name": "ci"}, status=201)
    personal = team.owner.as_(created["token"])
    refused = await personal.request("POST", "/api/me/tokens", {"name": "another"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "session_required"
    # The token still does what it is for, and its owner's session can still make tokens.
    assert (await personal.ok("GET", "/api/me"))["id"] == team.accounts["owner"].user_id
    listed = await team.owner.ok("GET", "/api/me/tokens")
    assert [item["name"] for item in listed["items"]].count("another") == 0


def _cookie_flags(response: httpx.Response) -> dict[str, set[str]]:
    flags: dict[str, set[str]] = {}
    for header in response.headers.get_list("set-cookie"):
        name, *attributes = [part.strip() for part in header.split(";")]
        flags[name.split("=", 1)[0]] = {attribute.lower() for attribute in attributes}
    return flags


async def test_cookies_are_secure_when_the_browser_came_over_https(gess_server: StartServer):
    # The proxy here is this test, on loopback: the default --forwarded-allow-ips trusts it.
    trusting = await gess_server(anonymous=False, extra_args=ACCOUNT_ARGS)
    account = await register(trusting.http_url, "Awa")
    body = {"email": account.email, "password": PASSWORD}
    api = Api(trusting.http_url)
    over_https = await api.request(
        "POST", "/api/auth/login", body, headers={"X-Forwarded-Proto": "https"}
    )
    assert over_https.status_code == 200, over_https.text
    for name, flags in _cookie_flags(over_https).items():
        assert "secure" in flags, name
    plain = await api.request("POST", "/api/auth/login", body)
    assert {name: "secure" in flags for name, flags in _cookie_flags(plain).items()} == {
        "gess_session": False,
        "gess_csrf": False,
    }

    # A server told to trust another proxy only ignores what this client claims.
    other = await gess_server(
        anonymous=False, extra_args=(*ACCOUNT_ARGS, "--forwarded-allow-ips", "192.0.2.7")
    )
    account = await register(other.http_url, "Awa")
    spoofed = await Api(other.http_url).request(
        "POST",
        "/api/auth/login",
        {"email": account.email, "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert spoofed.status_code == 200, spoofed.text
    assert all("secure" not in flags for flags in _cookie_flags(spoofed).values())


async def test_an_origin_of_another_scheme_is_another_origin(gess_server: StartServer):
    server = await gess_server(anonymous=False, extra_args=ACCOUNT_ARGS)
    owner = await register(server.http_url, "Owner")
    workspace = await Api(server.http_url, owner.token).ok(
        "POST", "/api/workspaces", {"name": "Origins"}, status=201
    )
    document = await Api(server.http_url, owner.token).ok(
        "POST", f"/api/workspaces/{workspace['id']}/documents", {"title": "D"}, status=201
    )
    same = server.http_url
    other_scheme = server.http_url.replace("http://", "https://")
    cookie = f"gess_session={owner.token}"

    url = f"{server.ws_url}/{document['id']}"
    async with connect(url, additional_headers={"Cookie": cookie, "Origin": same}) as ws:
        assert await asyncio.wait_for(ws.recv(), scaled(5))  # sync step 1: accepted
    async with connect(url, additional_headers={"Cookie": cookie, "Origin": other_scheme}) as ws:
        await asyncio.wait_for(ws.wait_closed(), scaled(5))
        assert ws.close_code == 4401

    headers = {"Cookie": f"{cookie}; gess_csrf=c", "X-CSRF-Token": "c"}
    path = f"/api/workspaces/{workspace['id']}"
    api = Api(server.http_url)
    refused = await api.request(
        "PATCH", path, {"name": "Renamed"}, headers={**headers, "Origin": other_scheme}
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "csrf_failed"
    assert (await api.request("GET", path, headers=headers)).json()["name"] == "Origins"
    allowed = await api.request(
        "PATCH", path, {"name": "Renamed"}, headers={**headers, "Origin": same}
    )
    assert allowed.status_code == 200, allowed.text


async def test_expired_sessions_are_purged_when_the_server_starts(gess_server: StartServer):
    # A sign-in lasts about two seconds here.
    server = await gess_server(
        anonymous=False, extra_args=(*ACCOUNT_ARGS, "--session-days", "0.000025")
    )
    account = await register(server.http_url, "Ousmane")
    api = Api(server.http_url, account.token)
    personal = await api.ok("POST", "/api/me/tokens", {"name": "kept"}, status=201)

    async def expired() -> bool:
        return (await api.request("GET", "/api/me")).status_code == 401

    await wait_for(expired, within=30, message="the session to expire")
    await server.restart()
    database = sqlite3.connect(server.data_dir / "gess.db")
    try:
        ids = {row[0] for row in database.execute("SELECT id FROM api_tokens")}
    finally:
        database.close()
    assert ids == {personal["id"]}
