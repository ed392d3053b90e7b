"""The ``gess`` command: ``gess serve`` runs a node, ``gess db upgrade`` migrates the database,
``gess users create|list|set-role`` manages accounts."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import socket
import sys
from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette

from server.accounts import RedactTokens
from server.app import create_app, database_url
from server.config import Settings, add_settings_arguments, settings_from_args
from server.listener import guarded_protocol
from server.session import Hub
from server.users_cli import add_users_commands, run_users_command
from storage import upgrade_database
from storage.engine import parse_database_url

__all__ = ["main"]

logger = logging.getLogger("gess")

_GC_THRESHOLDS = (100_000, 50, 1000)
"""Cyclic GC thresholds of a running node (CPython's default: 700, 10, 10).

With the default, a storm of thousands of connections runs a young collection every 700
allocations, and a full one, walking every live connection, again and again: 10,000
connections took 9.3 s to open instead of 5.8 s, at the same memory. Most of a
connection's objects are freed by reference counting anyway.
"""


class _Server(uvicorn.Server):
    """uvicorn, but shutdown first commits pending edits and closes sockets with 1001.

    uvicorn's own shutdown closes WebSockets with 1012 before the app hears of it; closing
    the rooms first lets every pending commit land and every client read a proper reason.
    """

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self._app = app

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # What exists before the node starts (modules, the app, the settings) lives as long
        # as the process: move it out of the collector's sight, so collections only walk what
        # connections and rooms create afterwards. Before listening, not after: a full
        # collection takes tens of milliseconds, which the first clients would wait for (it
        # tripled the time a client took to sync a document just after a restart).
        gc.collect()
        gc.freeze()
        gc.set_threshold(*_GC_THRESHOLDS)
        await super().startup(sockets)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        hub: Hub | None = getattr(self._app.state, "hub", None)
        if hub is not None:
            await hub.rooms.shutdown()
        await super().shutdown(sockets)


def _serve(settings: Settings) -> int:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        lifespan="on",
        # uvicorn rewrites the scheme and client address from the trusted proxies' headers;
        # passed explicitly so that only GESS_FORWARDED_ALLOW_IPS configures it.
        proxy_headers=settings.forwarded_allow_ips != "none",
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # Our protocol adds the request timeout and the cap on pending connections; the
        # connection cap itself is the app's (uvicorn's limit_concurrency would also refuse
        # /healthz, and does not apply to WebSockets at all).
        # It also hands document sockets (/ws/) to the node's own WebSocket layer.
        http=guarded_protocol(app.state.connection_guard, app.state.sockets),
    )
    redact = RedactTokens()
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(redact)
    server = _Server(config, app)
    if settings.anonymous:
        logger.warning(
            "starting in ANONYMOUS MODE (--anonymous): there are no accounts on the "
            "WebSocket, every connection may read and edit every document%s",
            ""
            if settings.is_loopback
            else f", and {settings.host} is reachable from other machines (--force)",
        )
    logger.info(
        "GESS Workspaces node %s on http://%s:%d (database: %s)",
        settings.node_id,
        settings.host,
        settings.port,
        _redact(database_url(settings)),
    )
    server.run()
    return 0 if server.started else 1


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gess", description="GESS Workspaces server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run a server node")
    add_settings_arguments(serve)
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="bring the schema up to date, then exit")
    add_settings_arguments(upgrade)
    users = commands.add_parser("users", help="manage accounts")
    for command in add_users_commands(users):
        add_settings_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gess`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        print(f"gess: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    url = database_url(settings)
    try:
        parse_database_url(url)
    except ValueError as exc:
        print(f"gess: --database-url: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings)
    if args.command == "users":
        return run_users_command(args, url)
    asyncio.run(upgrade_database(url))
    print(f"database {_redact(url)} is up to date")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
