"""The two lifecycles of a room, as enums with checked transitions, and the room's errors.

A room has two independent lifecycles: its own (:class:`RoomState`: open, closing, closed)
and its document's trust (:class:`DocumentState`: current, behind the store, broken). They
are separate because they change independently: a room may start closing while its document
is being rebuilt, and must still rebuild it before anyone reads it. Every change goes through
:func:`advance`, which refuses a transition the tables below do not allow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum, auto
from typing import TypeVar

from crdt import CollabError

__all__ = ["DocumentState", "RoomClosing", "RoomState", "StateError", "Usage", "advance"]


class RoomState(Enum):
    OPEN = auto()
    """Accepting connections and edits."""
    CLOSING = auto()
    """Committing what is pending; no new connections."""
    CLOSED = auto()


class DocumentState(Enum):
    """How far the room's in-memory document can be trusted."""

    CURRENT = auto()
    """It holds what the store committed, plus the pending updates."""
    BEHIND = auto()
    """Envelopes from other nodes were lost: it lacks some committed updates, and the
    commit loop catches up from the store. It may still be read and written meanwhile: what
    it holds is committed."""
    CATCHING_UP = auto()
    """Under a hold, merging in what the store has."""
    BROKEN = auto()
    """It holds something the store does not (a commit failed, or Yrs failed halfway
    through an update): it must be rebuilt from the store before anyone reads it."""
    REBUILDING = auto()
    """Under a hold, reloading from the store; updates from other nodes wait for the new
    document."""


_ROOM: dict[RoomState, frozenset[RoomState]] = {
    RoomState.OPEN: frozenset({RoomState.CLOSING}),
    RoomState.CLOSING: frozenset({RoomState.CLOSED}),
    RoomState.CLOSED: frozenset(),
}

_DOCUMENT: dict[DocumentState, frozenset[DocumentState]] = {
    DocumentState.CURRENT: frozenset({DocumentState.BEHIND, DocumentState.BROKEN}),
    DocumentState.BEHIND: frozenset({DocumentState.CATCHING_UP, DocumentState.BROKEN}),
    DocumentState.CATCHING_UP: frozenset(
        {DocumentState.CURRENT, DocumentState.BEHIND, DocumentState.BROKEN}
    ),
    DocumentState.BROKEN: frozenset({DocumentState.REBUILDING}),
    # Back to BROKEN when the reload failed, or when envelopes were lost during it (their
    # updates may have committed after the reload read the store): reload again.
    DocumentState.REBUILDING: frozenset({DocumentState.CURRENT, DocumentState.BROKEN}),
}

_TABLES: dict[type[Enum], dict[object, frozenset[object]]] = {
    RoomState: _ROOM,  # type: ignore[dict-item]
    DocumentState: _DOCUMENT,  # type: ignore[dict-item]
}

State = TypeVar("State", RoomState, DocumentState)


class StateError(CollabError):
    """A transition that the lifecycle does not allow: a bug in the caller."""


class RoomClosing(CollabError):
    """The room is closing or closed and takes no new connection; load the document anew."""


def advance(current: State, new: State) -> State:
    """Check a transition; return the new state.

    Raises:
        StateError: the lifecycle does not go from ``current`` to ``new``.
    """
    if new not in _TABLES[type(current)][current]:
        raise StateError(
            f"{type(current).__name__}: no transition from {current.name} to {new.name}"
        )
    return new


@dataclass(slots=True)
class Usage:
    """When a room was last used and edited: what the room manager's sweeper reads to
    unload idle rooms and to checkpoint edited ones."""

    idle_since: float | None
    """When the room last became idle (None: it is in use)."""
    last_commit: float | None = None
    edited: bool = False
    """Something was committed since :meth:`take_edits` last ran."""

    def committed(self, now: float) -> None:
        self.last_commit, self.edited = now, True

    def idle_for(self, now: float, idle: bool) -> float | None:
        """Seconds since the room last became idle (None: it is not ``idle`` now)."""
        since = self.idle_since
        return None if since is None or not idle else now - since

    def restart_idle(self, idle: bool) -> None:
        """Count the room idle from now if it is ``idle`` (a server-side change just ended)."""
        if idle:
            self.idle_since = time.monotonic()

    def quiet_for(self, now: float) -> float | None:
        """Seconds since the last commit, if edited since :meth:`take_edits` (else None)."""
        if not self.edited or self.last_commit is None:
            return None
        return now - self.last_commit

    def take_edits(self) -> bool:
        """Whether edits were committed since the last call (a checkpoint takes them)."""
        edited, self.edited = self.edited, False
        return edited
