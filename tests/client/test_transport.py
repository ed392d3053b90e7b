"""The socket URL, the meaning of close codes, and the backoff schedule."""

from __future__ import annotations

import pytest

from client import AuthError, Backoff, CollabError, DocumentNotFound, ProtocolError
from client._transport import close_error, document_uri


@pytest.mark.parametrize(
    ("url", "document_id", "params", "expected"),
    [
        ("ws://h:1/ws", "d", None, "ws://h:1/ws/d?saved=1"),
        ("ws://h:1/ws/", "d", None, "ws://h:1/ws/d?saved=1"),
        (
            "wss://h/base/ws",
            "a b/c",
            {"token": "x y"},
            "wss://h/base/ws/a%20b%2Fc?saved=1&token=x+y",
        ),
        ("ws://h/ws?tenant=1", "d", {"token": "t"}, "ws://h/ws/d?tenant=1&saved=1&token=t"),
    ],
)
def test_document_uri(
    url: str, document_id: str, params: dict[str, str] | None, expected: str
) -> None:
    assert document_uri(url, document_id, params) == expected


@pytest.mark.parametrize(
    ("url", "document_id"),
    [("http://h/ws", "d"), ("h:1/ws", "d"), ("ws:///ws", "d"), ("ws://h/ws", "")],
)
def test_document_uri_rejects(url: str, document_id: str) -> None:
    with pytest.raises(ValueError):
        document_uri(url, document_id)


@pytest.mark.parametrize(
    ("code", "kind", "fatal"),
    [
        (4400, ProtocolError, True),
        (4413, ProtocolError, True),
        (1002, ProtocolError, True),
        (1009, ProtocolError, True),
        (4401, AuthError, True),
        (4403, AuthError, True),
        (4404, DocumentNotFound, True),
        (1000, CollabError, False),
        (1001, CollabError, False),
        (1006, CollabError, False),
        (None, CollabError, False),
        (1011, CollabError, False),
        (1012, CollabError, False),
        (4429, CollabError, False),
        (4500, CollabError, False),
        (4999, CollabError, False),
    ],
)
def test_close_codes(code: int | None, kind: type[CollabError], fatal: bool) -> None:
    error, is_fatal = close_error(code, "why")
    assert type(error) is kind
    assert is_fatal is fatal
    assert "why" in str(error) and str(code or 1006) in str(error)


def test_backoff_grows_is_capped_and_jittered() -> None:
    backoff = Backoff(initial=0.1, factor=2, maximum=1.0)
    for attempt, cap in [(0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (500, 1.0)]:
        delays = {backoff.delay(attempt) for _ in range(50)}
        assert all(cap / 2 <= d <= cap for d in delays), (attempt, delays)
        assert len(delays) > 1
    assert Backoff(factor=1e300, maximum=3).delay(10) <= 3


@pytest.mark.parametrize("kwargs", [{"initial": 0}, {"initial": 2, "maximum": 1}, {"factor": 0.5}])
def test_backoff_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)
