"""Presence for one session: our own state, and everyone's as the server relays it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import anyio

from crdt.session import ClientSession

__all__ = ["Awareness"]

JsonObject = dict[str, object]


class Awareness:
    """Who is in the document and what they show (cursor, name, colour...).

    Obtained as :attr:`client.Session.awareness`; not created directly. Local changes are
    sent at once (merged when several happen before the socket is free) and re-sent on every
    reconnection; they are renewed every 15 s so that peers do not time them out.
    """

    def __init__(
        self,
        sync: ClientSession,
        on_local_change: Callable[[], None],
        check: Callable[[], None],
    ) -> None:
        self._sync = sync
        self._on_local_change = on_local_change
        self._check = check
        self._changed = anyio.Event()

    @property
    def client_id(self) -> int:
        """Our client id: the key of our state in :attr:`states`."""
        return self._sync.client_id

    @property
    def local_state(self) -> JsonObject | None:
        """A copy of our state, or None when we are not present."""
        return self._sync.local_state

    def set_local_state(self, state: Mapping[str, object] | None) -> None:
        """Replace our state; None makes us leave (others see us removed).

        Args:
            state: a JSON-encodable object. Note that the server may replace the ``user``
                field with the authenticated account.

        Raises:
            TypeError, ValueError: ``state`` is not JSON-encodable.
        """
        self._sync.set_local_state(state)
        self._on_local_change()

    def set_local_state_field(self, field: str, value: object) -> None:
        """Set one field of our state (starting from an empty state if we have none).

        Raises:
            TypeError, ValueError: the resulting state is not JSON-encodable.
        """
        state = self._sync.local_state or {}
        state[field] = value
        self.set_local_state(state)

    @property
    def states(self) -> dict[int, JsonObject]:
        """Every present client's state by client id, ours included (copies)."""
        return self._sync.awareness_states()

    async def changed(self) -> dict[int, JsonObject]:
        """Wait for the next change: a state added, updated or removed, ours included.

        Check :attr:`states` first and wait only if it does not show what you need: a change
        that happened before the call does not wake it.

        Returns:
            :attr:`states` after the change.

        Raises:
            CollabError: the session failed (or fails while waiting).
        """
        self._check()
        await self._changed.wait()
        self._check()
        return self.states

    def _notify(self) -> None:
        """Wake the waiters of :meth:`changed`; called by the session."""
        self._changed.set()
        self._changed = anyio.Event()
