"""The SDK's own error: the server would not let this client in, or refused its change.

The rest of what the SDK raises is the document and protocol tree of :mod:`crdt.errors`.
"""

from __future__ import annotations

from crdt.errors import CollabError

__all__ = ["AuthError"]


class AuthError(CollabError):
    """The server refused us: not signed in (4401, HTTP 401), not allowed (4403, HTTP 403),
    or a change refused for lack of write access."""
