"""Connections are bounded (issue 13, finding 4, and the per-connection rates), against real
server processes over raw TCP and WebSockets.

- a connection that sends nothing, or its request a byte at a time, is closed after the
  request timeout;
- a WebSocket without any credential is refused before the upgrade (HTTP 401) when accounts
  are on;
- beyond the connection cap new sockets and HTTP calls are refused with 503 while
  ``/healthz`` still answers; the pending connections beyond their cap make room;
- sockets per IP address (429 before the upgrade) and per account (4429) are capped;
- a flood of messages or bytes on one socket closes it with 4429, while a fast typist and a
  big paste pass at the defaults.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from crdt import EMPTY_UPDATE, SyncUpdate, encode
from tests.api.support import ACCOUNT_ARGS, make_team
from tests.conftest import StartServer
from tests.integration.raw import RawClient
from tests.integration.server import GessServer
from tests.integration.support import new_document_id
from tests.interop.node import scaled

pytestmark = [pytest.mark.integration]

REQUEST_TIMEOUT = 10.0
"""The default time a client has to send a complete request."""


@contextlib.asynccontextmanager
async def _tcp(
    server: GessServer,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _read_until_closed(reader: asyncio.StreamReader, within: float) -> bytes:
    """Everything the server sends until it closes the connection."""
    async with asyncio.timeout(scaled(within)):
        return await reader.read()


async def test_a_silent_connection_is_closed_after_the_request_timeout(gess_server: StartServer):
    server = await gess_server()
    async with _tcp(server) as (reader, _):
        answer = await _read_until_closed(reader, REQUEST_TIMEOUT + 10)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


async def test_a_slowloris_request_is_closed_after_the_request_timeout(gess_server: StartServer):
    server = await gess_server()
    async with _tcp(server) as (reader, writer):
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")

        async def drip() -> None:
            for number in range(1000):
                await asyncio.sleep(0.5)
                writer.write(f"X-Drip-{number}: 1\r\n".encode())
                with contextlib.suppress(ConnectionError):
                    await writer.drain()

        dripping = asyncio.create_task(drip())
        try:
            answer = await _read_until_closed(reader, REQUEST_TIMEOUT + 10)
        finally:
            dripping.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await dripping
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


async def test_a_socket_without_credentials_is_refused_before_the_upgrade(
    gess_server: StartServer,
):
    server = await gess_server(anonymous=False, extra_args=ACCOUNT_ARGS)
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{server.ws_url}/{new_document_id()}", open_timeout=scaled(10)):
            pass
    response = refused.value.response
    assert response.status_code == 401
    error = json.loads(response.body)["error"]
    assert error["code"] == "unauthenticated" and "token" in error["message"]


async def test_beyond_the_connection_cap_healthz_still_answers(gess_server: StartServer):
    server = await gess_server(
        extra_args=["--max-connections", "6", "--max-pending-connections", "4"]
    )
    document_id = new_document_id()
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(6):
            await stack.enter_async_context(RawClient.connect(server.ws_url, document_id))
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{server.ws_url}/{document_id}", open_timeout=scaled(10)):
                pass
        assert refused.value.response.status_code == 503
        # Silent connections beyond the pending cap make room for the newest ones.
        silent = [await stack.enter_async_context(_tcp(server)) for _ in range(10)]
        async with httpx.AsyncClient(base_url=server.http_url, timeout=scaled(10)) as http:
            health = await http.get("/healthz")
            assert health.status_code == 200, health.text
            busy = await http.get("/metrics")
            assert busy.status_code == 503
            assert busy.json()["error"]["code"] == "unavailable"
            assert busy.headers["retry-after"] and busy.headers["x-content-type-options"]
        evicted = 0
        for reader, _ in silent[:-4]:
            evicted += (await _read_until_closed(reader, 10)).startswith(b"HTTP/1.1 503")
        assert evicted == 6


async def test_sockets_per_ip_address_are_capped(gess_server: StartServer):
    server = await gess_server(extra_args=["--max-connections-per-ip", "3"])
    document_id = new_document_id()
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(3):
            await stack.enter_async_context(RawClient.connect(server.ws_url, document_id))
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{server.ws_url}/{document_id}", open_timeout=scaled(10)):
                pass
        assert refused.value.response.status_code == 429
        assert "per address" in json.loads(refused.value.response.body)["error"]["message"]
    # Once they are closed, there is room again.
    async with RawClient.connect(server.ws_url, document_id) as again:
        assert again.close_code is None


async def test_sockets_per_account_are_capped(gess_server: StartServer):
    server = await gess_server(
        anonymous=False, extra_args=[*ACCOUNT_ARGS, "--max-connections-per-account", "2"]
    )
    team = await make_team(server.http_url)
    document_id = await team.document(await team.workspace())
    params = {"token": team.accounts["editor"].token}
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(2):
            await stack.enter_async_context(
                RawClient.connect(server.ws_url, document_id, params=params)
            )
        async with RawClient.connect(
            server.ws_url, document_id, params=params, sync=False
        ) as third:
            code, reason = await third.wait_closed()
        assert code == 4429 and "account" in reason, (code, reason)
        # Other accounts are not affected.
        owner = {"token": team.accounts["owner"].token}
        async with RawClient.connect(server.ws_url, document_id, params=owner) as other:
            assert other.close_code is None


async def test_a_message_flood_closes_the_socket_with_4429(gess_server: StartServer):
    server = await gess_server()
    document_id = new_document_id()
    async with (
        RawClient.connect(server.ws_url, document_id) as watcher,
        RawClient.connect(server.ws_url, document_id) as flood,
    ):
        nothing = encode(SyncUpdate(EMPTY_UPDATE))
        with contextlib.suppress(Exception):
            for _ in range(20_000):
                await flood.send_raw(nothing)
        code, reason = await flood.wait_closed()
        assert code == 4429 and "messages per second" in reason, (code, reason)
        await watcher.insert_text("unaffected")
        await watcher.sync()
        assert watcher.close_code is None


async def test_a_byte_flood_closes_the_socket_with_4429(gess_server: StartServer):
    # A burst of ten seconds' worth: 1 MB (a message may be 64 KiB at most).
    server = await gess_server(
        extra_args=["--max-bytes-per-second", "100000", "--max-message-bytes", "65536"]
    )
    document_id = new_document_id()
    async with RawClient.connect(server.ws_url, document_id) as flood:
        with contextlib.suppress(Exception):
            for _ in range(400):
                await flood.insert_text("z" * 10_000)
        code, reason = await flood.wait_closed()
        assert code == 4429 and "bytes per second" in reason, (code, reason)


async def test_a_fast_typist_and_a_big_paste_pass_at_the_defaults(gess_server: StartServer):
    server = await gess_server()
    document_id = new_document_id()
    async with RawClient.connect(server.ws_url, document_id, saved=True) as typist:
        await typist.insert_text("p" * (4 * 1024 * 1024))
        for _ in range(600):
            await typist.insert_text("k")
        await typist.wait_saved_covers(typist.state_vector(), within=30)
        assert typist.close_code is None
