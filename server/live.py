"""Making changes of rights take effect on the open sockets of this node.

Rights change while people are connected. :class:`LiveAccess` applies a change to the
connections of this node at once (a new principal, or a close), and :meth:`LiveAccess.run`
re-checks every signed-in connection of this node periodically against the database, so a
change made through another node takes effect here too, within :data:`RECHECK_SECONDS`. The
re-check also ends the connections whose token ended (signed out, revoked, expired, its
account removed): a socket lives no longer than the credential it was opened with. It is
also the services' one door to the rooms: events to connected clients, closing a document,
borrowing a room.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from contextlib import AbstractAsyncContextManager

from crdt import DocumentNotFound, Event, encode
from server.channel import CloseCode
from server.connection import Connection, Principal
from server.errors import Forbidden
from server.periodic import Periodic
from server.permissions import socket_role, with_role
from server.room import Room
from server.rooms import RoomManager
from storage.catalog import AccessRow, access_rows
from storage.clock import utcnow
from storage.database import Database
from storage.errors import StorageError
from storage.people import live_tokens

__all__ = ["RECHECK_SECONDS", "LiveAccess"]

logger = logging.getLogger("gess.permissions")

RECHECK_SECONDS = 5.0
"""How often open connections are checked against the database (changes made on other nodes,
documents trashed elsewhere)."""


class LiveAccess(Periodic):
    """Rights changes applied to the open connections of this node.

    An async context manager: inside it, a task re-checks every signed-in connection each
    :data:`RECHECK_SECONDS` (pass ``recheck_seconds=0`` to disable it).

    Args:
        rooms: this node's rooms.
        database: where memberships and documents are.
    """

    def __init__(
        self, rooms: RoomManager, database: Database, *, recheck_seconds: float = RECHECK_SECONDS
    ) -> None:
        super().__init__(recheck_seconds)
        self._rooms = rooms
        self._database = database

    def _connections(
        self, document_ids: Collection[str] | None, user_id: str | None
    ) -> Iterable[tuple[str, Connection]]:
        for document_id, room in self._rooms.rooms.items():
            if document_ids is not None and document_id not in document_ids:
                continue
            for connection in room.connections:
                if user_id is None or connection.principal.user_id == user_id:
                    yield document_id, connection

    def change_role(self, document_ids: Collection[str], user_id: str, role: str) -> int:
        """Give a user's connections to these documents a new role; how many changed."""
        changed = 0
        for document_id, connection in self._connections(document_ids, user_id):
            _change(
                self._rooms.room(document_id), connection, with_role(connection.principal, role)
            )
            changed += 1
        return changed

    def close_user(
        self, document_ids: Collection[str], user_id: str, code: int, reason: str
    ) -> int:
        """Close a user's connections to these documents; how many were closed."""
        closed = 0
        for _, connection in self._connections(document_ids, user_id):
            connection.close(code, reason)
            closed += 1
        return closed

    def end_token(self, token_id: str) -> int:
        """Close the connections of this node opened with a token that just ended (4401); how
        many. Other nodes close theirs at their next re-check."""
        closed = 0
        for _, connection in self._connections(None, None):
            if connection.principal.token_id == token_id:
                connection.close(CloseCode.UNAUTHENTICATED, _SIGNED_OUT)
                closed += 1
        return closed

    async def close_document(self, document_id: str, code: int, reason: str) -> None:
        """Commit what is pending for a document here and close its connections."""
        room = self._rooms.room(document_id)
        if room is not None:
            await room.close(code, reason)

    def send_event(self, document_ids: Collection[str], event: dict[str, object]) -> int:
        """Send a server event for workspace members to the rooms of these documents loaded
        here (and through them to other nodes holding the same rooms); how many rooms got it."""
        sent = 0
        for document_id, room in self._rooms.rooms.items():
            if document_id in document_ids:
                room.audience.send_event(event, members_only=True)
                sent += 1
        return sent

    def send_to_user(self, user_id: str, event: dict[str, object]) -> int:
        """Send a server event to one user's own connections on this node that asked for
        events, whatever document they have open; how many got it. Not relayed to other
        nodes: each node delivers to the connections it holds."""
        data = encode(Event(event))
        sent = 0
        for _, connection in self._connections(None, user_id):
            if connection.wants_events and not connection.closing:
                connection.send(data)
                sent += 1
        return sent

    async def committed_state(self, document_id: str) -> bytes | None:
        """The committed state of a document loaded here, as one update; None if it is not
        loaded (read it from the store then)."""
        room = self._rooms.room(document_id)
        if room is None:
            return None
        async with room.committed() as document:
            return document.full_state()

    def borrow(self, document_id: str) -> AbstractAsyncContextManager[Room]:
        """The document's room, loaded here if needed and kept loaded for the block: for a
        change the server makes (``async with live.borrow(id) as room: await room.submit(...)``).

        Raises:
            ShuttingDown: the node is shutting down.
            StorageError: the document could not be loaded.
        """
        return self._rooms.borrow(document_id)

    def loaded(self) -> list[str]:
        """The documents loaded on this node."""
        return list(self._rooms.rooms)

    async def recheck(self) -> None:
        """Check every signed-in connection of this node against the database once."""
        pairs = [
            (document_id, connection)
            for document_id, connection in self._connections(None, None)
            if connection.principal.user_id is not None
        ]
        if not pairs:
            return
        document_ids = {document_id for document_id, _ in pairs}
        user_ids = {str(connection.principal.user_id) for _, connection in pairs}
        token_ids = {c.principal.token_id for _, c in pairs if c.principal.token_id is not None}
        async with self._database.transaction() as db:
            rows = await access_rows(db, document_ids, user_ids)
            live = await live_tokens(db, token_ids, utcnow())
        signed_in = []
        for document_id, connection in pairs:
            token_id = connection.principal.token_id
            if token_id is None or token_id in live:
                signed_in.append((document_id, connection))
            else:
                connection.close(CloseCode.UNAUTHENTICATED, _SIGNED_OUT)
        _apply(rows, signed_in, self._rooms)

    async def tick(self) -> None:
        try:
            await self.recheck()
        except StorageError as exc:
            logger.warning("could not re-check open connections: %s", exc)


_SIGNED_OUT = (
    "not authenticated: the sign-in this connection used ended "
    "(signed out, revoked or expired); sign in again"
)


def _change(room: Room | None, connection: Connection, principal: Principal) -> None:
    if room is None:
        connection.principal = principal
    else:
        room.change_principal(connection, principal)


def _apply(
    rows: Mapping[str, AccessRow], pairs: list[tuple[str, Connection]], rooms: RoomManager
) -> None:
    for document_id, connection in pairs:
        principal = connection.principal
        assert principal.user_id is not None
        row = rows.get(document_id)
        try:
            role = socket_role(row, principal.user_id)
        except DocumentNotFound as exc:
            connection.close(CloseCode.NOT_FOUND, f"document not available: {exc}")
            continue
        except Forbidden as exc:
            connection.close(CloseCode.FORBIDDEN, f"forbidden: {exc}")
            continue
        member = row is not None and principal.user_id in row.roles
        if role != principal.role or member != principal.member:
            logger.info("document %s: %s is now %s", document_id, principal.user_id, role)
            _change(rooms.room(document_id), connection, with_role(principal, role, member=member))
