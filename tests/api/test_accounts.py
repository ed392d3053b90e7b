"""Accounts: registration, sign-in and out, sessions in cookies with CSRF, personal tokens,
the profile, and the API's error shape."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.api.support import ACCOUNT_ARGS, PASSWORD, Api, Team, register, unique_email
from tests.conftest import StartServer
from tests.integration.server import GessServer


async def test_the_first_account_is_the_admin_and_registration_follows_the_setting(
    gess_server: StartServer,
):
    server = await gess_server(anonymous=False)  # registration: invite (the default)
    first = await register(server.http_url, "Founder")
    me = await Api(server.http_url, first.token).ok("GET", "/api/me")
    assert me["instance_role"] == "admin"

    closed = await Api(server.http_url).request(
        "POST",
        "/api/auth/register",
        {"email": unique_email("x"), "name": "Stranger", "password": PASSWORD},
    )
    assert closed.status_code == 403
    assert closed.json()["error"]["code"] == "registration_closed"

    founder = Api(server.http_url, first.token)
    workspace = await founder.ok("POST", "/api/workspaces", {"name": "Senegal"}, status=201)
    email = unique_email("invited")
    invitation = await founder.ok(
        "POST",
        f"/api/workspaces/{workspace['id']}/invitations",
        {"email": email, "role": "commenter"},
        status=201,
    )
    assert invitation["url"].endswith(f"/api/invitations/{invitation['token']}")
    preview = await Api(server.http_url).ok("GET", f"/api/invitations/{invitation['token']}")
    assert (preview["workspace_name"], preview["status"]) == ("Senegal", "pending")

    someone_else = await Api(server.http_url).request(
        "POST",
        "/api/auth/register",
        {
            "email": unique_email("y"),
            "name": "Y",
            "password": PASSWORD,
            "invite_token": invitation["token"],
        },
    )
    assert someone_else.status_code == 403
    joined = await Api(server.http_url).ok(
        "POST",
        "/api/auth/register",
        {
            "email": email.upper(),
            "name": "Invited",
            "password": PASSWORD,
            "invite_token": invitation["token"],
        },
        status=201,
    )
    assert joined["user"]["instance_role"] == "user"
    assert joined["user"]["email"] == email
    listed = await Api(server.http_url, joined["token"]).ok("GET", "/api/workspaces")
    assert [(w["id"], w["role"]) for w in listed["items"]] == [(workspace["id"], "commenter")]
    used = await Api(server.http_url).ok("GET", f"/api/invitations/{invitation['token']}")
    assert used["status"] == "accepted"


async def test_register_validates_and_refuses_a_taken_address(team: Team):
    api = Api(team.base_url)
    taken = await api.request(
        "POST",
        "/api/auth/register",
        {"email": team.accounts["owner"].email.upper(), "name": "Twin", "password": PASSWORD},
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "email_taken"
    short = await api.request(
        "POST", "/api/auth/register", {"email": "not-an-address", "name": " ", "password": "x"}
    )
    assert short.status_code == 422
    message = short.json()["error"]["message"]
    assert "email" in message and "name" in message and "password" in message
    extra = await api.request(
        "POST",
        "/api/auth/register",
        {"email": unique_email("e"), "name": "E", "password": PASSWORD, "admin": True},
    )
    assert extra.status_code == 422 and "admin" in extra.json()["error"]["message"]


async def test_login_logout_and_wrong_passwords(team: Team):
    api = Api(team.base_url)
    account = team.accounts["editor"]
    for email, password in ((account.email, "wrong password"), (unique_email("n"), PASSWORD)):
        refused = await api.request(
            "POST", "/api/auth/login", {"email": email, "password": password}
        )
        assert refused.status_code == 401
        assert refused.json()["error"]["message"] == "wrong e-mail address or password"
    session = await api.ok(
        "POST", "/api/auth/login", {"email": account.email.upper(), "password": PASSWORD}
    )
    signed_in = api.as_(session["token"])
    assert (await signed_in.ok("GET", "/api/me"))["id"] == account.user_id
    await signed_in.ok("POST", "/api/auth/logout", status=204)
    after = await signed_in.request("GET", "/api/me")
    assert after.status_code == 401
    assert after.headers["www-authenticate"].startswith("Bearer")
    # Other sessions of the same account are untouched.
    assert (await team.api("editor").ok("GET", "/api/me"))["id"] == account.user_id


async def test_browser_sessions_need_the_csrf_header_for_changes(accounts_server: GessServer):
    account = await register(accounts_server.http_url, "Browser")
    async with httpx.AsyncClient(base_url=accounts_server.http_url) as browser:
        login = await browser.post(
            "/api/auth/login", json={"email": account.email, "password": PASSWORD}
        )
        cookies = {c.name: c for c in browser.cookies.jar}
        assert {"gess_session", "gess_csrf"} <= set(cookies)
        assert "httponly" in login.headers.get_list("set-cookie")[0].lower()
        assert "samesite=lax" in login.headers.get_list("set-cookie")[0].lower()
        assert (await browser.get("/api/me")).status_code == 200

        forged = await browser.post("/api/workspaces", json={"name": "Forged"})
        assert forged.status_code == 403
        assert forged.json()["error"]["code"] == "csrf_failed"
        wrong = await browser.post(
            "/api/workspaces", json={"name": "Forged"}, headers={"X-CSRF-Token": "guess"}
        )
        assert wrong.status_code == 403
        csrf = browser.cookies["gess_csrf"]
        made = await browser.post(
            "/api/workspaces", json={"name": "Real"}, headers={"X-CSRF-Token": csrf}
        )
        assert made.status_code == 201

        out = await browser.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        assert "gess_session" not in browser.cookies
        assert (await browser.get("/api/me")).status_code == 401


async def test_personal_tokens_act_as_their_owner_until_revoked(team: Team):
    owner = team.api("viewer")
    created = await owner.ok(
        "POST", "/api/me/tokens", {"name": "reporting", "expires_in_days": 30}, status=201
    )
    assert created["token"].startswith("gess_")
    integration = owner.as_(created["token"])
    assert (await integration.ok("GET", "/api/me"))["id"] == team.accounts["viewer"].user_id
    listed = await owner.ok("GET", "/api/me/tokens")
    mine = [t for t in listed["items"] if t["id"] == created["id"]]
    assert mine and "token" not in mine[0]
    assert mine[0]["name"] == "reporting"
    await owner.ok("DELETE", f"/api/me/tokens/{created['id']}", status=204)
    assert (await integration.request("GET", "/api/me")).status_code == 401
    again = await owner.request("DELETE", f"/api/me/tokens/{created['id']}")
    assert again.status_code == 404


async def test_tokens_page_by_cursor(team: Team):
    api = team.api("commenter")
    for number in range(3):
        await api.ok("POST", "/api/me/tokens", {"name": f"t{number}"}, status=201)
    seen: list[str] = []
    cursor = ""
    while True:
        page = await api.ok("GET", f"/api/me/tokens?limit=2&cursor={cursor}")
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) >= 3
    bad = await api.request("GET", "/api/me/tokens?cursor=bm9wZQ")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_cursor"


async def test_the_profile_carries_actor_type_organisation_and_country(team: Team):
    api = team.api("outsider")
    updated = await api.ok(
        "PATCH",
        "/api/me",
        {"actor_type": "mutual_health_organisation", "organisation": "UM Dakar", "country": "SN"},
    )
    assert (updated["actor_type"], updated["organisation"], updated["country"]) == (
        "mutual_health_organisation",
        "UM Dakar",
        "SN",
    )
    cleared = await api.ok("PATCH", "/api/me", {"country": None})
    assert cleared["country"] is None and cleared["organisation"] == "UM Dakar"
    for body in ({"actor_type": "lobbyist"}, {"country": "Senegal"}, {"name": None}):
        refused = await api.request("PATCH", "/api/me", body)
        assert refused.status_code == 422, body


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/api/nowhere", None, 404, "not_found"),
        ("PUT", "/api/me", None, 405, "method_not_allowed"),
        ("POST", "/api/workspaces", b"{not json", 400, "bad_request"),
        ("POST", "/api/workspaces", b"", 400, "bad_request"),
        ("POST", "/api/workspaces", b'{"name": "a\\u0000b"}', 422, "validation_failed"),
        ("POST", "/api/workspaces", b'["a list"]', 422, "validation_failed"),
        ("POST", "/api/workspaces", b"x" * 70000, 413, "too_large"),
        ("GET", "/api/workspaces?limit=0", None, 422, "validation_failed"),
        ("GET", "/api/documents/a%00b", None, 404, "not_found"),
    ],
)
async def test_errors_have_one_shape(
    team: Team, method: str, path: str, body: bytes | None, status: int, code: str
):
    async with httpx.AsyncClient(base_url=team.base_url) as http:
        response = await http.request(
            method,
            path,
            content=body,
            headers={
                "Authorization": f"Bearer {team.accounts['owner'].token}",
                "Content-Type": "application/json",
            },
        )
    assert response.status_code == status, response.text
    assert response.json() == {
        "error": {"code": code, "message": response.json()["error"]["message"]}
    }
    assert response.json()["error"]["message"]


async def test_anonymous_mode_still_serves_accounts(gess_server: StartServer):
    server = await gess_server(extra_args=ACCOUNT_ARGS)  # --anonymous
    account = await register(server.http_url, "Guest")
    assert (await Api(server.http_url, account.token).ok("GET", "/api/me"))["name"] == "Guest"


async def test_a_form_cannot_post_json_across_sites(team: Team):
    """A cross-site HTML form can send a JSON-looking body as text/plain, never as JSON."""
    async with httpx.AsyncClient(base_url=team.base_url) as http:
        response = await http.post(
            "/api/auth/register",
            content=b'{"email": "a@example.org", "name": "x=", "password": "12345678"}',
            headers={"Content-Type": "text/plain"},
        )
    assert response.status_code == 400
    assert "Content-Type: application/json" in response.json()["error"]["message"]


async def test_exactly_one_of_concurrent_first_registrations_becomes_admin(
    database_url: str | None, gess_server: StartServer
):
    server = await gess_server(database_url=database_url, anonymous=False, extra_args=ACCOUNT_ARGS)
    accounts = await asyncio.gather(*(register(server.http_url, f"P{n}") for n in range(4)))
    roles = [
        (await Api(server.http_url, account.token).ok("GET", "/api/me"))["instance_role"]
        for account in accounts
    ]
    assert sorted(roles) == ["admin", "user", "user", "user"]
