"""The one exception tree of GESS Workspaces.

Every layer raises these, never a third-party error: third-party errors are wrapped at the
boundary with ``raise ... from exc`` so that callers handle one family.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "CollabError",
    "DocumentNotFound",
    "DocumentTooLarge",
    "Forbidden",
    "PoisonedUpdate",
    "ProtocolError",
    "StorageError",
]


class CollabError(Exception):
    """Root of every error raised by GESS Workspaces."""


class ProtocolError(CollabError):
    """Bytes from a peer do not form a valid message, update or state vector."""


class PoisonedUpdate(ProtocolError):
    """The CRDT engine failed while integrating an update that decoded fine.

    Part of the update may have been applied: the document must be rebuilt from a trusted
    source (its committed state) before anyone reads it again.
    """


class AuthError(CollabError):
    """The caller is not authenticated, or not allowed to do what it asked."""


class Forbidden(AuthError):
    """The caller is authenticated but its role does not allow what it asked."""


class StorageError(CollabError):
    """The store failed to read or write; the operation did not take effect."""


class DocumentNotFound(CollabError):
    """No document exists under the given id."""


class DocumentTooLarge(CollabError):
    """A change would make a document's stored size exceed the limit; it was not applied."""
