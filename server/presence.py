"""Who is in a room: awareness states, which connection controls which, and expiry of
presence relayed from other nodes.

Presence is bounded, because anyone who may read a document may send it: a connection's
states together hold at most :attr:`PresenceLimits.max_bytes` of JSON (more closes the
connection with 4413), and a connection's updates are relayed at most
:attr:`PresenceLimits.updates_per_second` (with a short burst). Updates beyond the rate are
not refused: the latest one is kept and relayed as soon as the rate allows, so the others
always end up seeing where a cursor finally is. A newcomer therefore downloads at most
``max_bytes`` per connection.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from crdt import AwarenessEntry, AwarenessRegistry, ProtocolError
from server.channel import CloseCode
from server.connection import Connection
from server.limits import TokenBucket

__all__ = ["MAX_AWARENESS_IDS", "Presence", "PresenceClaims", "PresenceLimits"]

MAX_AWARENESS_IDS = 64
"""Awareness client ids one connection may control (a Yjs client uses one)."""

CLAIM_SECONDS = 600.0
"""How long a client id stays reserved for its account after its connection left: a client
that reconnects (y-websocket keeps its id) gets it back, another account does not."""

MAX_CLAIMS = 100_000
"""Reserved ids a node remembers at most (the oldest are forgotten first)."""

_REMOTE = None
"""Owner of presence that arrived from another node."""

Share = Callable[[list[AwarenessEntry], Connection | None], None]
"""How a room sends changed presence to its other clients and nodes (entries, the sender)."""


@dataclass(frozen=True, slots=True)
class PresenceLimits:
    """Bounds on what one connection may put in a room's presence."""

    max_bytes: int = 8 * 1024
    """The JSON of all the states one connection holds, together; more closes it (4413)."""
    updates_per_second: float = 10.0
    """Presence updates relayed per connection and second, after a burst of twice as many."""


class PresenceClaims:
    """Which account held which awareness client id of a document, for a while after its
    connection left; shared by the rooms of a node, so it outlives a room that unloads."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: dict[tuple[str, int], tuple[str | None, float]] = {}

    def reserve(self, document_id: str, client_id: int, account: str | None, now: float) -> None:
        """Keep ``client_id`` of ``document_id`` for ``account`` until :data:`CLAIM_SECONDS`
        from ``now``."""
        key = (document_id, client_id)
        self._held.pop(key, None)
        self._held[key] = (account, now + CLAIM_SECONDS)
        while len(self._held) > MAX_CLAIMS:
            del self._held[next(iter(self._held))]

    def allows(self, document_id: str, client_id: int, account: str | None, now: float) -> bool:
        """Whether ``account`` may take ``client_id`` of ``document_id`` now."""
        held = self._held.get((document_id, client_id))
        if held is None:
            return True
        owner, until = held
        if until <= now:
            del self._held[(document_id, client_id)]
            return True
        return owner == account


class _Throttle:
    """A connection's presence rate: its bucket, and the latest update held back."""

    __slots__ = ("bucket", "held", "timer")

    def __init__(self, limits: PresenceLimits, now: float) -> None:
        rate = limits.updates_per_second
        self.bucket = TokenBucket(rate, 2 * rate, now) if rate > 0 else None
        self.held: dict[int, AwarenessEntry] = {}
        self.timer: asyncio.TimerHandle | None = None


