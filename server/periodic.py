"""A background job that runs every few seconds for as long as its context is open."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self

__all__ = ["Periodic"]


class Periodic:
    """An async context manager owning one task that awaits :meth:`tick` every ``interval``
    seconds, the first time one interval after entering, until the context exits.

    Exiting stops the loop between ticks and waits for a tick under way to finish. A tick
    should handle its own expected failures: an exception ends the loop and is raised from
    ``__aexit__`` (as a task group raises). ``interval <= 0`` starts no task.

    Subclasses implement :meth:`tick`; they may extend ``__aenter__`` (call ``super()``).
    """

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._tasks: asyncio.TaskGroup | None = None
        self._stop = asyncio.Event()

    async def tick(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        self._tasks = asyncio.TaskGroup()
        await self._tasks.__aenter__()
        if self._interval > 0:
            self._tasks.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._tasks is not None
        self._stop.set()
        await self._tasks.__aexit__(exc_type, exc, tb)
        self._tasks = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)
            if self._stop.is_set():
                return
            await self.tick()
