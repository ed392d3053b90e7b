from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from server.config import Settings, add_settings_arguments, settings_from_args


def parse(argv: list[str], environ: dict[str, str] | None = None) -> Settings:
    parser = argparse.ArgumentParser()
    add_settings_arguments(parser)
    return settings_from_args(parser.parse_args(argv), environ or {})


def test_defaults() -> None:
    settings = parse([])
    assert (settings.host, settings.port, settings.data_dir) == (
        "127.0.0.1",
        8000,
        Path("gess-data"),
    )
    assert settings.database_url is None
    assert settings.is_loopback


def test_flag_wins_over_environment_which_wins_over_default() -> None:
    environ = {"GESS_PORT": "9001", "GESS_DATA_DIR": "/srv/gess", "GESS_LOG_LEVEL": "DEBUG"}
    settings = parse(["--port", "9002"], environ)
    assert settings.port == 9002
    assert settings.data_dir == Path("/srv/gess")
    assert settings.log_level == "debug"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "http"], "--port: 'http' is not a valid int"),
        (["--port", "70000"], "port must be between 1 and 65535"),
        (["--log-level", "loud"], "log level must be one of"),
        (["--compact-threshold", "0"], "compact threshold must be positive"),
        (["--request-timeout", "0"], "request timeout must be positive"),
        (["--max-presence-bytes", "0"], "max presence bytes must be positive"),
        (["--max-connections-per-ip", "-1"], "must be zero \\(no limit\\) or positive"),
        (["--max-messages-per-second", "lots"], "not a valid float"),
    ],
)
def test_bad_values_are_named(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse(argv)


@pytest.mark.parametrize(
    ("host", "loopback"), [("localhost", True), ("::1", True), ("0.0.0.0", False)]
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert Settings(host=host).is_loopback is loopback


def test_limits_read_their_variables_and_zero_turns_them_off() -> None:
    environ = {
        "GESS_MAX_MESSAGES_PER_SECOND": "0",
        "GESS_MAX_CONNECTIONS_PER_ACCOUNT": "3",
        "GESS_PRESENCE_PER_SECOND": "2.5",
    }
    settings = parse(["--max-bytes-per-second", "4096"], environ)
    assert settings.max_messages_per_second == 0
    assert settings.max_connections_per_account == 3
    assert settings.presence_per_second == 2.5
    assert settings.max_bytes_per_second == 4096
    assert (settings.request_timeout, settings.max_presence_bytes) == (10.0, 8192)
