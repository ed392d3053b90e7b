"""Expired tokens leave the database: when the node starts, then every hour.

An expired session or personal token is refused the moment it expires (the query that
resolves tokens compares ``expires_at``); deleting it afterwards only bounds the table, which
otherwise grows by a row per sign-in for ever. Any node may purge; several doing it at once
delete the same rows, which is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Final

from crdt import StorageError
from storage.accounts import Database, utcnow
from storage.people import purge_expired_tokens

__all__ = ["PURGE_SECONDS", "TokenPurger"]

logger = logging.getLogger("gess.accounts")

PURGE_SECONDS: Final = 3600.0
"""How often a running node purges."""


class TokenPurger:
    """An async context manager: entering purges once, then a task purges every ``interval``
    seconds until the context exits.

    Args:
        database: where the tokens are.
        interval: seconds between purges while running.
    """

    def __init__(self, database: Database, *, interval: float = PURGE_SECONDS) -> None:
        self._database = database
        self._interval = interval
        self._tasks: asyncio.TaskGroup | None = None
        self._stop = asyncio.Event()

    async def purge(self) -> int:
        """Delete the tokens expired by now; how many. A database failure is logged, not
        raised: the next round tries again.
        """
        try:
            async with self._database.transaction() as connection:
                purged = await purge_expired_tokens(connection, utcnow())
        except StorageError as exc:
            logger.warning("could not purge expired tokens: %s", exc)
            return 0
        if purged:
            logger.info("purged %d expired tokens", purged)
        return purged

    async def __aenter__(self) -> TokenPurger:
        await self.purge()
        self._tasks = asyncio.TaskGroup()
        await self._tasks.__aenter__()
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
            if not self._stop.is_set():
                await self.purge()
