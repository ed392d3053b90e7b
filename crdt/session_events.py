"""What a :class:`crdt.session.ClientSession` reports: its sync state and the events it queues.

The adapter reads :attr:`ClientSession.state` and dispatches the values ``events()`` returns;
these are plain frozen values, so that an adapter can match on them without touching the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "AwarenessChanged",
    "JsonObject",
    "PermissionDenied",
    "SavedUpTo",
    "ServerEvent",
    "SessionEvent",
    "SyncState",
    "Synced",
]

JsonObject = dict[str, object]


class SyncState(Enum):
    """Where the session stands with the server."""

    OFFLINE = "offline"
    """No connection."""
    SYNCING = "syncing"
    """Connected; the step 1 / step 2 exchange is not complete in both directions."""
    SYNCED = "synced"
    """The server's step 2 is applied and ours is queued: both sides have everything."""


@dataclass(frozen=True, slots=True)
class Synced:
    """The document is in sync with the server (once per connection)."""


@dataclass(frozen=True, slots=True)
class SavedUpTo:
    """The server committed the document up to ``state_vector`` (merged over acks)."""

    state_vector: Mapping[int, int]


@dataclass(frozen=True, slots=True)
class PermissionDenied:
    """The server refused something (typically a write); the connection stays open."""

    reason: str


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """A GESS server event (a comment added, a version saved...), as a JSON object."""

    data: JsonObject


@dataclass(frozen=True, slots=True)
class AwarenessChanged:
    """Awareness states appeared, changed or left (local changes included)."""

    added: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()


SessionEvent = Synced | SavedUpTo | PermissionDenied | ServerEvent | AwarenessChanged
