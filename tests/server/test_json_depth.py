"""The nesting depth the REST API measures before it parses a body."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from server.api.routing import json_nesting as _nesting

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\ab'), children, max_size=3)
    ),
    max_leaves=20,
)


def depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    return 0


@given(json_values)
def test_the_measured_depth_is_the_nesting_of_the_value(value: object) -> None:
    assert _nesting(json.dumps(value).encode()) == depth(value)
    assert _nesting(json.dumps(value, ensure_ascii=False).encode()) == depth(value)


def test_invalid_json_is_measured_without_error() -> None:
    assert _nesting(b"[" * 10_000) == 10_000
    assert _nesting(b"]]]{") == 0
    assert _nesting(b'"unterminated [[[') == 0
