"""The public surface of the SDK: a sorted ``__all__`` whose every name resolves."""

from __future__ import annotations

import types

import pytest

import client
from tests.crdt.test_exports import is_sorted


def test_all_is_sorted_unique_and_resolves() -> None:
    assert is_sorted(client.__all__), client.__all__
    assert len(set(client.__all__)) == len(client.__all__)
    for name in client.__all__:
        assert getattr(client, name) is not None, name


def test_package_exports_every_public_name() -> None:
    public = {
        name
        for name, value in vars(client).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(client.__all__)


@pytest.mark.parametrize("name", client.__all__)
def test_exported_names_are_documented(name: str) -> None:
    assert (getattr(client, name).__doc__ or "").strip(), f"{name} has no docstring"


def test_errors_are_the_crdt_tree() -> None:
    import crdt.errors

    for name in ("CollabError", "DocumentNotFound", "ProtocolError"):
        assert getattr(client, name) is getattr(crdt.errors, name)
    # The SDK's own branch of that tree (crdt owns only document and protocol errors).
    assert issubclass(client.AuthError, crdt.errors.CollabError)
    assert client.AuthError.__module__.startswith("client")
