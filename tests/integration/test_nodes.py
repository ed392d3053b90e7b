"""Three real ``gess serve`` nodes sharing documents through a real Redis and PostgreSQL.

Each test gets a fresh PostgreSQL database, a Redis of its own and three nodes started with
``--redis-url`` and ``--node-id node1..node3``; clients (stock Yjs in Node, the Python SDK,
raw protocol clients) are spread over the nodes. Then Redis dies and comes back, one node's
subscription is cut, a node is killed with SIGKILL (once in a burst of writes, once between
its commit and its publish), and every test checks that nothing any client saw or was told
is saved goes missing, and that every client ends up with the same document, each update
delivered once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from pycrdt import Doc, Text
from websockets.exceptions import ConnectionClosed

from client import Session, connect
from tests.conftest import StartServer
from tests.integration.raw import RawClient, covers, decode_state_vector
from tests.integration.redis_server import RedisServer
from tests.integration.server import GessServer
from tests.integration.support import new_document_id, snapshot
from tests.interop.node import NodeClient, scaled, wait_for
from tests.pg import PostgresServer, create_database, drop_database

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]

NODES = 3

# -- the cluster -----------------------------------------------------------------------------


@dataclass
class Cluster:
    redis: RedisServer
    nodes: list[GessServer]

    async def wait_redis(
        self, status: str, nodes: Sequence[GessServer] | None = None, within: float = 20.0
    ) -> None:
        """Wait until ``/healthz`` of every node (or of ``nodes``) says ``redis: status``."""
        targets = list(self.nodes if nodes is None else nodes)

        async def reported() -> list[object]:
            return [(await node.healthz()).get("redis") for node in targets]

        async def all_match() -> bool:
            return all(value == status for value in await reported())

        await wait_for(all_match, within, message=f"every node to report redis {status!r}")


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    """A fresh PostgreSQL database for this test alone."""
    url = create_database(postgres.admin_url)
    yield url
    drop_database(postgres.admin_url, url)


@pytest.fixture
async def cluster(pg_url: str, redis: RedisServer, gess_server: StartServer) -> Cluster:
    """Three nodes on one database and one Redis (requested in this order, so that the nodes
    stop first, then Redis, then the database is dropped)."""
    nodes = await asyncio.gather(
        *(
            gess_server(
                database_url=pg_url,
                extra_args=["--redis-url", redis.url, "--node-id", f"node{number}"],
            )
            for number in range(1, NODES + 1)
        )
    )
    result = Cluster(redis, list(nodes))
    await result.wait_redis("connected")
    for number, node in enumerate(nodes, start=1):
        health = await node.healthz()
        assert health == {"status": "ok", "node_id": f"node{number}", "redis": "connected"}
    return result


# -- reading clients of every kind -----------------------------------------------------------

Reader = Callable[[], Awaitable[str]]


def python_text(session: Session) -> Text:
    text: Text = session.doc.get("text", type=Text)
    return text


def read_sdk(session: Session) -> Reader:
    async def read() -> str:
        return str(python_text(session))

    return read


def read_raw(client: RawClient) -> Reader:
    async def read() -> str:
        return client.content()

    return read


async def wait_converged(
    readers: Sequence[Reader],
    within: float = 20.0,
    *,
    expect: Callable[[str], bool] = lambda content: True,
    what: str = "every client to show the same content",
) -> str:
    """Wait until every reader shows one and the same content that ``expect`` accepts;
    return it."""

    async def converged() -> str | None:
        contents = {await read() for read in readers}
        if len(contents) == 1:
            (content,) = contents
            if expect(content):
                return content
        return None

    async def describe() -> list[str]:
        return [await read() for read in readers]

    try:
        result: str = await wait_for(converged, within, message=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\ncontents: {await describe()}") from None
    return result


def has_each_once(tokens: Sequence[str]) -> Callable[[str], bool]:
    return lambda content: all(content.count(token) == 1 for token in tokens)


def assert_exactly(content: str, tokens: Sequence[str]) -> None:
    """Every token once, and nothing else."""
    for token in tokens:
        assert content.count(token) == 1, f"{token} missing or doubled in {content!r}"
    assert len(content) == sum(map(len, tokens)), f"unexpected text in {content!r}"


def vector_of(update_or_vector: bytes) -> dict[int, int]:
    return decode_state_vector(update_or_vector)


def union(*vectors: dict[int, int]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for vector in vectors:
        for client, clock in vector.items():
            merged[client] = max(clock, merged.get(client, 0))
    return merged


async def metric(node: GessServer, name: str) -> float:
    return (await node.metrics()).get(name, 0.0)


# -- 1. many clients on three nodes ----------------------------------------------------------

ROUNDS = 4


async def test_clients_on_three_nodes_converge_and_share_presence(cluster: Cluster) -> None:
    n1, n2, n3 = cluster.nodes
    document_id = new_document_id("nodes")
    async with (
        NodeClient.start(n1.ws_url, document_id) as y1,
        NodeClient.start(n2.ws_url, document_id) as y2,
        NodeClient.start(n3.ws_url, document_id) as y3,
        connect(n1.ws_url, document_id) as p1,
        connect(n2.ws_url, document_id) as p2,
        connect(n3.ws_url, document_id) as p3,
    ):
        readers = [y1.text, y2.text, y3.text, read_sdk(p1), read_sdk(p2), read_sdk(p3)]
        tokens: list[str] = []
        for round_ in range(ROUNDS):
            # Six concurrent edits per round, two on each node; nobody waits for the others.
            for number, session in enumerate((p1, p2, p3), start=1):
                token = f"[p{number}.{round_}]"
                tokens.append(token)
                text = python_text(session)
                first = str(text).find("]")
                text.insert(0 if first < 0 else first + 1, token)
            y_tokens = [f"[y{number}.{round_}]" for number in (1, 2, 3)]
            tokens += y_tokens
            # At index 0: NodeClient.append reads the length first, and a remote update
            # arriving in between would land the token inside another one.
            pairs = zip((y1, y2, y3), y_tokens, strict=True)
            await asyncio.gather(*(y.insert(0, token) for y, token in pairs))

        content = await wait_converged(readers, expect=has_each_once(tokens))
        assert_exactly(content, tokens)
        for node in cluster.nodes:
            assert (await snapshot(node, document_id)).text == content, node.port

        # Updates crossed Redis both ways on every node.
        for node in cluster.nodes:
            metrics = await node.metrics()
            assert metrics["gess_pubsub_published_total"] > 0, node.port
            assert metrics["gess_pubsub_received_total"] > 0, node.port
            assert metrics["gess_redis_connected"] == 1, node.port

        # Presence set on node 1 reaches nodes 2 and 3, in Yjs and in the SDK.
        y1_id = await y1.client_id()
        await y1.set_awareness({"presence": "y1-here", "cursor": {"index": 2}})

        def shows_y1(state: object) -> bool:
            return isinstance(state, dict) and state.get("presence") == "y1-here"

        async def yjs_see_y1() -> bool:
            return all([shows_y1((await y.awareness()).get(y1_id)) for y in (y2, y3)])

        await wait_for(yjs_see_y1, message="Yjs clients on nodes 2 and 3 to see node 1's presence")
        await wait_for(
            lambda: all(shows_y1(p.awareness.states.get(y1_id)) for p in (p1, p2, p3)),
            message="SDK clients on every node to see node 1's presence",
        )
        # ... and the other way round: an SDK client on node 3 is seen on node 1.
        p3.awareness.set_local_state({"presence": "p3-here"})
        p3_id = p3.awareness.client_id

        async def sees_p3(y: NodeClient) -> bool:
            state = (await y.awareness()).get(p3_id)
            return isinstance(state, dict) and state.get("presence") == "p3-here"

        async def nodes_1_and_2_see_p3() -> bool:
            return await sees_p3(y1) and await sees_p3(y2)

        await wait_for(nodes_1_and_2_see_p3, message="Yjs clients on nodes 1, 2 to see p3")

        # A clean disconnect removes the presence on the other nodes too. Well within the
        # 30 s after which unrenewed presence from another node expires anyway.
        mark = len(y1.events)
        await y1.disconnect()
        await y1.wait_event("connection-close", since=mark)

        async def y1_gone() -> bool:
            return all([y1_id not in await y.awareness() for y in (y2, y3)])

        await wait_for(y1_gone, 10, message="node 1's presence to leave nodes 2 and 3 (Yjs)")
        await wait_for(
            lambda: all(y1_id not in p.awareness.states for p in (p1, p2, p3)),
            10,
            message="node 1's presence to leave every SDK client",
        )
        # Only node 1's client left: node 3's presence is still shown on node 2.
        assert await sees_p3(y2)


# -- 2. Redis dies in the middle of editing --------------------------------------------------


class Typist:
    """Appends ``[name.i]`` tokens every ``pause`` seconds until stopped."""

    def __init__(self, name: str, append: Callable[[str], Awaitable[None]]) -> None:
        self.name = name
        self.tokens: list[str] = []
        self._append = append
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self, pause: float = 0.04) -> None:
        self._task = asyncio.create_task(self._run(pause))

    async def _run(self, pause: float) -> None:
        while not self._stop.is_set():
            token = f"[{self.name}.{len(self.tokens)}]"
            await self._append(token)
            self.tokens.append(token)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)

    async def typed(self, count: int, within: float = 20.0) -> None:
        """Wait until ``count`` tokens have been typed in all."""
        await wait_for(
            lambda: self._failed() or len(self.tokens) >= count,
            within,
            message=f"{self.name} to type {count} tokens",
        )
        self._failed()

    def _failed(self) -> bool:
        if self._task is not None and self._task.done() and self._task.exception() is not None:
            raise AssertionError(f"{self.name} stopped typing") from self._task.exception()
        return False

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task


async def test_redis_outage_loses_nothing_and_heals(cluster: Cluster) -> None:
    n1, n2, n3 = cluster.nodes
    redis = cluster.redis
    document_id = new_document_id("outage")
    async with (
        NodeClient.start(n1.ws_url, document_id, params={"saved": "1"}) as y1,
        connect(n2.ws_url, document_id) as p2,
        RawClient.connect(n3.ws_url, document_id, saved=True) as r3,
        NodeClient.start(n3.ws_url, document_id) as y3,
    ):

        async def sdk_append(token: str) -> None:
            python_text(p2).insert(len(python_text(p2)), token)

        async def raw_append(token: str) -> None:
            await r3.insert_text(token)

        async def yjs_prepend(token: str) -> None:
            await y1.insert(0, token)  # not append(): see the first test

        typists = [Typist("y1", yjs_prepend), Typist("p2", sdk_append), Typist("r3", raw_append)]
        for typist in typists:
            typist.start()
        try:
            for typist in typists:
                await typist.typed(3)
            before = {node.port: await node.metrics() for node in cluster.nodes}

            redis.kill()
            await cluster.wait_redis("down")
            for node in cluster.nodes:
                assert await metric(node, "gess_redis_connected") == 0, node.port

            # Every node keeps committing its own clients' edits: a failed publish comes after
            # a commit, so each node committed something while Redis was gone.
            async def every_node_committed_during_outage() -> bool:
                return all(
                    [
                        await metric(node, "gess_pubsub_publish_failures_total")
                        > before[node.port]["gess_pubsub_publish_failures_total"]
                        for node in cluster.nodes
                    ]
                )

            await wait_for(
                every_node_committed_during_outage,
                15,
                message="every node to commit (and fail to publish) during the outage",
            )
            outage_marks = [len(t.tokens) for t in typists]
            for typist, mark in zip(typists, outage_marks, strict=True):
                await typist.typed(mark + 3)
            # The raw client on node 3 is told its edits are saved while Redis is down.
            mine = r3.doc.client_id
            await r3.wait(
                lambda: r3.saved_vector().get(mine, 0) >= r3.vector()[mine],
                what="node 3 to acknowledge its client's edits during the outage",
            )

            await redis.restart()
            await cluster.wait_redis("connected", within=30)
            restored_marks = [len(t.tokens) for t in typists]
            for typist, mark in zip(typists, restored_marks, strict=True):
                await typist.typed(mark + 3)
        finally:
            for typist in typists:
                await typist.stop()

        tokens = [token for typist in typists for token in typist.tokens]
        readers = [y1.text, read_sdk(p2), read_raw(r3), y3.text]
        content = await wait_converged(readers, 30, expect=has_each_once(tokens))
        assert_exactly(content, tokens)
        for node in cluster.nodes:
            assert (await snapshot(node, document_id)).text == content, node.port
            metrics = await node.metrics()
            assert metrics["gess_redis_connected"] == 1, node.port
            caught_up = before[node.port]["gess_pubsub_catchups_total"]
            assert metrics["gess_pubsub_catchups_total"] > caught_up, node.port


# -- 3. one subscriber misses messages -------------------------------------------------------


async def test_node_whose_subscription_is_cut_catches_up(cluster: Cluster) -> None:
    n1, n2, n3 = cluster.nodes
    redis = cluster.redis
    document_id = new_document_id("cut")
    async with (
        RawClient.connect(n1.ws_url, document_id, saved=True) as writer,
        NodeClient.start(n2.ws_url, document_id) as y2,
        connect(n2.ws_url, document_id) as p2,
        NodeClient.start(n3.ws_url, document_id) as y3,
    ):
        readers = [read_raw(writer), y2.text, read_sdk(p2), y3.text]
        await writer.insert_text("start;")
        await wait_converged(readers, expect=lambda content: content == "start;")

        cut = await redis.subscribers_of(n2.pid)
        spared = await redis.subscribers_of(n3.pid)
        assert len(cut) == 1 and len(spared) == 1, (cut, spared)

        def detected(metrics: dict[str, float]) -> float:
            return metrics["gess_pubsub_gaps_total"] + metrics["gess_pubsub_catchups_total"]

        baseline = detected(await n2.metrics())

        async def append(token: str) -> None:
            await writer.insert_text(token)

        typist = Typist("w", append)
        typist.start(pause=0.01)
        try:
            await typist.typed(20)
            assert await redis.client_kill(addr=cut[0]["addr"]) == 1

            async def node2_noticed() -> bool:
                return detected(await n2.metrics()) > baseline

            await wait_for(node2_noticed, 15, message="node 2 to notice the missed envelopes")
            await typist.typed(len(typist.tokens) + 20)
        finally:
            await typist.stop()

        expected = writer.content()
        assert expected == "start;" + "".join(typist.tokens)
        await wait_converged(readers, expect=lambda content: content == expected)

        # Node 2 subscribed again on a new connection; node 3's was never touched.
        again = await redis.subscribers_of(n2.pid)
        assert len(again) == 1 and again[0]["addr"] != cut[0]["addr"], again
        assert [c["addr"] for c in await redis.subscribers_of(n3.pid)] == [spared[0]["addr"]]
        # Catching up reads the database; it does not write what it read back into it.
        for node in (n2, n3):
            assert await metric(node, "gess_store_transaction_updates_count") == 0, node.port
        assert await metric(n1, "gess_store_transaction_updates_count") > 0


# -- 4. kill -9 of a node during a burst -----------------------------------------------------

BURST = 1500


async def test_kill_9_of_a_node_loses_nothing_seen_or_saved(cluster: Cluster) -> None:
    """Node 1 dies with SIGKILL while a writer on it is in the middle of a burst.

    Every update any client had received, and every update a writer had been told was saved,
    must be in the database; and once the dead node's clients carry on from their local state
    on the surviving nodes (a new session seeded with the old document: what a client does
    when a load balancer sends it elsewhere), every client everywhere converges on everything
    they wrote, and the SDK can tell that all of it is saved.
    """
    n1, n2, n3 = cluster.nodes
    document_id = new_document_id("kill")
    async with (
        RawClient.connect(n1.ws_url, document_id, saved=True) as writer,
        NodeClient.start(n1.ws_url, document_id, params={"saved": "1"}, reconnect=False) as y1,
        NodeClient.start(n2.ws_url, document_id) as y2,
        RawClient.connect(n3.ws_url, document_id) as r3,
        connect(n3.ws_url, document_id) as p3,
    ):
        writer_id = writer.doc.client_id
        y1_id = await y1.client_id()
        y1_tokens: list[str] = []

        async def burst() -> int:
            sent = 0
            with contextlib.suppress(ConnectionClosed):
                for i in range(BURST):
                    await writer.insert_text(chr(ord("a") + i % 26))
                    sent += 1
                    # Bursts of 20 back to back, then a pause: the node always has updates in
                    # flight, and the whole burst outlasts the kill by far.
                    await asyncio.sleep(0.005 if i % 20 == 19 else 0)
            return sent

        async def tokens_on_node1() -> None:
            # The Yjs client on node 1 writes too, until its connection dies with the node.
            while len(y1_tokens) < 200 and (await y1.status())["connected"]:
                token = f"[Y{len(y1_tokens)}]"
                await y1.insert(0, token)
                y1_tokens.append(token)
                await asyncio.sleep(0.02)

        sender = asyncio.create_task(burst())
        y1_writer = asyncio.create_task(tokens_on_node1())
        try:
            await r3.wait(
                lambda: (
                    len(r3.content()) >= BURST // 8
                    and bool(writer.saved)
                    and "[Y1]" in writer.content()
                ),
                what="an eighth of the burst to reach node 3",
                within=30,
            )
            n1.kill()
        finally:
            sent = await sender
            await y1_writer
        in_flight = sent < BURST or len(r3.content()) < sent
        assert in_flight, "everything was sent and seen before the kill: the test proves nothing"
        await writer.wait_closed()
        await y1.wait_event("connection-close")

        # What each client had received from a server, or had been told was saved.
        y1_saved = [
            vector_of(base64.b64decode(event["state_vector"]))
            for event in y1.events
            if event["event"] == "saved"
        ]
        received = union(
            {c: k for c, k in writer.vector().items() if c != writer_id},
            {c: k for c, k in vector_of(await y1.state_vector()).items() if c != y1_id},
            vector_of(await y2.state_vector()),
            r3.vector(),
            vector_of(p3.doc.get_state()),
        )
        saved = union(writer.saved_vector(), *y1_saved)
        assert saved.get(writer_id, 0) > 0 and received.get(writer_id, 0) > 0

        # 1. All of it is in the database: node 1, restarted, loads the document from there.
        await n1.start()
        await cluster.wait_redis("connected", [n1])
        durable = (await snapshot(n1, document_id)).vector
        assert covers(durable, received), ("received but not stored", durable, received)
        assert covers(durable, saved), ("saved but not stored", durable, saved)

        # 2. The dead node's clients carry on elsewhere from their local state. The Yjs one
        # typed once more while disconnected, so its state holds something nobody has.
        offline = f"[Y{len(y1_tokens)}]"
        await y1.insert(0, offline)
        y1_tokens.append(offline)
        y1_state = await y1.full_state()
        moved_doc: Doc[Any] = Doc()
        moved_doc.apply_update(writer.full_state())
        written = writer.content()
        for token in y1_tokens:
            written = written.replace(token, "")
        assert len(written) in (sent, sent + 1), (len(written), sent)

        def everything(content: str) -> bool:
            if not has_each_once(y1_tokens)(content):
                return False
            for token in y1_tokens:
                content = content.replace(token, "")
            return content == written

        async with (
            connect(n3.ws_url, document_id, doc=moved_doc) as writer_moved,
            NodeClient.start(n2.ws_url, document_id) as y1_moved,
        ):
            await y1_moved.apply_update(y1_state)
            readers = [y1_moved.text, read_sdk(writer_moved), y2.text, read_raw(r3), read_sdk(p3)]
            content = await wait_converged(readers, 30, expect=everything)
            for node in cluster.nodes:
                assert (await snapshot(node, document_id)).text == content, node.port

            # The moved session started from a document holding the Yjs client's edits; the
            # rest of them came back to it from the server, committed. All of it is saved,
            # and the SDK must be able to say so.
            try:
                async with asyncio.timeout(scaled(10)):
                    await writer_moved.saved()
            except TimeoutError:
                raise AssertionError(
                    "Session.saved() never returned although the server committed everything: "
                    f"waiting for {writer_moved._sync.local_clocks()}, "
                    f"acknowledged {writer_moved._sync._saved}"
                ) from None


# -- 5. a node dies between its commit and its publish ---------------------------------------

CATCH_UP_SECONDS = 15.0
"""How long the surviving nodes may take to show an update a dead node committed."""


async def test_update_committed_by_a_node_that_died_before_publishing_reaches_the_others(
    cluster: Cluster,
) -> None:
    """Node 1 commits an update (its writer is told it is saved) but dies before Redis took
    the PUBLISH (Redis is paused for writes, as when it stalls or the network to it fails).

    The update is in the database; the clients of nodes 2 and 3 must get it too, although
    node 1 will never publish again and so never reveals a gap in its sequence.
    """
    n1, n2, n3 = cluster.nodes
    redis = cluster.redis
    document_id = new_document_id("orphan")
    async with (
        RawClient.connect(n1.ws_url, document_id, saved=True) as writer,
        NodeClient.start(n2.ws_url, document_id) as y2,
        RawClient.connect(n3.ws_url, document_id) as r3,
    ):
        await writer.insert_text("published;")
        await wait_converged([y2.text, read_raw(r3)], expect=lambda c: c == "published;")

        await redis.pause_writes(60)
        try:
            await writer.insert_text("committed;")
            await writer.wait_saved_covers(writer.state_vector())
            n1.kill()
        finally:
            await redis.unpause()

        expected = "published;committed;"
        # It is in the database: node 1, restarted, loads it from there (and publishes nothing).
        await n1.start()
        assert (await snapshot(n1, document_id)).text == expected

        await wait_converged(
            [y2.text, read_raw(r3)],
            CATCH_UP_SECONDS,
            expect=lambda content: content == expected,
            what="clients of nodes 2 and 3 to get the update node 1 committed before dying",
        )
        for node in (n2, n3):
            assert (await snapshot(node, document_id)).text == expected, node.port


# -- 6. every client gets every update once --------------------------------------------------


async def test_each_update_reaches_each_client_once(cluster: Cluster) -> None:
    """A node applies and delivers the envelopes of the *other* nodes; its own come back to it
    from Redis too (every subscriber of a channel gets every message) and must be ignored.
    """
    n1, n2, _ = cluster.nodes
    document_id = new_document_id("once")
    async with (
        RawClient.connect(n1.ws_url, document_id, saved=True) as a1,
        RawClient.connect(n1.ws_url, document_id) as r1,
        RawClient.connect(n2.ws_url, document_id, saved=True) as b2,
    ):
        await a1.insert_text("a;")
        await b2.wait_content("a;")
        # Node 2 publishes only after it got node 1's envelope, so Redis hands node 1 its own
        # envelope (if at all) before node 2's: once r1 shows b;, node 1 has read both.
        await b2.insert_text("b;")
        await r1.wait_content("a;b;")
        await a1.wait_content("a;b;")

        m1, m2 = await n1.metrics(), await n2.metrics()
        assert (m1["gess_pubsub_published_total"], m2["gess_pubsub_published_total"]) == (1, 1)
        assert m1["gess_pubsub_received_total"] == 1, "node 1 took back its own envelope"
        assert m2["gess_pubsub_received_total"] == 1
        assert m1["gess_pubsub_gaps_total"] == m2["gess_pubsub_gaps_total"] == 0
        # r1: the sync answer, a; once, b; once.
        assert r1.updates_received == 3, f"r1 got {r1.updates_received} updates for 2 edits"
        # a1: the sync answer, its own a; once (the echo of its commit), b; once.
        assert a1.updates_received == 3, f"a1 got {a1.updates_received} updates for 2 edits"
