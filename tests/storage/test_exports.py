"""The public surface of ``storage`` is exactly what ``__all__`` says."""

from __future__ import annotations

import storage


def test_all_is_sorted_and_exact():
    assert storage.__all__ == sorted(storage.__all__)
    assert set(storage.__all__) == {
        "DocumentStore",
        "MemoryStore",
        "SqlStore",
        "create_engine",
        "default_sqlite_url",
        "upgrade_database",
    }


def test_every_exported_name_exists():
    for name in storage.__all__:
        assert getattr(storage, name).__module__.startswith("storage.")
