"""The Python SDK against a real ``gess serve`` process: sync, saved, restarts, presence."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from pycrdt import Doc, Text

from client import (
    Backoff,
    CollabError,
    ProtocolError,
    Session,
    SessionState,
    connect,
)
from tests.conftest import StartServer
from tests.integration.server import GessServer, free_port
from tests.integration.support import new_document_id
from tests.interop.node import scaled

pytestmark = pytest.mark.integration

FAST = Backoff(initial=0.05, maximum=0.5)


def text(session: Session) -> Text:
    shared: Text = session.doc.get("text", type=Text)
    return shared


async def until(session: Session, predicate: Callable[[], object], within: float = 10.0) -> None:
    with anyio.fail_after(scaled(within)):
        await session.wait_until(predicate)


async def content_of(server: GessServer, document_id: str) -> str:
    """What a fresh session sees of the document."""
    async with connect(server.ws_url, document_id, reconnect=False) as fresh:
        return str(text(fresh))


async def test_two_sessions_converge_on_concurrent_edits(gess_server: StartServer) -> None:
    server = await gess_server()
    document_id = new_document_id()
    async with (
        connect(server.ws_url, document_id) as alice,
        connect(server.ws_url, document_id) as bob,
    ):
        assert alice.is_synced and bob.is_synced and alice.connected
        for round_ in range(10):
            # Concurrent: neither waits for the other's edit before making its own.
            text(alice).insert(0, f"<a{round_}>")
            text(bob).insert(len(text(bob)), f"<b{round_}>")
            await anyio.lowlevel.checkpoint()
        await until(alice, lambda: len(text(alice)) == 80)
        await until(bob, lambda: len(text(bob)) == 80)
        assert str(text(alice)) == str(text(bob))
        final = str(text(alice))
        for round_ in range(10):
            assert final.count(f"<a{round_}>") == 1 and final.count(f"<b{round_}>") == 1
        with anyio.fail_after(scaled(10)):
            await alice.saved()
            await bob.saved()
    assert await content_of(server, document_id) == final


async def test_saved_then_content_survives_a_restart(gess_server: StartServer) -> None:
    server = await gess_server()
    document_id = new_document_id()
    async with connect(server.ws_url, document_id, backoff=FAST) as session:
        text(session).insert(0, "durable words")
        session.doc.get("meta", type=_map())["title"] = "Plan"
        started = time.monotonic()
        with anyio.fail_after(scaled(10)):
            await session.saved()
        saved_after = time.monotonic() - started
        # Changes made while waiting are not waited for; none are pending now.
        with anyio.fail_after(scaled(1)):
            await session.saved()
    await server.restart()
    assert await content_of(server, document_id) == "durable words"
    assert saved_after < scaled(5)


def _map() -> type:
    from pycrdt import Map

    return Map


async def test_saved_after_each_of_successive_edits(gess_server: StartServer) -> None:
    """Each Saved must cover the writer's clock, also for an update that does not start at
    clock 0 (every edit after the first)."""
    server = await gess_server()
    async with connect(server.ws_url, new_document_id()) as session:
        for word in ("one ", "two ", "three "):
            text(session).insert(len(text(session)), word)
            with anyio.fail_after(scaled(5)):
                await session.saved()


async def test_reconnects_after_kill_and_keeps_offline_edits(gess_server: StartServer) -> None:
    server = await gess_server()
    document_id = new_document_id()
    async with connect(server.ws_url, document_id, backoff=FAST) as session:
        text(session).insert(0, "before.")
        with anyio.fail_after(scaled(10)):
            await session.saved()
        server.kill()
        await until(session, lambda: not session.connected)
        assert not session.is_synced and session.state is SessionState.OPEN
        text(session).insert(len(text(session)), " offline one.")
        text(session).insert(0, "[offline two] ")
        await server.start()
        with anyio.fail_after(scaled(15)):
            await session.synced()
            await session.saved()
        expected = str(text(session))
        assert "offline one" in expected and "[offline two]" in expected
        assert await content_of(server, document_id) == expected
        # The session is live again: a new edit still flows.
        text(session).insert(len(text(session)), " after.")
        with anyio.fail_after(scaled(10)):
            await session.saved()
    assert await content_of(server, document_id) == expected + " after."


async def test_edits_while_the_server_restarts_gracefully(gess_server: StartServer) -> None:
    server = await gess_server()
    document_id = new_document_id()
    async with connect(server.ws_url, document_id, backoff=FAST) as session:
        text(session).insert(0, "a")
        await server.terminate()
        text(session).insert(1, "b")
        await server.start()
        with anyio.fail_after(scaled(15)):
            await session.synced()
            await session.saved()
    assert await content_of(server, document_id) == "ab"


async def test_remote_edits_are_not_echoed(gess_server: StartServer) -> None:
    server = await gess_server()
    document_id = new_document_id()
    async with (
        connect(server.ws_url, document_id) as writer,
        connect(server.ws_url, document_id) as reader,
    ):
        updates: list[bytes] = []
        reader_text = text(reader)
        subscription = reader.doc.observe(lambda event: updates.append(event.update))
        text(writer).insert(0, "hello")
        await until(reader, lambda: str(reader_text) == "hello")
        reader.doc.unobserve(subscription)
        with anyio.fail_after(scaled(10)):
            await writer.saved()
        # The reader applied the update with its origin and sent nothing back: its own
        # client id never appears on the server.
        assert reader.doc.client_id not in _clocks(await _state_vector(server, document_id))
        assert updates


async def _state_vector(server: GessServer, document_id: str) -> bytes:
    async with connect(server.ws_url, document_id, reconnect=False) as fresh:
        return fresh.doc.get_state()


def _clocks(state_vector: bytes) -> dict[int, int]:
    from crdt.state_vector import decode_state_vector

    return decode_state_vector(state_vector)


async def test_awareness_is_shared_and_removed_on_close(gess_server: StartServer) -> None:
    server = await gess_server()
    document_id = new_document_id()
    async with connect(server.ws_url, document_id) as observer:
        async with connect(server.ws_url, document_id) as visitor:
            visitor.awareness.set_local_state({"user": {"name": "Awa"}, "cursor": None})
            visitor.awareness.set_local_state_field("cursor", 3)
            me = visitor.awareness.client_id
            with anyio.fail_after(scaled(10)):
                while observer.awareness.states.get(me, {}).get("cursor") != 3:
                    await observer.awareness.changed()
            assert observer.awareness.states[me]["user"] == {"name": "Awa"}
            assert visitor.awareness.states == {me: {"user": {"name": "Awa"}, "cursor": 3}}
        with anyio.fail_after(scaled(10)):
            while me in observer.awareness.states:
                await observer.awareness.changed()
        assert observer.awareness.states == {}


async def test_late_joiner_has_present_states_once_synced(gess_server: StartServer) -> None:
    server = await gess_server()
    document_id = new_document_id()
    async with (
        connect(server.ws_url, document_id) as first,
        connect(server.ws_url, document_id) as witness,
    ):
        first.awareness.set_local_state({"name": "first"})
        me = first.awareness.client_id
        with anyio.fail_after(scaled(10)):
            while me not in witness.awareness.states:
                await witness.awareness.changed()
        # The server sends present states when a client joins, before its sync completes.
        async with connect(server.ws_url, document_id) as late:
            assert late.awareness.states.get(me) == {"name": "first"}


async def test_invalid_document_id_is_fatal_without_retry(gess_server: StartServer) -> None:
    server = await gess_server()
    started = time.monotonic()
    with anyio.fail_after(scaled(10)), pytest.raises(ProtocolError, match="4400"):
        # Anonymous mode takes any printable room name up to 200 characters.
        async with connect(server.ws_url, "x" * 201, backoff=FAST):
            pytest.fail("entered a session on an invalid document id")
    assert time.monotonic() - started < scaled(5)


async def test_no_server_without_reconnect_raises() -> None:
    url = f"ws://127.0.0.1:{free_port()}/ws"
    with anyio.fail_after(scaled(10)), pytest.raises(CollabError, match="cannot connect"):
        async with connect(url, "doc", reconnect=False):
            pytest.fail("entered a session without a server")


async def test_session_loses_connection_without_reconnect(gess_server: StartServer) -> None:
    server = await gess_server()
    with pytest.raises(CollabError, match="connection closed") as raised:
        async with connect(server.ws_url, new_document_id(), reconnect=False) as session:
            server.kill()
            with anyio.fail_after(scaled(10)):
                async for _ in session.events():
                    pass
    assert session.state is SessionState.FAILED
    assert session.error is raised.value


async def test_body_errors_propagate_unwrapped(gess_server: StartServer) -> None:
    server = await gess_server()
    with pytest.raises(KeyError, match="mine"):
        async with connect(server.ws_url, new_document_id()):
            raise KeyError("mine")


async def test_connect_with_an_existing_doc_uploads_it(gess_server: StartServer) -> None:
    server = await gess_server()
    document_id = new_document_id()
    doc: Doc[Any] = Doc()
    doc.get("text", type=Text).insert(0, "prepared offline")
    async with connect(server.ws_url, document_id, doc=doc) as session:
        assert session.doc is doc
        with anyio.fail_after(scaled(10)):
            await session.saved()
    assert await content_of(server, document_id) == "prepared offline"
