"""The root of GESS Workspaces' exception tree, and the errors of documents and the protocol.

Every layer raises errors of this tree, never a third-party error: third-party errors are
wrapped at the boundary with ``raise ... from exc`` so that callers handle one family. Each
layer owns its own branch: :mod:`storage.errors` (``StorageError``, ``Conflict``),
:mod:`server.errors` (``AuthError``, ``Forbidden``), and the SDK's ``client.AuthError``.
"""

from __future__ import annotations

__all__ = [
    "CollabError",
    "DocumentNotFound",
    "DocumentTooLarge",
    "PoisonedUpdate",
    "ProtocolError",
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


class DocumentNotFound(CollabError):
    """No document exists under the given id."""


class DocumentTooLarge(CollabError):
    """A change would make a document's stored size exceed the limit; it was not applied."""
