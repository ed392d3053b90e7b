"""The errors the server's own layer raises: who may do what.

They join the one exception tree under :class:`crdt.errors.CollabError`. The socket endpoint
turns them into close codes (4401, 4403), the REST API into status codes (401, 403).
"""

from __future__ import annotations

from crdt.errors import CollabError

__all__ = ["AuthError", "Forbidden"]


class AuthError(CollabError):
    """The caller is not authenticated, or not allowed to do what it asked."""


class Forbidden(AuthError):
    """The caller is authenticated but its role does not allow what it asked."""
