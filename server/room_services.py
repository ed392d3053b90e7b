"""What every room of a node shares: the store, the broker, metrics, limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.broker import Broker
from server.metrics import Metrics
from server.presence import PresenceClaims, PresenceLimits
from storage import DocumentStore
from storage.refusals import MemoryRefusals, Refusals

__all__ = ["RoomServices"]


@dataclass(frozen=True, slots=True)
class RoomServices:
    """What every room of a node shares."""

    store: DocumentStore
    broker: Broker
    metrics: Metrics
    origin: str
    """This node's name in envelopes: node id and boot, unique per process."""
    max_pending_bytes: int = 64 * 1024 * 1024
    """Uncommitted bytes beyond which writers wait for a commit."""
    refusals: Refusals = field(default_factory=MemoryRefusals)
    """Where refused changes are remembered (:mod:`server.refused`)."""
    max_document_bytes: int = 64 * 1024 * 1024
    """The most bytes a document may take in the store (snapshot plus log)."""
    presence: PresenceLimits = PresenceLimits()
    """Bounds on each connection's presence."""
    claims: PresenceClaims = field(default_factory=PresenceClaims)
    """Awareness client ids reserved for the account that last held them, across rooms."""
