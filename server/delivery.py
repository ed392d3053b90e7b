"""Cross-node delivery of one room: envelopes out and in, sequence numbers, heartbeats.

What a room commits, and its presence, refusals and server events, travel to the other
nodes holding the document as :class:`~crdt.relay.Envelope` s through the
:class:`~server.broker.Broker`. Each node numbers its envelopes per document, so a receiver
that sees a number other than the next one knows it lost some (Redis pub/sub is at most
once) and has its room catch up from the store, which holds everything committed. A lost
*last* envelope leaves no gap, so every node repeats its latest number (a heartbeat); and
a node that died right after committing sends nothing more, so one not heard of for a while
also makes the room catch up.

:class:`Delivery` owns that bookkeeping and decodes what arrives; what an envelope does to
the room (apply an update, show presence...) is the room's, through :class:`Recipient`.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Protocol

from crdt import AwarenessEntry, ProtocolError, decode_awareness, decode_state_vector
from crdt.relay import Envelope, EnvelopeKind
from server.broker import Broker
from server.metrics import Metrics

__all__ = ["Delivery", "Recipient"]

logger = logging.getLogger("gess.delivery")


class Recipient(Protocol):
    """What envelopes from other nodes do to a room (all already committed there)."""

    def apply_remote(self, update: bytes) -> None:
        """A document update committed on another node."""

    def remote_presence(self, entries: list[AwarenessEntry]) -> None:
        """Presence of clients connected to another node."""

    def remote_refusals(self, clocks: dict[int, int]) -> None:
        """Clocks another node refused (client id → lowest refused clock)."""

    def remote_event(self, event: dict[str, object], members_only: bool) -> None:
        """A server event for the clients here."""

    def catch_up(self) -> None:
        """Envelopes were lost: merge in what the store has and the room lacks."""


class Delivery:
    """One room's envelopes between nodes.

    Args:
        document_id: the room's document.
        broker: where envelopes are published.
        origin: this node's name in envelopes (node id and boot).
        metrics: counts gaps.
        recipient: the room that envelopes from other nodes act on.
    """

    __slots__ = (
        "_broker",
        "_document_id",
        "_heard",
        "_metrics",
        "_origin",
        "_recipient",
        "_seen",
        "_sequence",
    )

    def __init__(
        self,
        document_id: str,
        broker: Broker,
        origin: str,
        metrics: Metrics,
        recipient: Recipient,
    ) -> None:
        self._document_id = document_id
        self._broker = broker
        self._origin = origin
        self._metrics = metrics
        self._recipient = recipient
        self._sequence = 0
        """The number of the last envelope this node published for the document."""
        self._seen: dict[str, int] = {}
        """Per other node: the last sequence number received from it for this document."""
        self._heard: dict[str, float] = {}
        """Per other node: when it was last heard of here."""

    def publish(self, kind: EnvelopeKind, payload: bytes) -> None:
        """Send something committed here (or presence, refusals, an event) to the other nodes."""
        self._sequence += 1
        self._broker.publish(
            self._document_id, Envelope(kind, self._origin, self._sequence, payload)
        )

    def publish_event(self, data: dict[str, object], members_only: bool) -> None:
        """Send a server event to the other nodes."""
        envelope = {"event": data, "members_only": members_only}
        self.publish(EnvelopeKind.EVENT, json.dumps(envelope, separators=(",", ":")).encode())

    def receive(self, envelope: Envelope) -> None:
        """Take an envelope another node published for this document (already committed).

        A gap in the sender's numbers makes the room catch up; then the envelope acts on
        the room. One that does not decode is logged and dropped: it came from a node, not
        a client, and the store has whatever it carried.
        """
        if envelope.origin == self._origin:
            return  # Redis hands a node its own envelopes back
        self._heard[envelope.origin] = time.monotonic()
        # A node first heard of counts from 0: if it published before, the room may have
        # missed some (it loaded before they committed, and subscribed after): catch up once.
        last = self._seen.get(envelope.origin, 0)
        heartbeat = envelope.kind is EnvelopeKind.HEARTBEAT
        expected = last if heartbeat else last + 1
        if envelope.sequence != expected and not (heartbeat and envelope.sequence == 0):
            logger.warning(
                "document %s: expected envelope %d from %s, got %d; catching up",
                self._document_id,
                expected,
                envelope.origin,
                envelope.sequence,
            )
            self._metrics.pubsub_gaps.inc()
            self._recipient.catch_up()
        self._seen[envelope.origin] = envelope.sequence
        try:
            self._act(envelope)
        except (ProtocolError, ValueError, TypeError, KeyError) as exc:
            logger.error(
                "document %s: bad %s envelope from %s: %s",
                self._document_id,
                envelope.kind.name.lower(),
                envelope.origin,
                exc,
            )

    def _act(self, envelope: Envelope) -> None:
        recipient = self._recipient
        match envelope.kind:
            case EnvelopeKind.UPDATE:
                recipient.apply_remote(envelope.payload)
            case EnvelopeKind.AWARENESS:
                recipient.remote_presence(decode_awareness(envelope.payload))
            case EnvelopeKind.REFUSED:
                recipient.remote_refusals(decode_state_vector(envelope.payload))
            case EnvelopeKind.EVENT:
                data = json.loads(envelope.payload)
                event, members_only = data["event"], bool(data["members_only"])
                if isinstance(event, dict):
                    recipient.remote_event(event, members_only)
            case EnvelopeKind.HEARTBEAT:
                pass

    def heartbeat(self, silence: float) -> None:
        """Tell other nodes how far this node's sequence is; look for nodes gone silent.

        Args:
            silence: a node not heard of for this many seconds is presumed gone, and the
                room catches up (it may have died right after committing).
        """
        self._broker.publish(
            self._document_id,
            Envelope(EnvelopeKind.HEARTBEAT, self._origin, self._sequence, b""),
        )
        now = time.monotonic()
        gone = [origin for origin, heard in self._heard.items() if now - heard >= silence]
        for origin in gone:
            logger.info("document %s: %s went silent; catching up", self._document_id, origin)
            del self._heard[origin]
            self._seen.pop(origin, None)
        if gone:
            self._recipient.catch_up()
