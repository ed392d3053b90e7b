"""Alembic environment of the GESS schema.

The application runs migrations through :func:`storage.upgrade_database`, which opens the
connection, takes the migration lock and hands the connection over in
``config.attributes["connection"]``; this file never opens one itself, so there is no
``alembic.ini`` and no URL to keep in sync. Offline mode (``--sql``) renders the SQL script of
a revision range for a DBA to review, given ``sqlalchemy.url`` for the target dialect.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from storage.schema import metadata

config = context.config


def _run_online(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place; batch mode makes later migrations (and
        # any revision a developer autogenerates) copy-and-move tables there instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    # The caller's transaction is already open (and, on PostgreSQL, holds the advisory lock),
    # so this joins it: the whole upgrade commits or rolls back as one.
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("offline migrations need sqlalchemy.url for the target dialect")
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _connection = config.attributes.get("connection")
    if not isinstance(_connection, Connection):
        raise RuntimeError(
            "run migrations with storage.upgrade_database(), which provides the connection"
        )
    _run_online(_connection)
