"""Expired tokens leave the database: when the node starts, then every hour.

An expired session or personal token is refused the moment it expires (the query that
resolves tokens compares ``expires_at``); deleting it afterwards only bounds the table, which
otherwise grows by a row per sign-in for ever. Any node may purge; several doing it at once
delete the same rows, which is harmless.
"""

from __future__ import annotations

import logging
from typing import Final, Self

from server.periodic import Periodic
from storage.clock import utcnow
from storage.database import Database
from storage.errors import StorageError
from storage.people import purge_expired_tokens

__all__ = ["PURGE_SECONDS", "TokenPurger"]

logger = logging.getLogger("gess.accounts")

PURGE_SECONDS: Final = 3600.0
"""How often a running node purges."""


class TokenPurger(Periodic):
    """An async context manager: entering purges once, then a task purges every ``interval``
    seconds until the context exits.

    Args:
        database: where the tokens are.
        interval: seconds between purges while running.
    """

    def __init__(self, database: Database, *, interval: float = PURGE_SECONDS) -> None:
        super().__init__(interval)
        self._database = database

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

    async def __aenter__(self) -> Self:
        await self.purge()
        return await super().__aenter__()

    async def tick(self) -> None:
        await self.purge()
