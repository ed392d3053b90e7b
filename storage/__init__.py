"""Persistence: one schema (:mod:`storage.schema`, with its migrations), the document log
store (the :class:`DocumentStore` port, its SQL and in-memory implementations), the engines,
and the feature queries, which return records (:mod:`storage.records`) inside a
:class:`storage.database.Database` transaction. Knows nothing of WebSockets or HTTP; imports
only ``crdt`` of this project.
"""

# Imported for its side effect: every table joins storage.schema.metadata, which the
# migrations are checked against.
from storage import schema as schema
from storage.engine import create_engine, default_sqlite_url
from storage.memory import MemoryStore
from storage.migrate import upgrade_database
from storage.protocol import DocumentStore
from storage.sql import SqlStore

__all__ = [
    "DocumentStore",
    "MemoryStore",
    "SqlStore",
    "create_engine",
    "default_sqlite_url",
    "upgrade_database",
]
