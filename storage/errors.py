"""The errors of the storage layer: what a store or a query raises instead of a driver's error.

They join the one exception tree under :class:`crdt.errors.CollabError`; the database
drivers' own errors are wrapped at this layer's boundary with ``raise ... from exc``.
"""

from __future__ import annotations

from crdt.errors import CollabError

__all__ = ["Conflict", "StorageError"]


class StorageError(CollabError):
    """The store failed to read or write; the operation did not take effect."""


class Conflict(StorageError):
    """A write was refused by a constraint: a unique key is taken, or a row it refers to is
    gone. Nothing of its transaction was stored."""
