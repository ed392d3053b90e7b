"""The public surface of crdt: a sorted ``__all__`` whose every name resolves."""

from __future__ import annotations

import importlib
import pkgutil
import re
import types

import pytest

import crdt


def isort_key(name: str) -> tuple[int, list[object]]:
    """ruff's RUF022 "isort-style" order: CONSTANTS, then Classes, then functions; digits
    compared as numbers."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def is_sorted(names: list[str]) -> bool:
    """Sorted plainly or isort-style (the order ``ruff check --select RUF022 --fix`` gives)."""
    return names == sorted(names) or names == sorted(names, key=isort_key)


MODULES = [crdt] + [
    importlib.import_module(f"crdt.{info.name}")
    for info in pkgutil.iter_modules(crdt.__path__)
    if not info.name.startswith("_")
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_all_is_sorted_unique_and_resolves(module: types.ModuleType) -> None:
    names = module.__all__
    assert is_sorted(names), names
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(module, name) is not None, name


def test_package_exports_every_public_name() -> None:
    public = {
        name
        for name, value in vars(crdt).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(crdt.__all__)


@pytest.mark.parametrize("name", crdt.__all__)
def test_exported_names_belong_to_crdt(name: str) -> None:
    value = getattr(crdt, name)
    if isinstance(value, types.UnionType):
        assert all(arg.__module__.startswith("crdt") for arg in value.__args__)
        return
    module = getattr(value, "__module__", None)
    assert module is None or module.startswith("crdt"), f"{name} comes from {module}"
