"""Fixtures of the account tests: one server with accounts per module and storage engine.

Starting a server and registering the team takes a few seconds, so the many table-driven
cases of a module share them; each case creates the workspaces and documents it changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.support import ACCOUNT_ARGS, Team, make_team
from tests.integration.server import GessServer
from tests.pg import PostgresServer, create_database, drop_database, run_async


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def accounts_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GessServer]:
    """A ``gess serve`` with accounts on the WebSocket and open registration, shared by the
    tests of a module; on SQLite, then on PostgreSQL."""
    database_url = None
    postgres: PostgresServer | None = None
    if request.param == "postgres":
        # Skipped (failed under CI) by the session fixture when there is no PostgreSQL.
        postgres = request.getfixturevalue("postgres")
        assert postgres is not None
        database_url = create_database(postgres.admin_url)
    directory = tmp_path_factory.mktemp(f"accounts-{request.param}")
    server = GessServer(
        data_dir=directory / "data",
        log_path=directory / "server.log",
        database_url=database_url,
        extra_args=ACCOUNT_ARGS,
        anonymous=False,
    )
    failed_before = request.session.testsfailed
    run_async(server.start)
    try:
        yield server
    finally:
        run_async(server.stop)
        if request.session.testsfailed > failed_before:
            print(f"\n===== log of the accounts server ({request.param}) =====")
            print(_tail(server.log_path))
        if postgres is not None and database_url is not None:
            drop_database(postgres.admin_url, database_url)


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-20000:]
    except FileNotFoundError:
        return ""


@pytest.fixture(scope="module")
def team(accounts_server: GessServer) -> Team:
    """Owner, editor, commenter, viewer, an outsider and a spare account on the server."""
    return run_async(lambda: make_team(accounts_server.http_url))
