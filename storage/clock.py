"""Time as the database stores it: timezone-aware UTC.

Timestamps are written by the application in UTC (:func:`utcnow`) and read back through
:func:`as_utc`: SQLite returns them naive, PostgreSQL aware.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["as_utc", "maybe_utc", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A timestamp read from either database, as an aware UTC datetime."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def maybe_utc(value: datetime | None) -> datetime | None:
    """:func:`as_utc` of a nullable timestamp."""
    return None if value is None else as_utc(value)
