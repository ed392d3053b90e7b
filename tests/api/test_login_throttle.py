"""Sign-in throttling against a real server: 429 with Retry-After per address and IP address
and per IP address, the same for addresses with and without an account, and never a lock on
the person's own network.

Clients stand on different networks through ``X-Forwarded-For``: the test is the loopback
proxy that the default ``--forwarded-allow-ips`` believes.
"""

from __future__ import annotations

import uuid

import httpx

from tests.api.support import ACCOUNT_ARGS, PASSWORD, Api, register, unique_email
from tests.conftest import StartServer
from tests.integration.server import GessServer


def network() -> str:
    """A fresh client address (documentation ranges), so tests sharing a server do not meet."""
    value = uuid.uuid4().int
    return f"198.{18 + value % 2}.{value // 2 % 256}.{value // 512 % 254 + 1}"


async def sign_in(server: GessServer, email: str, password: str, client: str) -> httpx.Response:
    return await Api(server.http_url).request(
        "POST",
        "/api/auth/login",
        {"email": email, "password": password},
        headers={"X-Forwarded-For": client},
    )


def outcome(response: httpx.Response) -> tuple[int, str | None, str]:
    code = response.json()["error"]["code"] if response.status_code >= 400 else ""
    return response.status_code, response.headers.get("retry-after"), code


async def test_failures_wait_the_same_for_known_and_unknown_addresses(
    accounts_server: GessServer,
):
    known = await register(accounts_server.http_url, "Fatou")
    unknown = unique_email("nobody")
    attacker = network()
    seen = {}
    for email in (known.email, unknown):
        seen[email] = [
            outcome(await sign_in(accounts_server, email, "wrong password", attacker))
            for _ in range(6)
        ]
        # While the attacker's network waits (the first wait is 1 s, and this comes right
        # after the refusal), even the right password gets no answer there.
        seen[email].append(outcome(await sign_in(accounts_server, email, PASSWORD, attacker)))
    assert seen[known.email] == seen[unknown], seen
    statuses = [status for status, _, _ in seen[unknown]]
    assert statuses == [401] * 5 + [429] * 2, seen
    status, retry_after, code = seen[unknown][5]
    assert code == "too_many_attempts"
    assert retry_after is not None and int(retry_after) >= 1

    # The person, on their own network, signs in at once.
    own = await sign_in(accounts_server, known.email, PASSWORD, network())
    assert own.status_code == 200, own.text


async def test_a_success_clears_the_count(accounts_server: GessServer):
    account = await register(accounts_server.http_url, "Moussa")
    client = network()
    for _ in range(4):
        assert (await sign_in(accounts_server, account.email, "wrong", client)).status_code == 401
    assert (await sign_in(accounts_server, account.email, PASSWORD, client)).status_code == 200
    for _ in range(5):
        assert (await sign_in(accounts_server, account.email, "wrong", client)).status_code == 401


async def test_one_network_has_a_budget_across_addresses(gess_server: StartServer):
    server = await gess_server(
        anonymous=False, extra_args=(*ACCOUNT_ARGS, "--login-ip-failures", "6")
    )
    account = await register(server.http_url, "Aissatou")
    stuffing = network()
    for _ in range(6):
        response = await sign_in(server, unique_email("guess"), "123456", stuffing)
        assert response.status_code == 401, response.text
    refused = await sign_in(server, unique_email("guess"), "123456", stuffing)
    assert outcome(refused)[0::2] == (429, "too_many_attempts")
    assert int(refused.headers["retry-after"]) >= 1
    assert (await sign_in(server, account.email, PASSWORD, network())).status_code == 200
