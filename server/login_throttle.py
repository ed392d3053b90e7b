"""The sign-in throttle: how often an address may be tried, and from where.

Three rules, each answered with 429 and ``Retry-After``:

- **Per address and IP address**, a back-off: after ``free_failures`` failed sign-ins for one
  e-mail address from one IP address, each further attempt from there waits 1 s, then 2 s,
  4 s, ... up to ``max_wait``. A success clears it; an hour without a failure (or twice
  ``max_wait``, if longer) forgets it.
- **Per IP address**, a budget of ``ip_failures`` failed sign-ins an hour across all addresses
  (a token bucket refilled continuously), against one machine trying many accounts.
- **Per IP address**, at most ``in_flight`` sign-ins at once: password hashing is deliberately
  slow, and one client firing in parallel must not take every worker from the others (nor
  slip past the counts before its failures are recorded).

There is deliberately no limit per address alone: anyone could then lock a person out of
their account by failing on purpose. The person's own IP address is never slowed by failures
from elsewhere, and a wait never exceeds ``max_wait``. The throttle keys on the address as
typed (normalised), whether or not an account has it, so its answers say nothing about which
accounts exist. IPv6 addresses count per /64, the block one subscriber usually holds.

State lives in this process (bounded: the oldest entries are dropped past ``max_entries``);
with several nodes behind a load balancer each node counts for itself.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LoginThrottle", "Throttled"]

_HOUR = 3600.0


class Throttled(Exception):
    """Too many sign-in attempts: try again in :attr:`retry_after` seconds (a whole number)."""

    def __init__(self, retry_after: float, reason: str) -> None:
        super().__init__(reason)
        self.retry_after = max(1, math.ceil(retry_after))
        self.reason = reason


@dataclass(slots=True)
class _Backoff:
    failures: int = 0
    last_failure: float = 0.0
    blocked_until: float = 0.0


@dataclass(slots=True)
class _Budget:
    tokens: float
    updated: float
    in_flight: int = 0


def client_key(address: str) -> str:
    """The unit an IP address counts in: itself for IPv4, its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LoginThrottle:
    """Decides whether a sign-in may be attempted, and records how it went.

    Call :meth:`begin` before checking a password and :meth:`end` exactly once after it
    (also when the check failed with an error: ``end(..., ok=None)`` records nothing but
    frees the slot).

    Args:
        free_failures: failures per (address, IP) before attempts wait.
        max_wait: the longest wait per (address, IP), in seconds.
        ip_failures: failures per IP address per hour.
        in_flight: sign-ins per IP address at once.
        max_entries: how many addresses and IP addresses are remembered at most.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        *,
        free_failures: int = 5,
        max_wait: float = 900.0,
        ip_failures: int = 100,
        in_flight: int = 4,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._free = free_failures
        self._max_wait = max_wait
        self._forget_after = max(_HOUR, 2 * max_wait)
        self._capacity = float(ip_failures)
        self._refill = ip_failures / _HOUR
        self._in_flight = in_flight
        self._max_entries = max_entries
        self._clock = clock
        self._pairs: OrderedDict[tuple[str, str], _Backoff] = OrderedDict()
        self._clients: OrderedDict[str, _Budget] = OrderedDict()

    def begin(self, address: str, client: str) -> None:
        """Reserve an attempt for ``address`` from the IP address ``client``.

        Raises:
            Throttled: not now; nothing was reserved (do not call :meth:`end`).
        """
        now = self._clock()
        self._forget(now)
        key = client_key(client)
        budget = self._budget(key, now)
        if budget.in_flight >= self._in_flight:
            raise Throttled(1, "too many sign-ins at once from your network")
        if budget.tokens < 1:
            raise Throttled(
                (1 - budget.tokens) / self._refill,
                "too many failed sign-ins from your network",
            )
        backoff = self._pairs.get((address, key))
        if backoff is not None and backoff.blocked_until > now:
            raise Throttled(
                backoff.blocked_until - now, "too many failed sign-ins for this address"
            )
        budget.in_flight += 1

    def end(self, address: str, client: str, *, ok: bool | None) -> None:
        """Record an attempt :meth:`begin` reserved: ``ok`` True (signed in), False (wrong
        address or password) or None (no answer: the check itself failed)."""
        now = self._clock()
        key = client_key(client)
        budget = self._budget(key, now)
        budget.in_flight = max(0, budget.in_flight - 1)
        if ok:
            self._pairs.pop((address, key), None)
        elif ok is False:
            budget.tokens -= 1
            backoff = self._pairs.pop((address, key), None) or _Backoff()
            backoff.failures += 1
            backoff.last_failure = now
            if backoff.failures >= self._free:
                wait = min(self._max_wait, 2.0 ** min(backoff.failures - self._free, 40))
                backoff.blocked_until = now + wait
            self._pairs[(address, key)] = backoff  # newest last: pruning starts at the front
            while len(self._pairs) > self._max_entries:
                self._pairs.popitem(last=False)

    def _budget(self, key: str, now: float) -> _Budget:
        budget = self._clients.get(key)
        if budget is None:
            budget = self._clients[key] = _Budget(self._capacity, now)
            while len(self._clients) > self._max_entries:
                oldest, entry = next(iter(self._clients.items()))
                if entry.in_flight:
                    break  # still counted by a sign-in under way; pruned later
                del self._clients[oldest]
        else:
            self._clients.move_to_end(key)
        budget.tokens = min(self._capacity, budget.tokens + (now - budget.updated) * self._refill)
        budget.updated = now
        return budget

    def _forget(self, now: float) -> None:
        """Drop what no longer matters: pairs quiet for long, budgets full and idle."""
        while self._pairs:
            backoff = next(iter(self._pairs.values()))
            if now - backoff.last_failure < self._forget_after:
                break
            self._pairs.popitem(last=False)
        while self._clients:
            key, budget = next(iter(self._clients.items()))
            full = budget.tokens + (now - budget.updated) * self._refill >= self._capacity
            if not full or budget.in_flight:
                break
            del self._clients[key]
