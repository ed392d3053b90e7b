"""Rate and count limits for client connections: pure bookkeeping, no I/O.

A :class:`TokenBucket` allows a sustained rate with a burst; :class:`MessageRate` holds the
two buckets of one socket (messages and bytes per second); :class:`Counter` counts open
sockets per key (an IP address, an account) against a cap. Callers pass the time (a
monotonic clock reading), so all of it is tested without waiting.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

__all__ = ["Counter", "MessageRate", "RateSettings", "TokenBucket"]

BURST_SECONDS = 10.0
"""A socket may send this many seconds' worth of its rate at once (a paste, a reconnect's
catch-up) before the rate applies."""


class TokenBucket:
    """A rate with a burst: ``capacity`` tokens, refilled at ``rate`` per second.

    Args:
        rate: tokens added per second (> 0).
        capacity: the most tokens held; the bucket starts full.
        now: the current time, in seconds of a monotonic clock.
    """

    __slots__ = ("_capacity", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("a token bucket needs a positive rate and capacity")
        self._rate = rate
        self._capacity = capacity
        self._tokens = capacity
        self._stamp = now

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now

    def take(self, amount: float, now: float) -> bool:
        """Take ``amount`` tokens if the bucket holds them; False (and nothing taken) if not."""
        self._refill(now)
        if amount > self._tokens:
            return False
        self._tokens -= amount
        return True

    def wait_time(self, amount: float, now: float) -> float:
        """Seconds until ``amount`` tokens are held (0 if they are now)."""
        self._refill(now)
        missing = amount - self._tokens
        return 0.0 if missing <= 0 else missing / self._rate


@dataclass(frozen=True, slots=True)
class RateSettings:
    """The per-socket rates; 0 turns a limit off."""

    messages_per_second: float
    bytes_per_second: float
    max_message_bytes: int
    """A single message of this size must always fit in a full byte bucket."""

    @property
    def limited(self) -> bool:
        """Whether either rate is on (with both off, every message is within them)."""
        return self.messages_per_second > 0 or self.bytes_per_second > 0


class MessageRate:
    """The message and byte buckets of one socket, as one small object (a node holds one per
    socket that has sent anything).

    Bursts of :data:`BURST_SECONDS` worth of each rate are allowed; the byte bucket also
    always holds at least one message of the largest allowed size, so a big paste on a quiet
    socket passes whatever the rate. Both buckets start full.
    """

    __slots__ = ("_byte_tokens", "_message_tokens", "_settings", "_stamp")

    def __init__(self, settings: RateSettings, now: float) -> None:
        self._settings = settings
        self._message_tokens = _message_capacity(settings)
        self._byte_tokens = _byte_capacity(settings)
        self._stamp = now

    def admit(self, size: int, now: float) -> str | None:
        """Count one message of ``size`` bytes; None if it is within the rates, else why not
        (a reason a person can read)."""
        settings = self._settings
        elapsed = now - self._stamp
        if elapsed > 0:
            self._stamp = now
            self._message_tokens = min(
                _message_capacity(settings),
                self._message_tokens + elapsed * settings.messages_per_second,
            )
            self._byte_tokens = min(
                _byte_capacity(settings), self._byte_tokens + elapsed * settings.bytes_per_second
            )
        if settings.messages_per_second > 0:
            if self._message_tokens < 1:
                rate = settings.messages_per_second
                return f"too many messages: more than {rate:g} messages per second"
        if settings.bytes_per_second > 0 and size > self._byte_tokens:
            rate = settings.bytes_per_second
            return f"too much data: more than {rate:g} bytes per second"
        self._message_tokens -= 1
        self._byte_tokens -= size
        return None


def _message_capacity(settings: RateSettings) -> float:
    return settings.messages_per_second * BURST_SECONDS


def _byte_capacity(settings: RateSettings) -> float:
    return max(settings.bytes_per_second * BURST_SECONDS, settings.max_message_bytes)


class Counter:
    """Open sockets per key, each key capped at ``limit`` (0: no cap)."""

    __slots__ = ("_counts", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[Hashable, int] = {}

    def acquire(self, key: Hashable) -> bool:
        """Count one more socket for ``key``; False (and nothing counted) at the cap."""
        count = self._counts.get(key, 0)
        if self.limit and count >= self.limit:
            return False
        self._counts[key] = count + 1
        return True

    def release(self, key: Hashable) -> None:
        """Forget one socket of ``key``; call once per successful :meth:`acquire`."""
        count = self._counts.get(key, 0) - 1
        if count > 0:
            self._counts[key] = count
        else:
            self._counts.pop(key, None)

    def __getitem__(self, key: Hashable) -> int:
        return self._counts.get(key, 0)
