"""How the SQL document store runs one transaction: its deadline, and the errors it may raise.

:func:`shielded` is the scope every transaction of :class:`storage.sql.SqlStore` runs in;
``DATABASE_ERRORS`` and ``INTEGRITY_ERRORS`` are what the store catches around them.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager

import anyio
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

__all__ = ["DATABASE_ERRORS", "INTEGRITY_ERRORS", "TRANSACTION_DEADLINE", "shielded"]

# What the driver may raise besides SQLAlchemy's wrapped errors: a refused or dropped socket,
# the deadline below (TimeoutError is an OSError), or the SQLite appender's sqlite3 errors.
DATABASE_ERRORS = (SQLAlchemyError, OSError, sqlite3.Error)
INTEGRITY_ERRORS = (IntegrityError, sqlite3.IntegrityError)

# The longest one transaction may take once started, cancellation or not.
TRANSACTION_DEADLINE = 60.0


def shielded() -> AbstractContextManager[anyio.CancelScope]:
    """Run one transaction to its end even if the caller is cancelled meanwhile.

    Cancelling a driver call midway leaves its connection in an unknown state: SQLAlchemy then
    tears the connection down, and with aiosqlite under anyio's level-triggered cancellation
    that teardown can wait forever (it stops the driver's thread twice). A transaction is
    short and bounded (SQLite's busy timeout, the deadline), so the cancellation takes effect
    when it is over instead, and the outcome of a commit is never left unknown.

    Raises:
        TimeoutError: the transaction outlived the deadline.
    """
    return anyio.fail_after(TRANSACTION_DEADLINE, shield=True)
