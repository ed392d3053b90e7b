from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import create_engine


@pytest.mark.parametrize(("durability", "level"), [("power", 2), ("process", 1)])
async def test_durability_sets_sqlite_synchronous(
    tmp_path: Path, durability: str, level: int
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", durability=durability)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(sa.text("PRAGMA synchronous"))
            assert result.scalar_one() == level
    finally:
        await engine.dispose()


def test_unknown_durability_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="durability must be one of power, process"):
        create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", durability="maybe")
