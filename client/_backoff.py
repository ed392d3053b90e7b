"""How long to wait before reconnecting."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter.

    The n-th consecutive failed attempt (from 0) waits a random time between half and all of
    ``min(maximum, initial * factor ** n)``: the jitter spreads the reconnections of many
    clients after a server restart; the cap bounds how long a client stays away once the
    server is back. A connection that syncs resets the count.

    Args:
        initial: the first delay, in seconds.
        factor: growth per failed attempt.
        maximum: the cap, in seconds.
    """

    initial: float = 0.1
    factor: float = 2.0
    maximum: float = 5.0

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum or self.factor < 1:
            raise ValueError("need 0 < initial <= maximum and factor >= 1")

    def delay(self, attempt: int) -> float:
        """The delay before attempt ``attempt + 1``, in seconds."""
        try:
            cap = min(self.maximum, self.initial * self.factor ** max(attempt, 0))
        except OverflowError:
            cap = self.maximum
        return random.uniform(cap / 2, cap)
