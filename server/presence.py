"""Who is in a room: awareness states, which connection controls which, and expiry of
presence relayed from other nodes."""

from __future__ import annotations

from collections.abc import Iterable

from crdt import AwarenessEntry, AwarenessRegistry, ProtocolError
from server.connection import Connection

__all__ = ["MAX_AWARENESS_IDS", "Presence"]

MAX_AWARENESS_IDS = 64
"""Awareness client ids one connection may control (a Yjs client uses one)."""

_REMOTE = None
"""Owner of presence that arrived from another node."""


class Presence:
    """The awareness states of a room.

    A client id belongs to the first connection that announces it (or to another node); no
    other connection may change or remove it. Presence from other nodes has no connection
    here to close, so it expires when its node stops renewing it (Yjs clients renew theirs
    every 15 s; a dead node's clients expire after ``timeout``).
    """

    __slots__ = ("_owners", "_registry", "_remote_seen")

    def __init__(self) -> None:
        self._registry = AwarenessRegistry()
        self._owners: dict[int, Connection | None] = {}
        self._remote_seen: dict[int, float] = {}

    def states(self) -> list[AwarenessEntry]:
        return self._registry.states()

    def local(
        self, connection: Connection, entries: Iterable[AwarenessEntry]
    ) -> list[AwarenessEntry]:
        """Apply a connection's awareness update; return what changed.

        Raises:
            ProtocolError: the connection announced more than :data:`MAX_AWARENESS_IDS` ids.
        """
        mine = []
        for entry in entries:
            if entry.client_id not in self._owners:
                if len(connection.awareness_ids) >= MAX_AWARENESS_IDS:
                    raise ProtocolError(
                        f"a connection may announce at most {MAX_AWARENESS_IDS} awareness ids"
                    )
                self._owners[entry.client_id] = connection
                connection.awareness_ids.add(entry.client_id)
            elif self._owners[entry.client_id] is not connection:
                continue  # another client's presence is not this client's to change
            mine.append(_as_principal(entry, connection))
        return self._registry.apply(mine)

    def remote(self, entries: Iterable[AwarenessEntry], now: float) -> list[AwarenessEntry]:
        """Apply presence relayed from another node; return what changed."""
        theirs = []
        for entry in entries:
            owner = self._owners.setdefault(entry.client_id, _REMOTE)
            if owner is not _REMOTE:
                continue
            self._remote_seen[entry.client_id] = now
            theirs.append(entry)
        return self._registry.apply(theirs)

    def leave(self, connection: Connection) -> list[AwarenessEntry]:
        """Forget a connection's presence; return the removals to send everyone."""
        for client_id in connection.awareness_ids:
            if self._owners.get(client_id) is connection:
                del self._owners[client_id]
        return self._registry.remove(connection.awareness_ids)

    def expire(self, now: float, timeout: float) -> list[AwarenessEntry]:
        """Forget remote presence not renewed within ``timeout``; return the removals."""
        stale = [cid for cid, seen in self._remote_seen.items() if now - seen >= timeout]
        for client_id in stale:
            del self._remote_seen[client_id]
            self._owners.pop(client_id, None)
        return self._registry.remove(stale)


def _as_principal(entry: AwarenessEntry, connection: Connection) -> AwarenessEntry:
    """The entry with its ``user`` field set by the server, for signed-in people.

    Nobody can appear as someone else: whatever name a client claims, others see the account's.
    Guests (no account) keep what they claim.
    """
    principal = connection.principal
    if entry.state is None or principal.user_id is None:
        return entry
    user: dict[str, object] = {"id": principal.user_id, "name": principal.name}
    if principal.color is not None:
        user["color"] = principal.color
    return AwarenessEntry(entry.client_id, entry.clock, {**entry.state, "user": user})