class Presence:
    """The awareness states of a room.

    A client id belongs to the first connection that announces it (or to another node); no
    other connection may change or remove it, and once that connection has left, no other
    account may take it for :data:`CLAIM_SECONDS`. Presence from other nodes has no
    connection here to close, so it expires when its node stops renewing it (Yjs clients
    renew theirs every 15 s; a dead node's clients expire after ``timeout``).

    Args:
        document_id: the room's document.
        limits: the bounds of each connection's presence.
        claims: the node's reserved client ids.
        share: sends presence that changed later than the update that carried it (held back
            by the rate) to everyone but its sender.
    """

    __slots__ = (
        "_claims",
        "_document_id",
        "_limits",
        "_owners",
        "_registry",
        "_remote_accounts",
        "_remote_seen",
        "_share",
        "_sizes",
        "_throttles",
    )

    def __init__(
        self,
        document_id: str = "",
        limits: PresenceLimits | None = None,
        claims: PresenceClaims | None = None,
        share: Share | None = None,
    ) -> None:
        self._document_id = document_id
        self._limits = limits or PresenceLimits()
        self._claims = claims or PresenceClaims()
        self._share = share
        self._registry = AwarenessRegistry()
        self._owners: dict[int, Connection | None] = {}
        self._remote_seen: dict[int, float] = {}
        self._remote_accounts: dict[int, str] = {}
        self._sizes: dict[Connection, dict[int, int]] = {}
        self._throttles: dict[Connection, _Throttle] = {}

    def states(self) -> list[AwarenessEntry]:
        return self._registry.states()

    def local(
        self, connection: Connection, entries: Iterable[AwarenessEntry]
    ) -> list[AwarenessEntry]:
        """Take a connection's awareness update; return what changed now.

        Entries for client ids the connection may not set are ignored. An update beyond the
        connection's rate is held back (the latest one per client id) and applied when the
        rate allows, then passed to ``share``. A connection whose states together would
        exceed the size limit is closed with 4413 and nothing of the update is applied.

        Raises:
            ProtocolError: the connection announced more than :data:`MAX_AWARENESS_IDS` ids
                (counting those of updates held back).
        """
        now = time.monotonic()
        mine = [entry for entry in entries if self._may_set(connection, entry.client_id, now)]
        if not self._fits(connection, mine):
            return []
        throttle = self._throttles.get(connection)
        if throttle is None:
            throttle = self._throttles[connection] = _Throttle(self._limits, now)
        if throttle.held or (throttle.bucket is not None and not throttle.bucket.take(1, now)):
            self._hold(connection, throttle, mine, now)
            return []
        return self._apply_local(connection, mine)

    def _may_set(self, connection: Connection, client_id: int, now: float) -> bool:
        if client_id in self._owners:
            return self._owners[client_id] is connection
        account = connection.principal.user_id
        return self._claims.allows(self._document_id, client_id, account, now)

    def _fits(self, connection: Connection, entries: list[AwarenessEntry]) -> bool:
        sizes = dict(self._sizes.get(connection, {}))
        for entry in entries:
            sizes[entry.client_id] = _state_size(entry)
        if len(sizes) > MAX_AWARENESS_IDS:
            # Counted here too, not only when applied: held updates must stay bounded.
            raise ProtocolError(
                f"a connection may announce at most {MAX_AWARENESS_IDS} awareness ids"
            )
        total = sum(sizes.values())
        limit = self._limits.max_bytes
        if total > limit:
            connection.close(
                CloseCode.TOO_LARGE,
                f"presence of {total} bytes exceeds the limit of {limit} bytes per connection",
                drain=False,
            )
            return False
        self._sizes[connection] = sizes
        return True

    def _hold(
        self, connection: Connection, throttle: _Throttle, entries: list[AwarenessEntry], now: float
    ) -> None:
        for entry in entries:
            throttle.held[entry.client_id] = entry
        if throttle.timer is None and throttle.bucket is not None:
            delay = throttle.bucket.wait_time(1, now)
            loop = asyncio.get_running_loop()
            throttle.timer = loop.call_later(delay, self._release, connection)

    def _release(self, connection: Connection) -> None:
        throttle = self._throttles.get(connection)
        if throttle is None:
            return
        throttle.timer = None
        if throttle.bucket is not None and not throttle.bucket.take(1, time.monotonic()):
            self._hold(connection, throttle, [], time.monotonic())
            return
        held, throttle.held = list(throttle.held.values()), {}
        if connection.closing or connection not in self._sizes:
            return
        try:
            changed = self._apply_local(connection, held)
        except ProtocolError as exc:
            connection.close(CloseCode.MALFORMED, f"malformed message: {exc}", drain=False)
            return
        if changed and self._share is not None:
            self._share(changed, connection)

    def _apply_local(
        self, connection: Connection, entries: list[AwarenessEntry]
    ) -> list[AwarenessEntry]:
        mine = []
        now = time.monotonic()
        for entry in entries:
            if not self._may_set(connection, entry.client_id, now):
                continue  # another client's presence is not this client's to change
            if entry.client_id not in self._owners:
                if len(connection.awareness_ids) >= MAX_AWARENESS_IDS:
                    raise ProtocolError(
                        f"a connection may announce at most {MAX_AWARENESS_IDS} awareness ids"
                    )
                self._owners[entry.client_id] = connection
                connection.add_awareness_id(entry.client_id)
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
            account = _account_of(entry)
            if account is not None:
                self._remote_accounts[entry.client_id] = account
            theirs.append(entry)
        return self._registry.apply(theirs)

    def leave(self, connection: Connection) -> list[AwarenessEntry]:
        """Forget a connection's presence; return the removals to send everyone."""
        throttle = self._throttles.pop(connection, None)
        if throttle is not None and throttle.timer is not None:
            throttle.timer.cancel()
        self._sizes.pop(connection, None)
        now = time.monotonic()
        account = connection.principal.user_id
        for client_id in connection.awareness_ids:
            if self._owners.get(client_id) is connection:
                del self._owners[client_id]
                self._claims.reserve(self._document_id, client_id, account, now)
        return self._registry.remove(connection.awareness_ids)

    def expire(self, now: float, timeout: float) -> list[AwarenessEntry]:
        """Forget remote presence not renewed within ``timeout``; return the removals."""
        stale = [cid for cid, seen in self._remote_seen.items() if now - seen >= timeout]
        for client_id in stale:
            del self._remote_seen[client_id]
            self._owners.pop(client_id, None)
            account = self._remote_accounts.pop(client_id, None)
            if account is not None:
                self._claims.reserve(self._document_id, client_id, account, now)
        return self._registry.remove(stale)


def _state_size(entry: AwarenessEntry) -> int:
    """Bytes of a state's JSON (0 for a removal)."""
    if entry.state is None:
        return 0
    return len(json.dumps(entry.state, separators=(",", ":"), ensure_ascii=False).encode())


def _account_of(entry: AwarenessEntry) -> str | None:
    """The account another node put in a state's ``user`` field (see :func:`_as_principal`)."""
    user = entry.state.get("user") if entry.state is not None else None
    account = user.get("id") if isinstance(user, dict) else None
    return account if isinstance(account, str) else None


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
