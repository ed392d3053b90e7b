"""Who is in a room, and what they are sent besides the sync: broadcasts, presence, events.

The room decides who joins and leaves (:class:`~server.room.Room`); the audience holds them
and sends: a message encoded once for all of them, presence as the server vouches for it
(:mod:`server.presence`), and server events only to the clients that asked for them
(:meth:`crdt.server_session.ServerSession.takes_event`). Presence from a copy that had
changes refused and may now write closes that connection instead (:mod:`server.refused`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from crdt import (
    AwarenessEntry,
    AwarenessMessage,
    Event,
    encode,
    encode_awareness,
    encode_state_vector,
)
from crdt.relay import EnvelopeKind
from server.channel import CloseCode
from server.connection import Connection, Principal, broadcast, broadcast_update
from server.delivery import Delivery
from server.metrics import Metrics
from server.presence import Presence, PresenceClaims, PresenceLimits
from server.refused import STALE_COPY_REASON, RefusedChanges
from server.roles import GUEST_ROLE, can_comment
from storage.errors import StorageError
from storage.refusals import Refusals

__all__ = ["Audience", "access_event"]

# A part of the room: its records stay under the room's name.
logger = logging.getLogger("gess.room")


class Audience:
    """The connections of one room.

    Args:
        document_id: the room's document.
        metrics: counts what is sent.
        delivery: where presence goes to the other nodes.
        refused: the room's refused changes.
        limits: bounds on each connection's presence.
        claims: awareness client ids reserved for their accounts, across rooms.
    """

    __slots__ = ("_delivery", "_metrics", "_presence", "_refused", "connections")

    def __init__(
        self,
        document_id: str,
        metrics: Metrics,
        delivery: Delivery,
        refused: RefusedChanges,
        limits: PresenceLimits,
        claims: PresenceClaims,
    ) -> None:
        self.connections: set[Connection] = set()
        self._metrics = metrics
        self._delivery = delivery
        self._refused = refused
        self._presence = Presence(
            document_id, limits, claims, lambda changed, sender: self._from(sender, changed)
        )

    def welcome(self, connection: Connection, document_id: str) -> None:
        """Tell a connection that just joined its rights (if it asked) and who is here."""
        access = connection.sync.event(access_event(document_id, connection.principal))
        if access is not None:
            connection.send(access)
        states = self._presence.states()
        if states:
            connection.send(encode(AwarenessMessage(encode_awareness(states))))

    def change_principal(
        self, connection: Connection, principal: Principal, document_id: str
    ) -> None:
        """Give a connection new rights (its role changed while it is connected).

        A client that asked for events is told (an ``access`` event). A connection whose
        changes were refused while it could not write, and that now may write, is closed with
        :attr:`CloseCode.REFUSED_CHANGES`: its copy holds those changes and builds on them,
        and the document will never take them.
        """
        before, connection.principal = connection.principal, principal
        if (before.role, before.can_write, before.member) != (
            principal.role,
            principal.can_write,
            principal.member,
        ):
            access = connection.sync.event(access_event(document_id, principal))
            if access is not None:
                connection.send(access)
        if principal.can_write and not before.can_write and self._refused.stale(connection):
            connection.close(CloseCode.REFUSED_CHANGES, STALE_COPY_REASON)

    def remove(self, connection: Connection) -> None:
        """Forget a connection; its presence disappears for everyone else."""
        self.connections.discard(connection)
        self._refused.forget(connection)
        self._share(self._presence.leave(connection))

    # -- sending --------------------------------------------------------------------------

    def broadcast(self, data: bytes, exclude: Connection | None = None) -> None:
        targets = self.connections if exclude is None else self.connections - {exclude}
        broadcast(targets, data, self._metrics)

    def broadcast_update(self, update: bytes) -> None:
        broadcast_update(self.connections, update, self._metrics)

    def send_event(self, data: dict[str, object], *, members_only: bool = False) -> None:
        """Send a server event to every client here that asked for events, and to other nodes.

        Args:
            data: the event, a JSON object.
            members_only: only for members of the document's workspace
                (:attr:`Principal.member`), not for people reading a published document.
        """
        self.event(data, members_only)
        self._delivery.publish_event(data, members_only)

    def event(self, event: dict[str, object], members_only: bool) -> None:
        """Send a server event to the clients here that take it."""
        targets = [c for c in self.connections if c.sync.takes_event(members_only=members_only)]
        if targets:
            broadcast(targets, encode(Event(event)), self._metrics)

    # -- refused changes -----------------------------------------------------------------

    async def refuse(
        self,
        connection: Connection,
        adds: Mapping[int, int],
        deletes: Mapping[int, int] | None,
        refusals: Refusals,
        document_id: str,
    ) -> None:
        """Remember the clocks of an update refused from a connection that may not write:
        here, in the store (``refusals``) and on the other nodes (see
        :meth:`server.refused.RefusedChanges.refuse` for ``adds`` and ``deletes``)."""
        writers = [c for c in self.connections if c.principal.can_write]
        fresh = self._refused.refuse(connection, adds, writers, deletes=deletes)
        if not fresh:
            return
        try:
            await refusals.record(document_id, fresh)
        except StorageError as exc:
            # This node still refuses them; other nodes learn it from the envelope.
            logger.error("document %s: refusals not stored: %s", document_id, exc)
        self._delivery.publish(EnvelopeKind.REFUSED, encode_state_vector(fresh))

    # -- presence -------------------------------------------------------------------------

    def local_presence(self, connection: Connection, entries: list[AwarenessEntry]) -> None:
        """A connection announced presence: share what changed (now, or once its rate
        allows)."""
        self._from(connection, self._presence.local(connection, entries))

    def send_presence(self, connection: Connection) -> None:
        """Send a connection everyone's presence (it asked)."""
        states = self._presence.states()
        connection.send(encode(AwarenessMessage(encode_awareness(states))))

    def remote_presence(self, entries: list[AwarenessEntry]) -> None:
        """Presence relayed from another node."""
        changed = self._presence.remote(entries, time.monotonic())
        if changed:
            self.broadcast(encode(AwarenessMessage(encode_awareness(changed))))

    def expire_presence(self, timeout: float) -> None:
        """Drop presence from other nodes that was not renewed within ``timeout`` seconds."""
        removed = self._presence.expire(time.monotonic(), timeout)
        if removed:
            self.broadcast(encode(AwarenessMessage(encode_awareness(removed))))

    def _from(self, connection: Connection | None, changed: list[AwarenessEntry]) -> None:
        if connection is not None:
            if connection.principal.can_write and self._refused.stale(connection):
                # A copy that had changes refused, back as a writer: its sync would send
                # them (deletions included, which name no client) again.
                connection.close(CloseCode.REFUSED_CHANGES, STALE_COPY_REASON)
                return
        self._share(changed, exclude=connection)

    def _share(self, changed: list[AwarenessEntry], exclude: Connection | None = None) -> None:
        if not changed:
            return
        payload = encode_awareness(changed)
        self.broadcast(encode(AwarenessMessage(payload)), exclude)
        self._delivery.publish(EnvelopeKind.AWARENESS, payload)


def access_event(document_id: str, principal: Principal) -> dict[str, object]:
    """The ``access`` event: what a connection may do in its document, sent to clients that
    asked for events when they join and whenever their role changes."""
    return {
        "type": "access",
        "document_id": document_id,
        "role": principal.role or GUEST_ROLE,
        "can_write": principal.can_write,
        "can_comment": can_comment(principal.role),
    }
