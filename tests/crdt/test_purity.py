"""crdt/ is pure: it imports no I/O, event loop, database or web framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import crdt

BANNED = {
    "aiosqlite",
    "anyio",
    "asyncio",
    "asyncpg",
    "httpx",
    "redis",
    "socket",
    "sqlalchemy",
    "sqlmodel",
    "starlette",
    "trio",
    "uvicorn",
    "websockets",
}
"""Top-level packages that crdt/ must never import."""

SOURCES = sorted(Path(crdt.__file__).parent.rglob("*.py"))


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", None))
            in {"__import__", "import_module"}
        ):
            pytest.fail(f"{path.name}: dynamic import at line {node.lineno}")
    return roots


def test_sources_were_found() -> None:
    assert {p.name for p in SOURCES} >= {"protocol.py", "awareness.py", "document.py"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_io_imports(path: Path) -> None:
    assert imported_roots(path) & BANNED == set()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_only_stdlib_pycrdt_and_itself(path: Path) -> None:
    import sys

    allowed = set(sys.stdlib_module_names) | {"pycrdt", "crdt", "__future__"}
    assert imported_roots(path) - allowed == set()


def test_the_check_catches_a_banned_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from asyncio import sleep\nimport websockets.asyncio.client\n")
    assert imported_roots(bad) & BANNED == {"asyncio", "websockets"}
