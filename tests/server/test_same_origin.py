"""The Origin check of cookie-authenticated calls and sockets: scheme, host and port."""

from __future__ import annotations

import pytest

from server.accounts import same_origin


@pytest.mark.parametrize(
    ("origin", "scheme", "host"),
    [
        ("http://gess.example", "http", "gess.example"),
        ("https://gess.example", "https", "gess.example"),
        ("https://gess.example", "wss", "gess.example"),
        ("http://127.0.0.1:8000", "ws", "127.0.0.1:8000"),
        ("https://GESS.example:443", "https", "gess.example"),
        ("http://gess.example", "http", "gess.example:80"),
        ("http://[::1]:8000", "http", "[::1]:8000"),
    ],
)
def test_the_same_origin(origin: str, scheme: str, host: str) -> None:
    assert same_origin(origin, scheme, host)


@pytest.mark.parametrize(
    ("origin", "scheme", "host"),
    [
        ("https://gess.example", "http", "gess.example"),
        ("http://gess.example", "https", "gess.example"),
        ("http://gess.example", "wss", "gess.example"),
        ("https://gess.example:8443", "https", "gess.example"),
        ("https://gess.example.evil.example", "https", "gess.example"),
        ("https://evil.example", "https", "gess.example"),
        ("null", "https", "gess.example"),
        ("", "https", "gess.example"),
        ("https://gess.example/path", "https", "gess.example"),
        ("https://gess.example:99999", "https", "gess.example"),
        ("https://user@gess.example", "https", "gess.example"),
        ("https://gess.example", "https", ""),
    ],
)
def test_another_origin(origin: str, scheme: str, host: str) -> None:
    assert not same_origin(origin, scheme, host)
