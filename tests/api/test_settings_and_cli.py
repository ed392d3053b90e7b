"""The settings accounts add, and ``gess users`` for operators."""

from __future__ import annotations

import argparse
import asyncio
import io
from pathlib import Path

import pytest

from server.cli import main
from server.config import Settings, add_settings_arguments, settings_from_args
from tests.api.support import Api
from tests.conftest import StartServer


async def run(argv: list[str]) -> int:
    """``gess ...`` in a worker thread: it runs an event loop of its own."""
    return await asyncio.to_thread(main, argv)


def parse(argv: list[str], environ: dict[str, str] | None = None) -> Settings:
    parser = argparse.ArgumentParser()
    add_settings_arguments(parser)
    return settings_from_args(parser.parse_args(argv), environ or {})


def test_accounts_are_on_by_default_and_registration_is_by_invitation() -> None:
    settings = parse([])
    assert (settings.anonymous, settings.registration, settings.session_days) == (
        False,
        "invite",
        14.0,
    )


def test_flags_and_variables() -> None:
    environ = {"GESS_ANONYMOUS": "true", "GESS_REGISTRATION": "OPEN", "GESS_SESSION_DAYS": "2"}
    settings = parse([], environ)
    assert (settings.anonymous, settings.registration, settings.session_days) == (True, "open", 2)
    assert parse(["--registration", "invite"], environ).registration == "invite"
    with pytest.raises(ValueError, match="--anonymous: 'maybe' is not a valid bool"):
        parse([], {"GESS_ANONYMOUS": "maybe"})
    with pytest.raises(ValueError, match="registration must be one of open, invite"):
        parse(["--registration", "closed"])


def test_anonymous_mode_is_refused_off_loopback_unless_forced(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ValueError, match="refused on a host other than loopback"):
        Settings(host="0.0.0.0", anonymous=True)
    assert Settings(host="0.0.0.0", anonymous=True, force=True).anonymous
    assert Settings(host="::1", anonymous=True).anonymous
    assert main(["serve", "--anonymous", "--host", "0.0.0.0"]) == 2
    assert "unless --force is given" in capsys.readouterr().err


async def test_operators_manage_accounts_from_the_command_line(
    tmp_path: Path,
    gess_server: StartServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-passphrase\n"))
    create = ["users", "create", "--email", "Ops@Example.org", "--name", "Ops", "--password-stdin"]
    assert await run([*create, *data]) == 0
    assert "created admin ops@example.org" in capsys.readouterr().out  # the first is admin
    monkeypatch.setattr("sys.stdin", io.StringIO("another-passphrase\n"))
    assert (
        await run(
            [
                "users",
                "create",
                "--email",
                "b@example.org",
                "--name",
                "B",
                "--password-stdin",
                *data,
            ]
        )
        == 0
    )
    assert "created user b@example.org" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        await run(
            [
                "users",
                "create",
                "--email",
                "c@example.org",
                "--name",
                "C",
                "--password-stdin",
                *data,
            ]
        )
        == 2
    )
    assert "at least 8 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("yet-another-one\n"))
    assert await run([*create, *data]) == 1
    assert "exists" in capsys.readouterr().err

    assert await run(["users", "set-role", "b@example.org", "admin", *data]) == 0
    assert await run(["users", "set-role", "nobody@example.org", "admin", *data]) == 1
    capsys.readouterr()
    assert await run(["users", "list", *data]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in listing[1:]] == [
        ["b@example.org", "admin"],
        ["ops@example.org", "admin"],
    ]

    server = await gess_server(data_dir=tmp_path / "data", anonymous=False)
    session = await Api(server.http_url).ok(
        "POST", "/api/auth/login", {"email": "ops@example.org", "password": "s3cret-passphrase"}
    )
    assert session["user"]["instance_role"] == "admin"
