"""Stock Yjs clients (Node) and the Python SDK edit one document together."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Text

from client import Session, connect
from tests.integration.server import GessServer
from tests.integration.support import new_document_id, snapshot
from tests.interop.node import NodeClient, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]

ROUNDS = 6


def python_text(session: Session) -> Text:
    text: Text = session.doc.get("text", type=Text)
    return text


def insert_after_first_token(text: Text, token: str) -> None:
    """Insert at a token boundary: after the first ``]``, or at the start."""
    current = str(text)
    end = current.find("]")
    text.insert(0 if end < 0 else end + 1, token)


async def test_node_and_python_clients_converge(server: GessServer) -> None:
    document_id = new_document_id()
    async with (
        NodeClient.start(server.ws_url, document_id) as alice,
        NodeClient.start(server.ws_url, document_id) as bob,
        connect(server.ws_url, document_id) as carol,
    ):
        await carol.synced()
        text = python_text(carol)
        tokens = []
        for round_ in range(ROUNDS):
            a, b, c = f"[a{round_}]", f"[b{round_}]", f"[c{round_}]"
            tokens += [a, b, c]
            # The three edits of a round are concurrent: nobody waits for the others.
            insert_after_first_token(text, c)
            await asyncio.gather(alice.insert(0, a), bob.append(b))

        async def converged() -> bool:
            contents = {await alice.text(), await bob.text(), str(text)}
            return len(contents) == 1

        await wait_for(converged, 15, message="the three clients to converge")
        content = await alice.text()
        for token in tokens:
            assert content.count(token) == 1, f"{token} missing or doubled in {content!r}"
        assert len(content) == sum(map(len, tokens))

    fresh = await snapshot(server, document_id)
    assert fresh.text == content


async def test_presence_seen_by_all_and_removed_when_a_client_drops(server: GessServer) -> None:
    document_id = new_document_id()
    presence = {"presence": "alice-here", "cursor": {"index": 3}}

    def shows_alice(state: object) -> bool:
        return isinstance(state, dict) and state.get("presence") == "alice-here"

    async with (
        NodeClient.start(server.ws_url, document_id) as alice,
        NodeClient.start(server.ws_url, document_id) as bob,
        connect(server.ws_url, document_id) as carol,
    ):
        await carol.synced()
        alice_id = await alice.client_id()
        await alice.set_awareness(presence)

        async def bob_sees_alice() -> bool:
            return shows_alice((await bob.awareness()).get(alice_id))

        await wait_for(bob_sees_alice, message="Bob (Node) to see Alice's presence")
        await wait_for(
            lambda: shows_alice(carol.awareness.states.get(alice_id)),
            message="Carol (Python SDK) to see Alice's presence",
        )

        # Carol's presence reaches the Node clients too.
        carol.awareness.set_local_state({"presence": "carol-here"})
        carol_id = carol.awareness.client_id

        async def bob_sees_carol() -> bool:
            state = (await bob.awareness()).get(carol_id)
            return isinstance(state, dict) and state.get("presence") == "carol-here"

        await wait_for(bob_sees_carol, message="Bob (Node) to see Carol's presence")

        # Alice vanishes without a goodbye: the server must remove her state for everyone.
        await alice.kill()

        async def bob_lost_alice() -> bool:
            return alice_id not in await bob.awareness()

        await wait_for(bob_lost_alice, message="Alice's presence to leave Bob's view")
        await wait_for(
            lambda: alice_id not in carol.awareness.states,
            message="Alice's presence to leave Carol's view",
        )
        # Carol is still there for Bob.
        assert await bob_sees_carol()


async def test_clean_disconnect_removes_presence(server: GessServer) -> None:
    document_id = new_document_id()
    async with (
        NodeClient.start(server.ws_url, document_id) as alice,
        NodeClient.start(server.ws_url, document_id) as bob,
    ):
        alice_id = await alice.client_id()
        await alice.set_awareness({"presence": "alice"})

        async def bob_sees_alice() -> bool:
            return alice_id in await bob.awareness()

        await wait_for(bob_sees_alice, message="Bob to see Alice")
        mark = len(alice.events)
        await alice.disconnect()
        await alice.wait_event("connection-close", since=mark)

        async def bob_lost_alice() -> bool:
            return alice_id not in await bob.awareness()

        await wait_for(bob_lost_alice, message="Alice's presence to leave Bob's view")
