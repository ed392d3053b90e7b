"""The one registry of REST operations; the route modules declare theirs on it."""

from __future__ import annotations

from server.api.framework import Api

__all__ = ["api"]

api = Api()
