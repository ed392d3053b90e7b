"""A room's memory of refused changes: which clients' clocks, and which connections sent them.

The rule (DESIGN.md): nothing a connection sent while it could not write ever enters the
document. A refused update stays in its client's copy, which keeps building on it, and sends
it again on every reconnect. So the room remembers, per client id, the lowest clock it
refused (:mod:`storage.refusals` keeps it durably and shares it between nodes) and refuses
any later update that carries changes of that client at or past that clock, from whichever
connection, role or node it comes. A connection whose changes were refused and that then
becomes able to write is closed with :attr:`~server.channel.CloseCode.REFUSED_CHANGES`: its
copy must start again from the server's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from crdt.dependencies import reaches_refused
from server.connection import Connection
from storage.refusals import MAX_REFUSED_CLIENTS

__all__ = ["STALE_COPY_REASON", "RefusedChanges"]

STALE_COPY_REASON = "your copy holds changes refused while you could not write: reload the document"


class RefusedChanges:
    """Refused clocks per client id (bounded), and the connections that sent refused changes.

    Args:
        clocks: what the store remembers for the document (client id → lowest refused clock).
    """

    __slots__ = ("_clocks", "_senders")

    def __init__(self, clocks: Mapping[int, int] | None = None) -> None:
        self._clocks: dict[int, int] = {}
        self._senders: set[Connection] = set()
        if clocks:
            self.merge(clocks)

    @property
    def clocks(self) -> Mapping[int, int]:
        return self._clocks

    def merge(self, clocks: Mapping[int, int]) -> dict[int, int]:
        """Remember refused clocks (the lower clock wins); return those that lowered one."""
        lowered: dict[int, int] = {}
        for client, clock in clocks.items():
            known = self._clocks.get(client)
            if known is None or clock < known:
                self._clocks[client] = clock
                lowered[client] = clock
        while len(self._clocks) > MAX_REFUSED_CLIENTS:
            del self._clocks[next(iter(self._clocks))]
        return lowered

    def refuse(
        self,
        connection: Connection,
        adds: Mapping[int, int],
        writers: Iterable[Connection],
        *,
        deletes: Mapping[int, int] | None = None,
    ) -> dict[int, int]:
        """Note an update refused from a connection that may not write.

        Args:
            connection: its sender.
            adds: per client, the lowest clock the update added to the document.
            writers: the room's connections that may write. Client ids they announced in
                their presence are theirs (a stock client's presence id is its document's
                client id): a reader claiming changes of those ids is not believed, so it
                cannot make a writer's next edits refused.
            deletes: when the update deleted something the document has not: the sender's
                own client ids (its presence ids) with the clock they had reached. A deletion
                names no client, so the copy that made it is remembered by its client id,
                and refused when it announces itself as a writer (:meth:`stale`).

        Returns:
            The clocks newly remembered, to store and share with the other nodes.
        """
        if not adds and deletes is None:
            return {}
        self._senders.add(connection)
        claimed = {**(deletes or {}), **adds}
        owned = {client for writer in writers for client in writer.awareness_ids}
        return self.merge({c: k for c, k in claimed.items() if c not in owned})

    def reaches(self, ends: Mapping[int, int]) -> bool:
        """Whether an update ending at ``ends`` carries refused changes."""
        return reaches_refused(ends, self._clocks)

    def stale(self, connection: Connection) -> bool:
        """Whether the connection's copy had changes refused: it sent some here, or its
        presence names a client id whose changes were refused (the same copy reconnecting,
        here or after a refusal on another node)."""
        return connection in self._senders or any(
            client in self._clocks for client in connection.awareness_ids
        )

    def forget(self, connection: Connection) -> None:
        self._senders.discard(connection)
