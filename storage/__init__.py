"""Persistence of documents: the store port, its SQL and in-memory implementations, engines
and migrations. Knows nothing of WebSockets; imports only ``crdt`` of this project.
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
