from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--database-url", "mysql://db/gess"], "unsupported database URL"),
        (["serve", "--port", "abc"], "--port: 'abc' is not a valid int"),
        (["db", "upgrade", "--log-level", "chatty"], "log level must be one of"),
    ],
)
def test_bad_settings_exit_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_db_upgrade_creates_the_embedded_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade", "--data-dir", str(tmp_path / "data")]) == 0
    assert (tmp_path / "data" / "gess.db").is_file()
    assert "is up to date" in capsys.readouterr().out
    assert main(["db", "upgrade", "--data-dir", str(tmp_path / "data")]) == 0
