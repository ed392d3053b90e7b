"""Open sockets end with their credentials (issue 13, finding 2).

A socket is opened with a token; then the token ends (logout, revocation of a personal token,
expiry) and the socket must be closed with 4401 within the re-check interval, also when the
socket is on another node than the one the token ended on (real PostgreSQL and Redis).
Another socket of the same account, opened with a token that is still valid, stays open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.api.support import ACCOUNT_ARGS, Api, Team, make_team
from tests.conftest import StartServer
from tests.integration.raw import RawClient
from tests.integration.redis_server import RedisServer
from tests.integration.server import GessServer
from tests.pg import PostgresServer, create_database, drop_database

pytestmark = [pytest.mark.integration]

RECHECK = 5.0
"""The default re-check interval (server/live.py); a closed socket must be closed
within it, plus the time a test needs to notice."""


async def _start(gess_server: StartServer, *extra: str, database_url: str | None = None):
    return await gess_server(
        database_url=database_url, anonymous=False, extra_args=[*ACCOUNT_ARGS, *extra]
    )


async def _document(team: Team) -> str:
    return await team.document(await team.workspace())


async def _second_session(server: GessServer, team: Team, who: str) -> str:
    """Another sign-in of the same account: its token stays valid throughout."""
    account = team.accounts[who]
    data = await Api(server.http_url).ok(
        "POST", "/api/auth/login", {"email": account.email, "password": account.password}
    )
    token: str = data["token"]
    return token


async def _still_open(client: RawClient) -> None:
    """A round trip on the connection: it is open and served."""
    await client.sync()
    assert client.close_code is None


async def test_logout_closes_the_sockets_opened_with_that_token(gess_server: StartServer):
    server = await _start(gess_server)
    team = await make_team(server.http_url)
    document_id = await _document(team)
    other = await _second_session(server, team, "editor")
    ended = {"token": team.accounts["editor"].token}
    async with (
        RawClient.connect(server.ws_url, document_id, params=ended) as doomed,
        RawClient.connect(server.ws_url, document_id, params={"token": other}) as kept,
    ):
        await team.api("editor").ok("POST", "/api/auth/logout", status=204)
        code, reason = await doomed.wait_closed(within=RECHECK + 5)
        assert code == 4401, (code, reason)
        assert "sign in" in reason
        await _still_open(kept)


async def test_revoking_a_personal_token_closes_its_sockets(gess_server: StartServer):
    server = await _start(gess_server)
    team = await make_team(server.http_url)
    document_id = await _document(team)
    created = await team.api("owner").ok(
        "POST", "/api/me/tokens", {"name": "integration"}, status=201
    )
    async with RawClient.connect(
        server.ws_url, document_id, params={"token": created["token"]}
    ) as doomed:
        await team.api("owner").ok("DELETE", f"/api/me/tokens/{created['id']}", status=204)
        code, _ = await doomed.wait_closed(within=RECHECK + 5)
        assert code == 4401


async def test_an_expired_session_closes_its_sockets(gess_server: StartServer):
    # Sessions of this server last 4 seconds.
    server = await _start(gess_server, "--session-days", str(4 / 86400))
    team = await make_team(server.http_url)
    document_id = await _document(team)
    fresh = await _second_session(server, team, "owner")
    async with RawClient.connect(server.ws_url, document_id, params={"token": fresh}) as doomed:
        code, reason = await doomed.wait_closed(within=4 + RECHECK + 5)
        assert code == 4401, (code, reason)
        assert "expired" in reason


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    url = create_database(postgres.admin_url)
    yield url
    drop_database(postgres.admin_url, url)


async def test_logout_on_one_node_closes_the_socket_on_another(
    pg_url: str, redis: RedisServer, gess_server: StartServer
):
    first, second = await asyncio.gather(
        *(
            _start(gess_server, "--redis-url", redis.url, "--node-id", name, database_url=pg_url)
            for name in ("node1", "node2")
        )
    )
    team = await make_team(first.http_url)
    document_id = await _document(team)
    other = await _second_session(second, team, "editor")
    ended = {"token": team.accounts["editor"].token}
    async with (
        RawClient.connect(second.ws_url, document_id, params=ended) as doomed,
        RawClient.connect(second.ws_url, document_id, params={"token": other}) as kept,
    ):
        await team.api("editor").ok("POST", "/api/auth/logout", status=204)
        code, _ = await doomed.wait_closed(within=RECHECK + 5)
        assert code == 4401
        await _still_open(kept)
